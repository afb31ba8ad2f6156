"""Planted mistakes for the span-masker checker, beside it: the library's masker with one
misconception built in (each with the hint the checker must give), and two independently
written correct maskers (which it must accept).

``SPAN_MASKER_CASES`` is the list of ``(masker, hint)`` pairs, hint None for a correct one:
``tests/test_exercises.py`` checks every verdict and ``scripts/checker_power.py`` measures how
often the checker's statistical tests reject each (power and false alarms).
"""
from __future__ import annotations

import math

import numpy as np

from ..batch import IGNORE_INDEX
from ..masking import MaskingConfig
from .masker import reference_masker


def scratch_masker(per_drawn_span=False, random_low=10):
    """A masker written from the paper and the authors' algorithm, without the library. Its two
    flags build mistakes students made: 80/10/10 decided per DRAWN span (before adjacent spans
    merge), and random ids drawn from [random_low, vocab_size) with random_low 0."""
    def masker(ids, word_start, maskable, mask_token_id, vocab_size, rng):
        new, labels = ids.copy(), np.full(len(ids), IGNORE_INDEX)
        budget = math.ceil(0.15 * int(maskable.sum()))
        lengths = np.arange(1, 11)
        pmf = 0.2 * 0.8 ** (lengths - 1)
        pmf /= pmf.sum()
        masked, drawn = np.zeros(len(ids), bool), []
        positions = np.flatnonzero(maskable)
        while masked.sum() < budget:
            span_len = rng.choice(lengths, p=pmf)
            anchor = rng.choice(positions)
            if masked[anchor]:
                continue
            while not word_start[anchor]:             # back to the start of its word
                anchor -= 1
            i, words = anchor, 0
            while i < len(ids) and maskable[i] and masked.sum() < budget:
                if word_start[i]:
                    words += 1
                    if words > span_len:
                        break
                masked[i] = True
                i += 1
            drawn.append((anchor, i - 1))
        labels[masked] = ids[masked]
        for s, e in drawn if per_drawn_span else _runs(masked):    # 80/10/10 once per (merged) run
            u = rng.random()
            if u < 0.8:
                new[s:e + 1] = mask_token_id
            elif u < 0.9:
                new[s:e + 1] = rng.integers(random_low, vocab_size, size=e - s + 1)
            else:
                new[s:e + 1] = ids[s:e + 1]
        return new, labels
    return masker


def _runs(masked):
    """Maximal runs (s, e) of True, written out (the library's merge_runs is what is checked)."""
    runs, t = [], 0
    while t < len(masked):
        if masked[t]:
            s = t
            while t < len(masked) and masked[t]:
                t += 1
            runs.append((s, t - 1))
        t += 1
    return runs


masker_from_scratch = scratch_masker()
masker_from_scratch.__name__ = "masker_from_scratch"


def masker_with_weights(ids, word_start, maskable, mask_token_id, vocab_size, rng):
    """A second correct one: anchors drawn by weighting each WORD by its number of pieces."""
    new, labels = ids.copy(), np.full(len(ids), IGNORE_INDEX)
    budget = math.ceil(0.15 * int(maskable.sum()))
    starts = [i for i in range(len(ids)) if word_start[i] and maskable[i]]
    ends = []                                     # a word ends at the next word start or special token
    for st in starts:
        e = st + 1
        while e < len(ids) and maskable[e] and not word_start[e]:
            e += 1
        ends.append(e)
    sizes = np.array([e - s for s, e in zip(starts, ends)], float)
    lengths = np.arange(1, 11)
    pmf = 0.8 ** (lengths - 1)
    masked = np.zeros(len(ids), bool)
    while masked.sum() < budget:
        k = rng.choice(lengths, p=pmf / pmf.sum())
        w = rng.choice(len(starts), p=sizes / sizes.sum())
        if masked[starts[w]]:
            continue
        for word in range(w, min(w + k, len(starts))):
            for t in range(starts[word], ends[word]):
                if masked.sum() < budget:
                    masked[t] = True
    for s, e in _runs(masked):
        labels[s:e + 1] = ids[s:e + 1]
        u = rng.random()
        if u < 0.8:
            new[s:e + 1] = mask_token_id
        elif u < 0.9:
            new[s:e + 1] = rng.integers(10, vocab_size, size=e - s + 1)
    return new, labels


