"""Exercise 2: a SpanBERT span masker for one sequence.

Two stages. First the invariants every draw must satisfy (budget, whole words, 80/10/10 decided
once per span, no special token, labels). Then the DISTRIBUTIONS, compared with the library's
reference masker on the same sequences by two-sample chi-square tests at alpha = 0.001 each
(fixed seeds, so a given function always gets the same verdict):

* span lengths in words (merged runs), which catches whole-word masking, uniform lengths, clipped
  lengths or a wrong p;
* the mask / random / keep mix per span, which catches "never keep the original";
* where spans start: the number of pieces of the word a span starts on (anchors are drawn over
  SUBWORD tokens, then moved to the word start) and the position in the sequence (tenths).

Measured power and false-alarm rate: ``python scripts/checker_power.py`` (see the README).
"""
from __future__ import annotations

import math

import numpy as np

from ..batch import IGNORE_INDEX

from ..masking import mask_sequence, MaskingConfig, ReplacementVocab

from ..masking.reference import merge_runs
from .._checks import check_int, check_seed
from ._common import CheckResult, as_array, call, checker, chi2_two_sample, fail
from .masker_hints import DISTRIBUTION_HINTS, budget_hint, repeated_random_hint, replacement_hint

PAD, CLS, SEP, MASK, FIRST_WORD_ID, VOCAB_SIZE = 0, 2, 3, 4, 10, 100


