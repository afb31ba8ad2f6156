# %% [markdown]
# # 05 · Boundary predictions: what the MLM and SBO heads guess
#
# **What you will learn**
# - how to load the bundled `small` checkpoint and mask any span of any sentence;
# - the top-5 guesses of the MLM head (which sees the whole sentence at the token's own position) and of the SBO head
#   (which sees only the two boundary tokens and the position) at every position of the span;
# - how accuracy falls with the position inside the span and with the span's length, for both heads.

# %%
%matplotlib inline
from spanbert_edu import load_pretrained
from spanbert_edu.checkpoint import BUNDLED, read_config
from spanbert_edu.presentation.plots import plot_accuracy_by_position
from spanbert_edu.presentation.predict import format_predictions, heldout_sentences, predict_span
from spanbert_edu.presentation.widgets import build_boundary_prediction_widget

model, tokenizer = load_pretrained()
meta = read_config(BUNDLED)
m = meta["metrics"]
print(f"bundled small model: {model.num_parameters() / 1e6:.2f} M parameters, trained {meta['step']} steps "
      f"on {meta['train']['corpus']!r}")
print(f"held-out (all held-out blocks, SpanBERT masks from seed {m['eval_seed']}): "
      f"MLM accuracy {m['mlm_acc']:.3f} (top-5 {m['mlm_top5']:.3f}), "
      f"SBO accuracy {m['sbo_acc']:.3f} (top-5 {m['sbo_top5']:.3f})")

# %% [markdown]
# ## 1. Spans of held-out sentences, drawn at random
#
# Sentences and spans are drawn at random (seed 0) from the held-out documents, which the model never trained on, so
# these are neither cherry-picked nor memorised. `*` marks the right answer; probabilities are the heads' softmax
# outputs. Keep the overall numbers printed above in mind: about one first guess in four is right (two in five are among
# the top five), so expect misses.

# %%
# NBVAL_CHECK_OUTPUT
for sentence, span in heldout_sentences(5, seed=0):
    print(format_predictions(predict_span(model, tokenizer, sentence, span)), "\n")

# %% [markdown]
# ## 2. Curated sentences
#
# These we wrote to show typical behaviour (curated, not random): a span whose boundaries pin it down, and one they do not.

# %%
# NBVAL_CHECK_OUTPUT
print(format_predictions(predict_span(model, tokenizer, "The return value of the function is a new list object.", "new list")))
print()
print(format_predictions(predict_span(model, tokenizer, "Raises a KeyError if the key is not found in the dictionary.", "is not found")))

# %% [markdown]
# ## 3. Accuracy inside the span
#
# Measured on the held-out documents when the checkpoint was exported (`spanbert-edu export`), masks from a fixed seed;
# held-out sentences that also stand word for word in a training document are left out (44 of 957). Each point
# carries a 95% interval computed from its number of targets (the MLM counts are printed under the axis). The
# targets of one span are not independent, so the true intervals are somewhat wider than drawn.
#
# What the plots show: position 1 sits next to the left boundary, and both heads do best there (MLM 0.34 on 784
# targets, SBO 0.29 on 747). From position 2 on, the intervals overlap, so the plot cannot say whether accuracy keeps
# falling with the position. Past position 8, fewer than 100 targets remain, and the points there are noise. By
# span length, too, only the short spans have enough targets to compare.

# %%
# NBVAL_CHECK_OUTPUT
m = meta["metrics"]
print(f"held-out MLM accuracy {m['mlm_acc']:.3f} (top-5 {m['mlm_top5']:.3f}), SBO accuracy {m['sbo_acc']:.3f} "
      f"(top-5 {m['sbo_top5']:.3f}) ({m['mlm_targets']} MLM and {m['sbo_targets']} SBO targets)")

# %%
plot_accuracy_by_position(m, "by_position")

# %%
plot_accuracy_by_position(m, "by_length")

# %% [markdown]
# ## 4. Try it
#
# Type a sentence and the words to mask.

# %%
build_boundary_prediction_widget(model, tokenizer, "Lists are mutable sequences, typically used to store collections of homogeneous items.", "mutable sequences")

# %% [markdown]
# ## 5. With the authors' SpanBERT-large
#
# The authors released SpanBERT-large (24 layers, 1024 wide, about 2.4 M steps of 256 x 512 tokens on BERT's corpus,
# BooksCorpus and English Wikipedia: 800 M and 2,500 M words by the BERT paper's count) with
# **both** heads, as a raw fairseq file of about 1.3 GB. `load_pretrained("spanbert-large-cased-with-heads")`
# downloads it once into the Hugging Face cache (with a progress bar, resuming an interrupted download, and a SHA-256
# check on every later load) and converts it with `from_authors_checkpoint`. When the file is there, the cell below
# shows its two heads next to the bundled model's on the same sentences as section 2. This notebook never downloads
# it by itself: without the file, the cell says how to get it.

# %%
from spanbert_edu.interop.download import RELEASES, cache_dir, cached

RELEASE = "spanbert-large-cased-with-heads"
path = cached(RELEASE)
if path is None:
    url, filename = RELEASES[RELEASE]
    print(f"The authors' SpanBERT-large is not on this machine. To get it (about 1.3 GB), either\n"
          f"  - run: from spanbert_edu import load_pretrained; load_pretrained({RELEASE!r})\n"
          f"  - or download {url} with a browser and put it at\n"
          f"    {cache_dir() / filename}\n"
          f"then re-run this cell.")
else:
    large, large_tokenizer = load_pretrained(RELEASE)
    for sentence, span in [("The return value of the function is a new list object.", "new list"),
                           ("Raises a KeyError if the key is not found in the dictionary.", "is not found")]:
        for name, (m_, t_) in {"bundled small": (model, tokenizer), "SpanBERT-large": (large, large_tokenizer)}.items():
            print(f"--- {name}")
            print(format_predictions(predict_span(m_, t_, sentence, span)))
        print()

# %% [markdown]
# ## Exercises
# 1. Find a span the SBO head gets right and the MLM head gets wrong. What in the boundaries made it easy?
# 2. Mask a long span (six or more words). At which positions does each head fail first?
# 3. The released `SpanBERT/spanbert-base-cased` has no MLM or SBO head (notebook 03's heads would be trained from scratch on top
#    of it). Sketch how you would train only the heads on a frozen encoder with `from_hf_bert`.
