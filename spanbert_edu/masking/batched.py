"""The batched masker the collator uses: the reference algorithm, vectorised over a batch.

Same distributions as :mod:`.reference` (a test compares them over many draws), different
random streams, so the outputs for a given seed differ between the two.

Why keep a second implementation: it is what keeps a GPU step from waiting on the collator.
Measured with ``python benchmarks/collator_throughput.py`` on the 2-core AMD EPYC of the
README (a 64 x 512 batch of the bundled corpus): the masking step alone takes 1.9 ms batched
against 25.5 ms per sequence (13.5x), and the whole ``span`` collator 4.2 ms against 29.5 ms
with the reference. A ``base`` step at 32 x 512 in bf16 on an H200 takes 43.4 ms
(``benchmarks/gpu_report.py``), so the per-sequence masker would add about a third to every
step (on one loader process); the batched one adds about 5%.

How each selection step is vectorised (numpy, (B, L) arrays throughout):

* ``subword``: one random key per token, mask the ``budget`` smallest keys of each row.
* ``whole_word``: one random key per WORD; sorting tokens by (word key, position) lays the
  words out in random order, each word's tokens together, so the first ``budget`` tokens in
  that order are "whole words in random order, the last one cut at the budget".
* ``span``: rounds. In each round every row still under budget draws a length and an anchor
  uniform over its subword positions, exactly as the authors do; a row whose anchor is
  already masked just draws again next round. Accepted spans cover ``l`` words from the
  anchor's word start through a small (R, W) window of flat indices, taking new positions left
  to right up to the budget. Rounds run until every row is full: about 20 for 512 tokens.
* ``entity`` / ``phrase`` / ``ernie``: the selection loops over rows with the reference
  (their candidate spans are ragged lists); replacement and targets are still batched.

Replacement (80/10/10) and SBO targets are one vectorised pass over the merged runs.
"""
from __future__ import annotations

import numpy as np

from ..batch import IGNORE_INDEX, NO_SPAN


def _rank_within_rows(keys):
    """rank[b, i] = position of token i when row b is sorted by ``keys`` (last axis first)."""
    order = np.lexsort(keys) if isinstance(keys, tuple) else np.argsort(keys, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :].repeat(len(order), 0), axis=1)
    return rank


def select_subword_batched(maskable, budget, rng):
    keys = np.where(maskable, rng.random(maskable.shape), 2.0)  # non-maskable sort last
    return _rank_within_rows(keys) < budget[:, None]


def select_whole_words_batched(word_start, maskable, budget, rng):
    word_index = np.cumsum(word_start, axis=1) - 1                # (B, L) word of each token
    word_key = rng.random(maskable.shape)                         # one key per word (<= L words)
    token_key = np.take_along_axis(word_key, np.maximum(word_index, 0), axis=1)
    token_key = np.where(maskable, token_key, 2.0)
    position = np.broadcast_to(np.arange(maskable.shape[1]), maskable.shape)
    return _rank_within_rows((position, token_key)) < budget[:, None]  # sort by key, then position


def _word_tables(word_start, maskable):
    """Flat word tables over the (B*L) batch: each token's global word id, each word's first
    and last flat index, and the last word of the segment each word sits in (so a span never
    crosses a [SEP] or runs into the next row)."""
    B, L = maskable.shape
    nxt_start = np.ones_like(maskable)
    nxt_start[:, :-1] = word_start[:, 1:] | ~maskable[:, 1:]
    word_end = maskable & nxt_start                        # last token of each word
    seg_end = np.zeros_like(maskable)
    seg_end[:, :-1] = maskable[:, :-1] & ~maskable[:, 1:]
    seg_end[:, -1] = maskable[:, -1]
    global_word = np.cumsum(word_start.ravel()) - 1
    first = np.flatnonzero(word_start.ravel())
    last = np.flatnonzero(word_end.ravel())
    seg_last_words = global_word[np.flatnonzero(seg_end.ravel())]
    seg_last = seg_last_words[np.searchsorted(seg_last_words, np.arange(len(first)))]
    return global_word, first, last, seg_last