def random_sequences(n, seed, min_words=20, max_words=60, specials: bool = False):
    """[CLS] words [SEP] sequences, 1-3 pieces per word: (ids, word_start, maskable). With
    ``specials``, every other text also has padding after its [SEP] and every third a [SEP] in
    the middle (two segments), so that a masker that ignores ``maskable`` shows."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        pieces = rng.integers(1, 4, size=int(rng.integers(min_words, max_words + 1)))
        starts = np.concatenate([[True] + [False] * (j - 1) for j in pieces])
        ids = np.concatenate([[CLS], rng.integers(FIRST_WORD_ID, 100, size=len(starts)), [SEP]])
        word_start = np.concatenate([[False], starts, [False]])
        maskable = np.concatenate([[False], np.ones(len(starts), bool), [False]])
        if specials and k % 3 == 2:                # a [SEP] between two segments, at a word start
            middle = int(np.flatnonzero(word_start)[len(pieces) // 2])
            ids, word_start, maskable = (np.insert(ids, middle, SEP), np.insert(word_start, middle, False),
                                         np.insert(maskable, middle, False))
        if specials and k % 2 == 1:                # padding after the last [SEP]
            pad = int(rng.integers(1, 6))
            ids, word_start, maskable = (np.r_[ids, [PAD] * pad], np.r_[word_start, [False] * pad],
                                         np.r_[maskable, [False] * pad])
        out.append((ids, word_start, maskable))
    return out


def reference_masker(config=MaskingConfig()):
    """The library's masker with the exercise's signature (also a model solution)."""
    def masker(ids, word_start, maskable, mask_token_id, vocab_size, rng):
        vocab = ReplacementVocab.uniform(vocab_size, mask_token_id, range(FIRST_WORD_ID))
        r = mask_sequence(ids, word_start, maskable, config, vocab, rng)
        return r.input_ids, r.labels
    return masker


def _invariants(ids, word_start, maskable, new_ids, labels):
    """None if this draw is a valid SpanBERT masking (80/10/10 homogeneity aside: the checker
    reads it over all draws, :func:`~.masker_hints.replacement_hint`), else the failure."""
    if new_ids.shape != ids.shape or labels.shape != ids.shape:
        return fail(f"return (new_ids, labels), each of shape {ids.shape}; got {new_ids.shape} and {labels.shape}")
    masked = labels != IGNORE_INDEX
    budget = math.ceil(0.15 * int(maskable.sum()))
    if (masked & ~maskable).any():
        return fail("you masked a special token ([CLS], [SEP] or [PAD]): only positions where maskable is True "
                    "may be chosen (a text may hold padding, or a [SEP] between two segments)")
    if masked.sum() != budget:
        return budget_hint(masked, budget, maskable, ids, new_ids)
    if not (labels[masked] == ids[masked]).all():
        return fail("labels must hold the ORIGINAL ids at masked positions (and -100 elsewhere)")
    if (new_ids[~masked] != ids[~masked]).any():
        return fail("you changed tokens that are not masked: only the chosen spans may change")
    word_end = np.r_[word_start[1:] | ~maskable[1:], True]
    runs = merge_runs(masked)
    if sum(not word_start[s] or not word_end[e] for s, e in runs) > 1:
        return fail("your spans split words: move the anchor to its word's start and mask whole words "
                    "(only the last word may be cut, by the budget)")
    new = new_ids[masked]
    if ((new < FIRST_WORD_ID) & (new != MASK)).any() or (new >= VOCAB_SIZE).any():
        return fail(f"a random replacement drew id {int(new[(new < FIRST_WORD_ID) & (new != MASK) | (new >= VOCAB_SIZE)][0])}: "
                    f"draw random ids from [{FIRST_WORD_ID}, vocab_size), the ordinary tokens (ids below "
                    f"{FIRST_WORD_ID} are special: [PAD], [CLS], [SEP], [MASK], ...)")
    return None


def _runs(word_start, new_ids, labels):
    """(is_mask, word_start) of every merged run: what the 80/10/10 hints read."""
    return [(new_ids[s:e + 1] == MASK, word_start[s:e + 1]) for s, e in merge_runs(labels != IGNORE_INDEX)]


def span_statistics(masker, sequences, seed):
    """Histograms over every merged run: words per run (1..10, 11+), action (mask, random,
    keep), pieces of the word the run starts on (1..3), start position in tenths of the text."""
    rng = np.random.default_rng(seed)
    stats = {"words": np.zeros(11, int), "action": np.zeros(3, int), "pieces": np.zeros(3, int),
             "where": np.zeros(10, int), "runs": [], "random_multi": 0, "random_same": 0}
    for ids, word_start, maskable in sequences:
        new_ids, labels = _draw(masker, ids, word_start, maskable, rng)
        if isinstance(new_ids, CheckResult):
            return new_ids
        bad = _invariants(ids, word_start, maskable, new_ids, labels)
        if bad is not None:
            return bad
        stats["runs"] += _runs(word_start, new_ids, labels)
        starts = np.flatnonzero(word_start)
        n_text = int(maskable.sum())
        for s, e in merge_runs(labels != IGNORE_INDEX):
            words = int(word_start[s:e + 1].sum()) + (0 if word_start[s] else 1)
            stats["words"][min(words, 11) - 1] += 1
            seg = new_ids[s:e + 1]
            action = 0 if (seg == MASK).all() else 2 if (seg == ids[s:e + 1]).all() else 1
            stats["action"][action] += 1
            if action == 1 and e > s:                 # a random span of several tokens
                stats["random_multi"] += 1
                stats["random_same"] += int((seg == seg[0]).all())
            nxt = starts[starts > s]
            first_word_end = (nxt[0] if len(nxt) else e + 1) if word_start[s] else s + 1
            stats["pieces"][min(first_word_end - s, 3) - 1] += 1
            stats["where"][min(int(10 * (s - 1) / n_text), 9)] += 1
    return stats


def _draw(masker, ids, word_start, maskable, rng):
    """(new_ids, labels) as numpy arrays, or (a failed CheckResult, None)."""
    result, err = call(masker, ids.copy(), word_start.copy(), maskable.copy(), MASK, VOCAB_SIZE, rng)
    if err is not None:
        return err, None
    if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__len__") or len(result) != 2:
        return fail(f"return a pair (new_ids, labels), got {type(result).__name__}"), None
    return as_array(result[0], "new_ids"), as_array(result[1], "labels")


def _settings(draws: int = 200, seed: int = 0):
    # fewer than 50 texts would leave the chi-square tests without power: a broken masker could pass
    return dict(draws=check_int("draws", draws, minimum=50), seed=check_seed("seed", seed))


@checker(default_time_limit=120, validate=_settings)
def check_span_masker(fn, *, draws: int = 200, seed: int = 0) -> CheckResult:
    """``fn(input_ids, word_start, maskable, mask_token_id, vocab_size, rng) -> (new_ids, labels)``:
    SpanBERT masking of one sequence at 15% (labels: original id where masked, -100 elsewhere).
    ``seed`` fixes the sequences and both random streams (the checker is deterministic);
    ``draws`` (at least 50) is the number of texts in each stage."""
    short = random_sequences(draws, seed=seed + 1, specials=True)
    runs = []
    for ids, word_start, maskable in short:                      # stage 1: invariants, short texts
        new_ids, labels = _draw(fn, ids, word_start, maskable, np.random.default_rng(seed))
        if isinstance(new_ids, CheckResult):
            return new_ids
        bad = _invariants(ids, word_start, maskable, new_ids, labels)
        if bad is not None:
            return bad
        runs += _runs(word_start, new_ids, labels)
    bad = _uses_its_rng(fn, short[:4], seed)           # valid draws, but are they the rng's?
    if bad is not None:
        return bad
    long = random_sequences(draws, seed=seed + 2, min_words=150, max_words=250)   # stage 2: distributions
    mine = span_statistics(fn, long, seed=seed + 3)
    if isinstance(mine, CheckResult):
        return mine
    for bad in (replacement_hint(runs + mine["runs"]), repeated_random_hint(mine)):
        if bad is not None:                       # (a failed verdict is falsy: no `or` here)
            return bad
    ref = span_statistics(reference_masker(), long, seed=seed + 4)
    n = mine["words"].sum()
    # Every distribution is tested; the most significant deviation names the misconception.
    ratios = {key: stat / critical for key in ("words", "action", "pieces", "where")
              for stat, critical in [chi2_two_sample(mine[key], ref[key])]}
    worst = max(ratios, key=ratios.get)
    if ratios[worst] <= 1:
        return CheckResult(True, f"budget, whole words and per-span 80/10/10 hold on {draws} texts, and span "
                                 f"lengths, the 80/10/10 mix and where spans start match SpanBERT's ({int(n)} "
                                 "spans, chi-square tests at alpha 0.001)")
    simulate = lambda config: span_statistics(reference_masker(config), long, seed=seed + 5)
    return DISTRIBUTION_HINTS[worst](mine, ref, simulate)


def _uses_its_rng(fn, texts, seed):
    """None if ``fn`` draws from the ``rng`` it is given: equal generators give equal masks,
    different ones (on some text) different masks. Else the failure."""
    differ = False
    for k, (ids, word_start, maskable) in enumerate(texts):
        a, b, c = (_draw(fn, ids, word_start, maskable, np.random.default_rng(s)) for s in (seed, seed, seed + 99 + k))
        for new_ids, _ in (a, b, c):
            if isinstance(new_ids, CheckResult):
                return new_ids
        if not all(np.array_equal(x, y) for x, y in zip(a, b)):
            return fail("two calls with equally seeded generators gave different masks: your masker does not "
                        "draw from the rng it is given (draw every random number from rng, never from "
                        "np.random or a generator of your own)")
        differ |= not all(np.array_equal(x, y) for x, y in zip(a, c))
    if not differ:
        return fail("generators with different seeds gave the same masks on every text: you create or seed a "
                    "generator of your own inside the function; draw from the rng you are given")
    return None
