# %% [markdown]
# # 06 · Exercises: build the pieces yourself
#
# **What you will practise**
# 1. the closed-form mean span length (notebook 01);
# 2. a SpanBERT span masker for one sequence (notebook 02);
# 3. the Span Boundary Objective forward pass (notebook 03).
#
# Fill in each function, run its cell, and read the checker's verdict. The checkers in `spanbert_edu.exercises` compare
# your code with the library's reference on many inputs, and they recognise the classic mistakes: clipping instead of
# truncating, per-token instead of per-span 80/10/10, spans that split words, forgetting the budget, an SBO decoder
# that is not tied to the input embeddings. Until you write something, each checker says "not implemented yet".

# %%
import math

import numpy as np
import torch
import torch.nn.functional as F

from spanbert_edu.exercises import check_expected_span_length, check_sbo_forward, check_span_masker

# %% [markdown]
# ## 1. The mean span length
#
# Return $E[\ell]$ for SpanBERT's span lengths: geometric with parameter `p`, **truncated** to $1..$`max_len` and
# renormalised. Use the closed form (no loop over lengths). Hint: notebook 01, section 2.

# %%
def expected_span_length(p: float, max_len: int) -> float:
    raise NotImplementedError  # your closed form here


check_expected_span_length(expected_span_length)

# %% [markdown]
# What the checker says about a classic mistake, the clipped mean:

# %%
# NBVAL_CHECK_OUTPUT
check_expected_span_length(lambda p, max_len: 1 + ((1 - p) - (1 - p) ** max_len) / p)

# %% [markdown]
# ## 2. A span masker
#
# Mask ONE sequence the SpanBERT way, at a 15% budget:
# - `input_ids`: (L,) ids with `[CLS]` first and `[SEP]` last; `word_start[i]` is True where a word begins;
#   `maskable[i]` is False for the special tokens;
# - budget $\lceil 0.15\,n\rceil$ with $n$ = maskable tokens; draw a length in words (geometric, $p=0.2$, truncated to 1..10),
#   an anchor uniformly over unmasked maskable positions, move it to its word start, mask whole words, stop at the budget;
# - decide 80/10/10 once per merged span: `mask_token_id`, a random id in `[10, vocab_size)`, or unchanged;
# - return `(new_ids, labels)` with `labels` = original id where masked, `-100` elsewhere.

# %%
def span_masker(input_ids, word_start, maskable, mask_token_id, vocab_size, rng):
    raise NotImplementedError  # your masker here


check_span_masker(span_masker)

# %% [markdown]
# ## 3. The SBO forward pass
#
# Given the library's `SBOHead` (use its weights: `head.position_embeddings`, `head.dense1`, `head.LayerNorm1`,
# `head.dense2`, `head.LayerNorm2`, `head.bias`), hidden states (B, L, H), `span_boundaries` (B, S, 2) holding
# $(s-1, e+1)$ or $-1$, and `span_labels` (B, S, T) with $-100$ padding, return the logits (N, V): one row per target in
# `(span_labels != -100).nonzero()` order, scored against the **input word embeddings** `word_embeddings` (V, H).

# %%
def sbo_forward(head, hidden, span_boundaries, span_labels, word_embeddings):
    raise NotImplementedError  # your forward pass here


check_sbo_forward(sbo_forward)

# %% [markdown]
# ## Going further
# 1. Make your masker faster than the reference on a batch (hint: `spanbert_edu/masking/batched.py`).
# 2. Change your SBO forward to use only $x_{s-1}$ (no right boundary). Train the `tiny` model with it
#    (`pretrain(preset="tiny")` with your head swapped in) and compare the SBO accuracy by position.
# 3. Why does the SBO head use a 200-dimensional position embedding instead of $H$? What would change?
