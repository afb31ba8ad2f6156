# %% [markdown] tags=["instructor"]
# **Instructor's master.** This notebook holds the solutions, between nbgrader's `### BEGIN SOLUTION` and
# `### END SOLUTION` markers; cells tagged `exN` + `solution` are the students' answers, `exN` + `tests` the graded
# checks, and cells tagged `instructor` (this one) are left out of every student version. Never hand it out:
# `python -m spanbert_edu course release OUT` writes the student notebook, and `scripts/build_notebooks.py 06`
# writes the same student version to `notebooks/06_exercises.ipynb`.

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
# Fill in each function, run it and the cell after it, and read the checker's verdict (an `AssertionError` with the
# hint until your answer is right). The checkers in `spanbert_edu.exercises` compare
# every output of your code with the library's reference, and when they differ they name the misconception: clipping
# instead of truncating, whole-word masking, uniform span lengths, never keeping the original token, per-token
# instead of per-span 80/10/10, anchors drawn over words, boundaries inside the span, an untied SBO decoder, a sum
# where a mean belongs. The masker's checker compares distributions with statistical tests (fixed seeds, so the same
# code always gets the same verdict). Until you write something, each checker says "not implemented yet".
#
# Write each answer yourself, without importing `spanbert_edu` in your cells: the library holds the reference
# answers, and the grader gives 0 to an answer that calls them.

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

# %% tags=["ex1", "solution"]
def expected_span_length(p: float, max_len: int) -> float:
    ### BEGIN SOLUTION
    # E[l | l <= n] = sum_l l p q^(l-1) / (1 - q^n) = 1/p - n q^n / (1 - q^n); q = 0 (p = 1) gives 1
    q = 1.0 - p
    return 1.0 / p - max_len * q ** max_len / (1.0 - q ** max_len)
    ### END SOLUTION

# %% tags=["ex1", "tests"]
verdict = check_expected_span_length(expected_span_length)
assert verdict, verdict.message
verdict

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

# %% tags=["ex2", "solution"]
def span_masker(input_ids, word_start, maskable, mask_token_id, vocab_size, rng):
    ### BEGIN SOLUTION
    L = len(input_ids)
    budget = math.ceil(0.15 * int(maskable.sum()))
    lengths = np.arange(1, 11)
    pmf = 0.2 * 0.8 ** (lengths - 1)
    pmf = pmf / pmf.sum()                      # truncated to 1..10 and renormalised
    positions = np.flatnonzero(maskable)
    masked = np.zeros(L, dtype=bool)
    while masked.sum() < budget:
        n_words = rng.choice(lengths, p=pmf)
        anchor = rng.choice(positions)         # uniform over SUBWORD positions
        if masked[anchor]:
            continue                           # redraw both
        while not word_start[anchor]:          # back to the start of its word
            anchor -= 1
        t, words = anchor, 0
        while t < L and maskable[t] and masked.sum() < budget:
            words += bool(word_start[t])
            if words > n_words:
                break
            masked[t] = True
            t += 1
    new_ids, labels = input_ids.copy(), np.full(L, -100)
    labels[masked] = input_ids[masked]
    t = 0
    while t < L:                               # 80/10/10 once per MERGED run
        if not masked[t]:
            t += 1
            continue
        s = t
        while t < L and masked[t]:
            t += 1
        u = rng.random()
        if u < 0.8:
            new_ids[s:t] = mask_token_id
        elif u < 0.9:
            new_ids[s:t] = rng.integers(10, vocab_size, size=t - s)
    return new_ids, labels
    ### END SOLUTION

# %% tags=["ex2", "tests"]
verdict = check_span_masker(span_masker)
assert verdict, verdict.message
verdict

# %% [markdown]
# ## 3. The SBO targets
#
# After masking, each merged masked run $x_s..x_e$ gets SBO targets: its boundary pair $(s-1, e+1)$ and the ORIGINAL ids
# of its first `max_targets` (15) tokens. A run whose neighbour is `[CLS]`, `[SEP]` or padding (`special_mask` True) gets
# none: a boundary must be real text. Return `(boundaries, targets)`, runs left to right. `labels` holds the original id
# at masked positions and $-100$ elsewhere; `masked_ids` is the corrupted input.

