# %% [markdown]
# # 02 · Masking schemes: subword, whole word, span, entity, phrase, ERNIE
#
# **What you will learn**
# - how each masking scheme the SpanBERT paper compares chooses what to hide, on the same real sentences;
# - the shared **budget**: every scheme masks exactly $\lceil 0.15\,n \rceil$ tokens of a sequence;
# - SpanBERT's own algorithm, step by step: anchor on a subword, move to the word start, mask whole words, stop at the budget, merge;
# - the 80/10/10 rule decided **once per span**, and where the SBO boundaries $x_{s-1}, x_{e+1}$ come from.
#
# The masking code lives in `spanbert_edu.masking` (the readable reference in `masking/reference.py`); this notebook calls it.

# %%
%matplotlib inline
import numpy as np

from spanbert_edu import MaskingConfig, SpanMaskingCollator, load_tokenizer, mask_sequence
from spanbert_edu.presentation.diagrams import plot_masking_schemes
from spanbert_edu.presentation.diagrams import EXAMPLE_SENTENCE, masking_rows
from spanbert_edu.masking import ReplacementVocab, SCHEMES
from spanbert_edu.masking.proposers import make_proposers
from spanbert_edu.masking.reference import merge_runs
from spanbert_edu.masking.words import maskable_positions, word_starts_from_word_ids
from spanbert_edu.data.tokenizer import bundled_unigram_counts
from spanbert_edu.presentation.widgets import build_masking_widget

tokenizer = load_tokenizer()
print(EXAMPLE_SENTENCE)

# %% [markdown]
# ## 1. Six schemes, one sentence
#
# At a 25% ratio so that short sentences show something. Orange is `[MASK]`, red a random replacement, green a token kept
# as it was (all three are prediction targets). In the `span` row, an outlined token is an SBO boundary: a neighbour
# of a masked span that gets SBO targets. A span touching `[CLS]` or `[SEP]` gets none (its outer neighbour is not
# text), and the other rows outline nothing, because SpanBERT trains SBO together with span masking.

# %%
plot_masking_schemes(tokenizer, masking_rows(tokenizer, EXAMPLE_SENTENCE, seed=0, mlm_probability=0.25))

# %% [markdown]
# - **subword** (BERT): tokens independently at random, so `So ##ft ##ware` can lose one piece and keep the others;
# - **whole_word**: whole words in random order;
# - **span** (SpanBERT): contiguous runs of whole words, lengths from the geometric distribution of notebook 01;
# - **entity** / **phrase**: half the draws a proposed named entity / noun phrase, half a random word (the paper's recipe);
# - **ernie**: an ERNIE-1.0-style mixture of entity, phrase and word draws (not in the paper; its authors note that random
#   spans beating each linguistic scheme alone does not show they beat a *mix*).
#
# Where do entities and noun phrases come from? The paper used spaCy. Offline, this project ships a **heuristic**
# proposer: runs of capitalised words are "entities", a determiner plus up to three content words is a "noun phrase".
# It is a heuristic, not a parser:

# %%
# NBVAL_CHECK_OUTPUT
proposers = make_proposers("heuristic")
for kind, propose in proposers.items():
    print(kind, [EXAMPLE_SENTENCE[a:b] for a, b in propose(EXAMPLE_SENTENCE)])

# %% [markdown]
# ## 2. The budget is the same for every scheme
#
# $n$ counts the tokens that are neither special (`[CLS]`, `[SEP]`) nor padding; the budget is $\lceil 0.15\,n\rceil$.
# The authors stop **the moment** the budget is reached, even mid-word, so every scheme hits it exactly.

# %%
# NBVAL_CHECK_OUTPUT
example = {"input_ids": tokenizer(EXAMPLE_SENTENCE)["input_ids"]}
n = len(example["input_ids"]) - 2
print(f"n = {n} maskable tokens -> budget ceil(0.15 * {n}) = {int(np.ceil(0.15 * n))}")
for scheme in SCHEMES:
    batch = SpanMaskingCollator(tokenizer, scheme=scheme, seed=1)([example])
    print(f"{scheme:>10}: {int((batch['labels'] != -100).sum())} tokens masked")