def planted(config=None, *, mask_cls=False, actions=None, words_anchor=False, left_to_right=False):
    """The library's masker with one mistake built in."""
    base = reference_masker(config or MaskingConfig())

    def masker(ids, word_start, maskable, mask_token_id, vocab_size, rng):
        if words_anchor or left_to_right:
            return _planted_anchor(ids, word_start, maskable, mask_token_id, rng, words_anchor, left_to_right)
        new, labels = (np.array(x) for x in base(ids, word_start, maskable, mask_token_id, vocab_size, rng))
        if mask_cls:  # [CLS] masked instead of the last chosen token
            last = np.flatnonzero(labels != IGNORE_INDEX)[-1]
            new[last], labels[last] = ids[last], IGNORE_INDEX
            new[0], labels[0] = mask_token_id, ids[0]
        if actions is not None:  # another mask/random/keep mix per span
            t = 0
            while t < len(ids):
                if labels[t] != IGNORE_INDEX:
                    s = t
                    while t < len(ids) and labels[t] != IGNORE_INDEX:
                        t += 1
                    u = rng.random()
                    new[s:t] = (mask_token_id if u < actions[0] else
                                rng.integers(10, vocab_size, size=t - s) if u < actions[0] + actions[1] else ids[s:t])
                t += 1
        return new, labels
    return masker


def _planted_anchor(ids, word_start, maskable, mask_token_id, rng, words_anchor, left_to_right):
    new, labels = ids.copy(), np.full(len(ids), IGNORE_INDEX)
    budget = math.ceil(0.15 * int(maskable.sum()))
    starts = [i for i in range(len(ids)) if word_start[i] and maskable[i]]
    pmf = 0.8 ** np.arange(10)
    masked, cursor = np.zeros(len(ids), bool), 0
    while masked.sum() < budget:
        k = rng.choice(np.arange(1, 11), p=pmf / pmf.sum())
        if left_to_right:      # spans packed from the left, a random gap of 0-2 words between them
            w = min(cursor + int(rng.integers(0, 3)), len(starts) - 1)
        else:                  # anchor uniform over WORDS
            w = int(rng.integers(len(starts)))
        if masked[starts[w]]:
            cursor = w + 1
            continue
        t, words = starts[w], 0
        while t < len(ids) and maskable[t] and masked.sum() < budget:
            words += bool(word_start[t])
            if words > k:
                break
            masked[t] = True
            t += 1
        cursor = w + k + 1
    labels[masked] = ids[masked]
    t = 0
    while t < len(ids):
        if masked[t]:
            s = t
            while t < len(ids) and masked[t]:
                t += 1
            if rng.random() < 0.8:
                new[s:t] = mask_token_id
            elif rng.random() < 0.5:
                new[s:t] = rng.integers(10, 100, size=t - s)
        t += 1
    return new, labels


SPAN_MASKER_CASES = [
    (reference_masker(), None),
    (masker_from_scratch, None),
    (masker_with_weights, None),
    (planted(MaskingConfig(replacement="token")), "ONCE PER SPAN"),
    (planted(MaskingConfig(scheme="subword")), "split words"),
    (planted(MaskingConfig(mlm_probability=0.3)), "budget"),
    (planted(mask_cls=True), "special token"),
    (planted(MaskingConfig(scheme="whole_word")), "whole-word masking"),
    (planted(MaskingConfig(geometric_p=1e-9)), "UNIFORM"),
    (planted(MaskingConfig(span_length_mode="clip")), "CLIPPED"),
    (planted(MaskingConfig(geometric_p=0.5)), "span lengths in words differ"),
    (planted(actions=(0.8, 0.2, 0.0)), "never (or almost never"),
    (planted(actions=(0.8, 0.0, 0.2)), "random tokens"),
    (planted(actions=(0.6, 0.2, 0.2)), "80/10/10"),
    (planted(words_anchor=True), "SUBWORD tokens"),
    (planted(left_to_right=True), "first tenth"),
    (scratch_masker(per_drawn_span=True), "once per DRAWN span"),
    (scratch_masker(random_low=0), "draw random ids from [10, vocab_size)"),
]