# %% tags=["ex3", "solution"]
def sbo_targets(masked_ids, labels, special_mask, max_targets):
    ### BEGIN SOLUTION
    is_target = (labels != -100).tolist()      # masked, whatever 80/10/10 did to the input
    L = len(is_target)
    boundaries, targets, t = [], [], 0
    while t < L:
        if not is_target[t]:
            t += 1
            continue
        s = t
        while t < L and is_target[t]:
            t += 1
        left, right = s - 1, t                 # the tokens just outside the run s..t-1
        if left >= 0 and right < L and not special_mask[left] and not special_mask[right]:
            boundaries.append((left, right))
            targets.append(labels[s:min(t, s + max_targets)].tolist())
    return boundaries, targets
    ### END SOLUTION

# %% tags=["ex3", "tests"]
verdict = check_sbo_targets(sbo_targets)
assert verdict, verdict.message
verdict

# %% [markdown]
# ## 4. The SBO forward pass
#
# Given the library's `SBOHead` (use its weights: `head.position_embeddings`, `head.dense1`, `head.LayerNorm1`,
# `head.dense2`, `head.LayerNorm2`, `head.bias`), hidden states (B, L, H), `span_boundaries` (B, S, 2) holding
# $(s-1, e+1)$ or $-1$, and `span_labels` (B, S, T) with $-100$ padding, return the logits (N, V): one row per target in
# `(span_labels != -100).nonzero()` order, scored against the **input word embeddings** `word_embeddings` (V, H).

# %% tags=["ex4", "solution"]
def sbo_forward(head, hidden, span_boundaries, span_labels, word_embeddings):
    ### BEGIN SOLUTION
    b, s, i = (span_labels != -100).nonzero(as_tuple=True)        # one row per target
    x_left = hidden[b, span_boundaries[b, s, 0]]                   # (N, H)
    x_right = hidden[b, span_boundaries[b, s, 1]]                  # (N, H)
    p_i = head.position_embeddings(i)                              # (N, P)
    h = head.LayerNorm1(F.gelu(head.dense1(torch.cat([x_left, x_right, p_i], dim=-1))))
    y = head.LayerNorm2(F.gelu(head.dense2(h)))                    # (N, H)
    return y @ word_embeddings.t() + head.bias                     # (N, V)
    ### END SOLUTION

# %% tags=["ex4", "tests"]
verdict = check_sbo_forward(sbo_forward)
assert verdict, verdict.message
verdict

# %% [markdown]
# ## 5. The loss
#
# SpanBERT's loss is the MLM loss plus the SBO loss, each the **mean cross-entropy over its targets**: `labels` (B, L)
# and `span_labels` (B, S, T) hold $-100$ where there is no target. Why a mean over targets and not over positions?
# The number of targets changes from batch to batch (the budget rounds up per sequence, padding varies, spans near
# `[CLS]`/`[SEP]` lose their SBO targets); dividing by positions would make the loss, and the step size, depend on
# how much padding a batch happens to hold, and a sum would grow with the batch. The mean makes each target count
# the same in every batch, and keeps MLM and SBO on the same scale so that adding them weighs both equally.

# %% tags=["ex5", "solution"]
def spanbert_loss(mlm_logits, labels, sbo_logits, span_labels):
    ### BEGIN SOLUTION
    V = mlm_logits.shape[-1]
    mlm = F.cross_entropy(mlm_logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
    sbo = F.cross_entropy(sbo_logits.reshape(-1, V), span_labels.reshape(-1), ignore_index=-100)
    return mlm + sbo
    ### END SOLUTION

# %% tags=["ex5", "tests"]
verdict = check_sbo_loss(spanbert_loss)
assert verdict, verdict.message
verdict

# %% [markdown]
# ## Going further
# 1. Make your masker faster than the reference on a batch (hint: `spanbert_edu/masking/batched.py`).
# 2. Change your SBO forward to use only $x_{s-1}$ (no right boundary). `pretrain` has no place for another head:
#    build the `tiny` model, put a module using your forward in place of `model.sbo`, train it with a short loop of
#    your own (`train_arm` in `spanbert_edu/experiments/toy/experiment.py` is a compact example), and compare the SBO
#    accuracy by position with the standard head trained the same way.
# 3. Why does the SBO head use a 200-dimensional position embedding instead of $H$? What would change?
