"""The per-sequence reference masker: short, readable, one sequence at a time.

This is the version to read (and the one the notebooks teach from); :func:`.engine.mask_sequence`
runs it. The collator uses the batched version in :mod:`.batched`, which is checked against this one.

Every scheme has the same three steps:

1. **select** positions to mask until the budget ``ceil(mlm_probability * n)`` is reached (n =
   maskable tokens). The schemes differ only here.
2. **merge** the selection into maximal runs of adjacent masked tokens. Since every span is
   contiguous, merging overlapping AND adjacent spans (as the authors do) gives exactly the
   maximal runs.
3. **replace** (80/10/10, once per run or per token) and build the **SBO targets**: for each
   run ``s..e`` whose neighbours ``s-1`` and ``e+1`` are ordinary tokens, the boundary pair
   and the first ``max_span_targets`` original tokens. Runs touching [CLS]/[SEP] (or any
   special token / padding) get MLM targets only, as in the authors' code.

The ``span`` scheme is the authors' algorithm: a length ``l`` (in words) from the truncated
geometric; an anchor uniform over SUBWORD positions, redrawn with the length if already
masked; move the anchor to the start of its word; mask ``l`` whole words, stopping the moment
the budget is reached (which can cut the last word). Generalisation: a span also stops at a
non-maskable token (a middle [SEP]), so it never crosses a segment boundary.

Where the budget ends the selection, the last word may be cut; at most one word per sequence
is ever partly masked, and only the last one selected (true for every scheme here).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..batch import IGNORE_INDEX


@dataclass
class MaskedSequence:
    """One masked sequence. Spans are ``(s, e)`` token positions, both inclusive."""

    input_ids: np.ndarray                 # (L,) after replacement
    labels: np.ndarray                    # (L,) original ids where masked, IGNORE_INDEX elsewhere
    spans: list = field(default_factory=list)          # merged masked runs (s, e)
    span_actions: list = field(default_factory=list)   # per run: "mask" | "random" | "keep" | "mixed"
    sbo_boundaries: list = field(default_factory=list)  # (s - 1, e + 1) of runs with SBO targets
    sbo_labels: list = field(default_factory=list)      # their first max_span_targets tokens


# --------------------------------------------------------------------------- word helpers
def word_bounds(word_start, maskable, i):
    """(first, last) token of the word containing position ``i``."""
    start = i
    while not word_start[start]:
        start -= 1
    end = i
    while end + 1 < len(maskable) and maskable[end + 1] and not word_start[end + 1]:
        end += 1
    return start, end


def _mask_range(masked, start, end, budget):
    """Mask ``start..end`` left to right, stopping at the budget; returns the new count."""
    count = int(masked.sum())
    for i in range(start, end + 1):
        if count >= budget:
            break
        if not masked[i]:
            masked[i] = True
            count += 1
    return count


# --------------------------------------------------------------------------- step 1: select
def select_subword(maskable, budget, rng):
    """BERT: ``budget`` tokens uniformly at random (exactly, not Bernoulli)."""
    masked = np.zeros(len(maskable), dtype=bool)
    masked[rng.choice(np.flatnonzero(maskable), size=budget, replace=False)] = True
    return masked


def select_whole_words(word_start, maskable, budget, rng):
    """Whole words in random order until the budget (the last one may be cut)."""
    masked = np.zeros(len(maskable), dtype=bool)
    for start in rng.permutation(np.flatnonzero(word_start & maskable)):
        _, end = word_bounds(word_start, maskable, start)
        if _mask_range(masked, start, end, budget) >= budget:
            break
    return masked


def select_geometric_spans(word_start, maskable, budget, sampler, rng):
    """SpanBERT: geometric span lengths in words, anchors uniform over subword positions."""
    masked = np.zeros(len(maskable), dtype=bool)
    positions = np.flatnonzero(maskable)
    count = 0
    while count < budget:
        span_len = sampler(1, rng)[0]       # in words
        anchor = rng.choice(positions)      # uniform over SUBWORD positions
        if masked[anchor]:
            continue                        # redraw both length and anchor
        pos, _ = word_bounds(word_start, maskable, anchor)  # move to the word start
        for _ in range(span_len):
            if pos >= len(maskable) or not maskable[pos] or count >= budget:
                break                       # end of the segment, or budget reached
            _, end = word_bounds(word_start, maskable, pos)
            count = _mask_range(masked, pos, end, budget)
            pos = end + 1
    return masked


def select_linguistic(word_start, maskable, budget, candidates, mix, rng):
    """Entity / phrase / ERNIE mixture: each draw is a proposed span of some kind (with the
    probabilities in ``mix``) or, otherwise, one random whole word."""
    masked = np.zeros(len(maskable), dtype=bool)
    kinds, probs = list(mix), list(mix.values())
    # Proposed spans are widened to whole words, so no scheme splits a word; spans that
    # fall outside the sequence or cover a special token or padding are ignored.
    spans = {k: [(word_bounds(word_start, maskable, s)[0], word_bounds(word_start, maskable, e)[1])
                 for s, e in candidates.get(k, ())
                 if 0 <= s <= e < len(maskable) and maskable[s:e + 1].all()] for k in kinds}
    count = 0
    while count < budget:
        u, kind = rng.random(), None
        for k, p in zip(kinds, np.cumsum(probs)):
            if u < p:
                kind = k
                break
        open_spans = [sp for sp in spans.get(kind, ()) if not masked[sp[0]:sp[1] + 1].all()]
        if open_spans:
            start, end = open_spans[rng.integers(len(open_spans))]
        else:  # a random whole word (also when this kind has nothing left to offer)
            free_starts = np.flatnonzero(word_start & maskable & ~masked)
            start, end = word_bounds(word_start, maskable, rng.choice(free_starts))
        count = _mask_range(masked, start, end, budget)
    return masked


# --------------------------------------------------------------------------- steps 2 and 3
def merge_runs(masked):
    """Maximal runs of adjacent masked positions, as (s, e) inclusive."""
    runs, start = [], None
    for i, m in enumerate(list(masked) + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def masked_runs(masked, word_ids=None):
    """Every masked token of a (B, L) mask, in ``nonzero()`` order: its offset inside its merged
    run, the run's length in tokens, and the run's length in words (the distinct ``word_ids`` it
    touches; the token count when ``word_ids`` is None). Three int arrays of the same length."""
    masked = np.atleast_2d(np.asarray(masked, dtype=bool))
    offsets, lengths, words = [], [], []
    for b, row in enumerate(masked):
        for s, e in merge_runs(row):
            n = e - s + 1
            w = n if word_ids is None else len({int(x) for x in word_ids[b][s:e + 1]})
            offsets += range(n)
            lengths += [n] * n
            words += [w] * n
    as_array = lambda values: np.array(values, dtype=np.int64)
    return as_array(offsets), as_array(lengths), as_array(words)


def _action(u, config):
    return "mask" if u < config.mask_replace_prob else "random" if u < config.mask_replace_prob + config.random_replace_prob else "keep"


def replace_and_target(input_ids, maskable, runs, config, vocab, rng):
    """80/10/10 per run (or per token) and the SBO targets; returns a :class:`MaskedSequence`."""
    original = np.asarray(input_ids, dtype=np.int64)
    out = original.copy()
    labels = np.full(len(original), IGNORE_INDEX, dtype=np.int64)
    result = MaskedSequence(out, labels, spans=list(runs))
    for s, e in runs:
        labels[s:e + 1] = original[s:e + 1]
        n = e - s + 1
        if config.replacement == "span":
            actions = [_action(rng.random(), config)] * n   # one decision for the whole span
        else:
            actions = [_action(u, config) for u in rng.random(n)]
        for i, act in zip(range(s, e + 1), actions):
            if act == "mask":
                out[i] = vocab.mask_token_id
            elif act == "random":
                out[i] = vocab.sample(1, rng)[0]
        result.span_actions.append(actions[0] if len(set(actions)) == 1 else "mixed")
        if s - 1 >= 0 and e + 1 < len(original) and maskable[s - 1] and maskable[e + 1]:
            result.sbo_boundaries.append((s - 1, e + 1))
            result.sbo_labels.append(original[s:s + min(n, config.max_span_targets)].tolist())
    return result