def select_spans_batched(word_start, maskable, budget, sampler, rng):
    B, L = maskable.shape
    global_word, first, last, seg_last = _word_tables(word_start, maskable)
    # flat "maskable and not yet masked", with L spare False cells so windows never overrun
    free = np.concatenate([maskable.ravel(), np.zeros(L, dtype=bool)])
    remaining = budget.astype(np.int64).copy()
    n = maskable.sum(1)
    positions = np.flatnonzero(free)                       # each row's maskable tokens, in order
    row_offset = np.cumsum(n) - n
    while remaining.any():
        # The authors' draw, for every row at once: a length, and an anchor uniform over the
        # row's SUBWORD positions. A row whose anchor is already masked (or that is full) adds
        # nothing this round and draws again in the next: "redraw both".
        u = rng.random((2, B))
        span_len = sampler.from_uniform(u[0])              # (B,) in words
        anchor = positions.take(row_offset + (u[1] * n).astype(np.int64), mode="clip")
        ok = (remaining > 0) & free[anchor]
        w0 = global_word[anchor]                           # the anchor's word: start there
        w1 = np.minimum(w0 + span_len - 1, seg_last[w0])   # l words, within the segment
        start = first[w0]
        width = (last[w1] - start + 1) * ok
        offsets = np.arange(width.max())
        idx = start[:, None] + offsets                     # (B, W): a window per span
        window = free[idx] & (offsets < width[:, None])    # new tokens, left to right
        take = window & (np.cumsum(window, axis=1) <= remaining[:, None])  # stop at the budget
        free[idx[take]] = False
        remaining -= take.sum(1)
    return maskable & ~free[:B * L].reshape(B, L)


def replace_and_target_batched(input_ids, maskable, masked, config, vocab, rng):
    """80/10/10 and SBO targets for a whole batch; returns a dict of numpy arrays."""
    B, L = input_ids.shape
    prev = np.zeros_like(masked)
    prev[:, 1:] = masked[:, :-1]
    nxt = np.zeros_like(masked)
    nxt[:, :-1] = masked[:, 1:]
    run_rows, run_s = np.nonzero(masked & ~prev)      # merged runs, row-major order
    _, run_e = np.nonzero(masked & ~nxt)
    tok_rows, tok_cols = np.nonzero(masked)
    run_of_token = np.cumsum((masked & ~prev)[tok_rows, tok_cols]) - 1

    u = rng.random(len(run_s))[run_of_token] if config.replacement == "span" else rng.random(len(tok_rows))
    out = input_ids.copy()
    to_mask = u < config.mask_replace_prob
    to_random = ~to_mask & (u < config.mask_replace_prob + config.random_replace_prob)
    out[tok_rows[to_mask], tok_cols[to_mask]] = vocab.mask_token_id
    out[tok_rows[to_random], tok_cols[to_random]] = vocab.sample(int(to_random.sum()), rng)
    labels = np.where(masked, input_ids, IGNORE_INDEX)

    # SBO: runs whose left and right neighbours are ordinary tokens.
    left, right = run_s - 1, run_e + 1
    ok = (left >= 0) & (right < L)
    ok[ok] = maskable[run_rows[ok], left[ok]] & maskable[run_rows[ok], right[ok]]
    r, s, e = run_rows[ok], run_s[ok], run_e[ok]
    rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")   # index of the run in its row
    n_spans = max(1, int(rank.max()) + 1 if len(rank) else 1)
    T = config.max_span_targets
    span_boundaries = np.full((B, n_spans, 2), NO_SPAN, dtype=np.int64)
    span_boundaries[r, rank, 0], span_boundaries[r, rank, 1] = s - 1, e + 1
    offsets = np.arange(T)
    inside = offsets[None, :] < (e - s + 1)[:, None]                  # (R, T)
    cols = np.minimum(s[:, None] + offsets[None, :], L - 1)
    span_labels = np.full((B, n_spans, T), IGNORE_INDEX, dtype=np.int64)
    span_labels[r, rank] = np.where(inside, input_ids[r[:, None], cols], IGNORE_INDEX)
    return {"input_ids": out, "labels": labels, "span_boundaries": span_boundaries,
            "span_labels": span_labels}