# %% [markdown]
# ## 3. SpanBERT's algorithm, one step at a time
#
# `mask_sequence` is the readable per-sequence reference. It needs three arrays: the token ids, where words start
# (from the tokenizer's `word_ids()`), and which tokens may be masked.

# %%
# NBVAL_CHECK_OUTPUT
enc = tokenizer(EXAMPLE_SENTENCE)
ids = np.array(enc["input_ids"])
word_start = word_starts_from_word_ids(enc.word_ids())
maskable = maskable_positions(ids, tokenizer.all_special_ids)
# random replacements come from the corpus' unigram distribution, as in the collator (and the paper)
vocab = ReplacementVocab.unigram(bundled_unigram_counts(), tokenizer.mask_token_id, tokenizer.all_special_ids)
result = mask_sequence(ids, word_start, maskable, MaskingConfig(scheme="span", mlm_probability=0.3), vocab, rng=4)
tokens = tokenizer.convert_ids_to_tokens(ids)
for (s, e), action in zip(result.spans, result.span_actions):
    print(f"span {s}..{e}: {' '.join(tokens[s:e + 1])!r:40} -> {action}")
print("SBO boundaries (s-1, e+1):", result.sbo_boundaries)

# %% [markdown]
# Two things to notice in this draw. The first span stops inside a word, after the `R` of `R ##oss ##um`: at a 30%
# ratio the budget is $\lceil 0.3 \times 32 \rceil = 10$ tokens, it was reached at `R`, and the authors stop the moment
# it is reached. That is the one place where a span may cut a word. The second span ends next to `[SEP]`, so it gets
# MLM targets only, and the first span's pair (16, 22) is the only SBO boundary pair.
#
# Inside `select_geometric_spans` (read it in `spanbert_edu/masking/reference.py`), each draw:
# 1. samples a length $\ell$ in **words** from the truncated geometric;
# 2. samples an anchor uniformly over **subword positions** (so a word's chance to start a span grows with its number of pieces); an anchor that is already masked is thrown away with its length;
# 3. moves the anchor left to its word's start and masks $\ell$ whole words, stopping the moment the budget is reached.
#
# Afterwards `merge_runs` joins overlapping and adjacent spans into maximal runs: the spans above. A run whose two
# neighbours are ordinary tokens gets an SBO target; a run touching `[CLS]` or `[SEP]` gets MLM targets only.
#
# ## 4. 80/10/10, once per span
#
# For each merged span SpanBERT draws **one** number: 80% the whole span becomes `[MASK]`, 10% every token of it becomes a
# random token (drawn from the corpus' unigram distribution), 10% it is left as it is. Counting over many draws:

# %%
# NBVAL_CHECK_OUTPUT
counts = {"all [MASK]": 0, "all random": 0, "all kept": 0, "mixed": 0}
rng = np.random.default_rng(0)
for _ in range(2000):
    r = mask_sequence(ids, word_start, maskable, MaskingConfig(), vocab, rng=rng)
    for s, e in r.spans:
        seg, orig = r.input_ids[s:e + 1], ids[s:e + 1]
        key = ("all [MASK]" if (seg == tokenizer.mask_token_id).all() else "all kept" if (seg == orig).all()
               else "all random" if (seg != tokenizer.mask_token_id).all() else "mixed")
        counts[key] += 1
total = sum(counts.values())
print({k: round(v / total, 3) for k, v in counts.items()})

# %% [markdown]
# No span is ever half `[MASK]`. (With `replacement="token"` the decision is per token, as in BERT, and mixed spans appear.)
#
# ## 5. Try it
#
# Type any sentence; choose the scheme, the ratio, $p$ and the seed.

# %%
build_masking_widget(tokenizer, "Random spans of whole words, not single subword tokens, are what SpanBERT hides from the encoder.")

# %% [markdown]
# ## Exercises
# 1. With `scheme="subword"`, how often is a word only partly masked? Count it over 1,000 draws on the example sentence.
# 2. Set `geometric_p` to 1.0 in the widget: what does the `span` scheme become? And with `p = 0.05`?
# 3. Why does SpanBERT choose anchors over *subword* positions rather than over words? What changes if it did not?
# 4. Write down a sentence where the heuristic proposer gets an entity wrong. What would spaCy do?
