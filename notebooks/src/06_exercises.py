# %% [markdown]
# # 06 · Exercises: build the pieces yourself
#
# **What you will practise**
# 1. the closed-form mean span length (notebook 01);
# 2. a SpanBERT span masker for one sequence (notebook 02);
# 3. the SBO targets of a masked sequence (notebook 03);
# 4. the Span Boundary Objective forward pass (notebook 03);
# 5. the pretraining loss, MLM + SBO.
#
# Fill in each function, run its cell, and read the checker's verdict. The checkers in `spanbert_edu.exercises` compare
# every output of your code with the library's reference, and when they differ they name the misconception: clipping
# instead of truncating, whole-word masking, uniform span lengths, never keeping the original token, per-token
# instead of per-span 80/10/10, anchors drawn over words, boundaries inside the span, an untied SBO decoder, a sum
# where a mean belongs. The masker's checker compares distributions with statistical tests (fixed seeds, so the same
# code always gets the same verdict). Until you write something, each checker says "not implemented yet".

# %%
import math

import numpy as np
import torch
import torch.nn.functional as F

from spanbert_edu.exercises import (check_expected_span_length, check_sbo_forward, check_sbo_loss,
                                    check_sbo_targets, check_span_masker)

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
# What the checker says about whole-word masking, the scheme SpanBERT argues against (the library's masker with
# `scheme="whole_word"`):

# %%
# NBVAL_CHECK_OUTPUT
from spanbert_edu.exercises.masker import reference_masker
from spanbert_edu.masking import MaskingConfig

print(check_span_masker(reference_masker(MaskingConfig(scheme="whole_word"))))

# %% [markdown]
# ## 3. The SBO targets
#
# After masking, each merged masked run $x_s..x_e$ gets SBO targets: its boundary pair $(s-1, e+1)$ and the ORIGINAL ids
# of its first `max_targets` (15) tokens. A run whose neighbour is `[CLS]`, `[SEP]` or padding (`special_mask` True) gets
# none: a boundary must be real text. Return `(boundaries, targets)`, runs left to right. `labels` holds the original id
# at masked positions and $-100$ elsewhere; `masked_ids` is the corrupted input.

# %%
def sbo_targets(masked_ids, labels, special_mask, max_targets):
    raise NotImplementedError  # your code here


check_sbo_targets(sbo_targets)

# %% [markdown]
# ## 4. The SBO forward pass
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
# ## 5. The loss
#
# SpanBERT's loss is the MLM loss plus the SBO loss, each the **mean cross-entropy over its targets**: `labels` (B, L)
# and `span_labels` (B, S, T) hold $-100$ where there is no target. Why a mean over targets and not over positions?
# The number of targets changes from batch to batch (the budget rounds up per sequence, padding varies, spans near
# `[CLS]`/`[SEP]` lose their SBO targets); dividing by positions would make the loss, and the step size, depend on
# how much padding a batch happens to hold, and a sum would grow with the batch. The mean makes each target count
# the same in every batch, and keeps MLM and SBO on the same scale so that adding them weighs both equally.

# %%
def spanbert_loss(mlm_logits, labels, sbo_logits, span_labels):
    raise NotImplementedError  # your code here


check_sbo_loss(spanbert_loss)

# %% [markdown]
# ## Going further
# 1. Make your masker faster than the reference on a batch (hint: `spanbert_edu/masking/batched.py`).
# 2. Change your SBO forward to use only $x_{s-1}$ (no right boundary). Train the `tiny` model with it
#    (`pretrain(preset="tiny")` with your head swapped in) and compare the SBO accuracy by position.
# 3. Why does the SBO head use a 200-dimensional position embedding instead of $H$? What would change?
