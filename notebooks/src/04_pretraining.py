# %% [markdown]
# # 04 · Pretraining: one sequence, no NSP
#
# **What you will learn**
# - what BERT's Next Sentence Prediction (NSP) was, why SpanBERT drops it, and ALBERT's Sentence Order Prediction (SOP);
# - how single-sequence examples are packed (`[CLS] block [SEP]`, whole sentences of one document);
# - a live pretraining run of the `tiny` model with its MLM, SBO and total losses, next to the bundled `small` run.

# %%
%matplotlib inline
import textwrap

import ipywidgets as W
from IPython.display import display

from spanbert_edu import load_corpus, load_tokenizer, pack_documents, pretrain
from spanbert_edu.checkpoint import BUNDLED
from spanbert_edu.data.pairs import pack_pairs
from spanbert_edu.presentation.plots import plot_loss_curves, read_metrics
from spanbert_edu.presentation.widgets import build_loss_curve_widget

tokenizer = load_tokenizer()
docs = load_corpus("default", "heldout")[:4]

# %% [markdown]
# ## 1. Two segments + NSP, or one long sequence
#
# BERT trained on pairs `[CLS] A [SEP] B [SEP]`: half the time B really follows A, half the time B comes from another
# document, and a classifier on `[CLS]` predicts which (NSP). SpanBERT found that training on **one** sequence of up to 512
# tokens, with no NSP, works better (Table 7 of the paper): the model sees longer contexts, and the random B from another
# document is noise for the masked-LM objective. ALBERT later argued NSP is too easy (topic alone solves it) and replaced
# it with SOP: A and B are always consecutive, and sometimes swapped.

# %%
# NBVAL_CHECK_OUTPUT
single = pack_documents(docs, tokenizer, max_length=64)
nsp = pack_pairs(docs, tokenizer, max_length=64, objective="nsp", seed=0)
sop = pack_pairs(docs, tokenizer, max_length=64, objective="sop", seed=0)
wrap = lambda text: textwrap.fill(text, 110, initial_indent="  ", subsequent_indent="  ")
print(f"single sequence ({len(single[0]['input_ids'])} tokens; a block holds whole sentences, up to 64 tokens):")
print(wrap(tokenizer.decode(single[0]["input_ids"])))
pair, types = nsp[0]["input_ids"], nsp[0]["token_type_ids"]
n_a = types.index(1)                                # segment A: [CLS] ... [SEP], segment B: ... [SEP]
print(f"NSP pair (label {nsp[0]['next_sentence_label']}: 1 = B comes from another document):")
print("  A:", tokenizer.decode(pair[:n_a]))
print("  B:", tokenizer.decode(pair[n_a:]))
print(f"segment ids    : {types.count(0)} x 0 (segment A), then {types.count(1)} x 1 (segment B)")
print(f"NSP pairs whose B comes from another document: {sum(e['next_sentence_label'] for e in nsp)}/{len(nsp)}")
print(f"SOP pairs that are swapped:                    {sum(e['sentence_order_label'] for e in sop)}/{len(sop)}")

# %% [markdown]
# **What happens to the segment embeddings with one sequence?** A common belief is that SpanBERT removed them. It did
# not: the authors kept BERT's two-row token-type table and fed segment id 0 to every token, so row 0 is trained like
# any embedding (a learned vector added to every position) and row 1 is never used. Their released checkpoints have
# `type_vocab_size = 2`. Our model does the same by default:

# %%
# NBVAL_CHECK_OUTPUT
from spanbert_edu import SpanBertConfig, SpanBertForPreTraining

model = SpanBertForPreTraining(SpanBertConfig.preset("tiny"))
table = model.bert.embeddings.token_type_embeddings
print("type_vocab_size:", model.config.type_vocab_size, "| table shape:", tuple(table.weight.shape))
print("single-sequence examples carry token_type_ids:", "token_type_ids" in single[0],
      "-> the model adds row 0 to every token")

# %% [markdown]
# ## 2. A live run of the `tiny` model
#
# `pretrain` calls `on_log` with every row it writes to `metrics.jsonl`; the cell redraws the curves as they come.
# (About a minute on a laptop CPU.)

# %%
rows, view = [], W.Output()
display(view)

def redraw(row):
    rows.append(row)
    if row["split"] == "train" and row["step"] % 50 == 0:
        with view:
            view.clear_output(wait=True)
            display(plot_loss_curves({"tiny (live)": rows}, smoothing=0.3))

result = pretrain(preset="tiny", steps=300, batch_size=32, max_length=128, learning_rate=2e-3, warmup_steps=30,
                  log_every=10, eval_every=100, save_every=300, out_dir="runs/notebook_tiny", overwrite=True, progress=False,
                  on_log=redraw, echo=lambda *a: None)
print(f"held-out after 300 steps: MLM accuracy {result['eval']['mlm_acc']:.3f}, SBO accuracy {result['eval']['sbo_acc']:.3f}")

# %% [markdown]
# Where does the run stand? Early in training a BERT-style model sits on a plateau: it answers almost every masked
# token with a few frequent tokens, and its accuracy is about that of a "model" that always answers the corpus' most
# frequent token. `plateau_check` measures both on held-out span masks, for the run above and for the bundled
# `small` model (16,000 steps of a larger model):

# %%
from spanbert_edu import load_pretrained
from spanbert_edu.evaluate import plateau_check

for name, m_ in (("tiny, 300 steps (above)", result["model"]), ("small, bundled", load_pretrained()[0])):
    c = plateau_check(m_, tokenizer)
    top = ", ".join(f"{t!r} {share:.0%}" for t, share in c["top_answers"])
    print(f"{name:24}: MLM accuracy {c['accuracy']:.3f} | its most frequent answers ({top}) are "
          f"{c['top_share']:.0%} of all | always {c['baseline_token']!r}: {c['baseline_accuracy']:.3f}")

# %% [markdown]
# The live run is on that plateau: it answers nearly every masked token with `.`, and its accuracy is about what
# always answering `.` gets. That is where 300 steps of the `tiny` model end, not a bug: `make pretrain`'s 3,000 steps
# get past it (about 0.14), and the bundled model, whose answers are spread over many tokens, gets 0.275.
#
# ## 3. Next to the bundled `small` run
#
# The bundled checkpoint was trained with the project's own command (see the README). Pick runs and metrics; smoothing
# is an exponential moving average. The steps are on a log scale, so that the 300-step run above is not squashed
# against the left edge beside the 16,000-step one (untick the box for a linear axis).

# %%
runs = {"tiny (this notebook)": rows, "small (bundled)": read_metrics(BUNDLED / "metrics.jsonl")}
build_loss_curve_widget(runs)

# %% [markdown]
# ## Exercises
# 1. Train `tiny` with `sbo_weight=0` (MLM only) for the same steps. Does the MLM loss end lower or higher?
# 2. Train with `pair_objective="nsp"` and compare the MLM accuracy with the single-sequence run at equal steps.
# 3. At the same `max_length`, does an NSP example give the model less context *from one document* than a single
#    sequence? Count it on the held-out documents (`pack_documents` and `pack_pairs`, as in section 1), and explain.
