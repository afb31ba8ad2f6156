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

CLS, SEP, MASK, FIRST_WORD_ID, VOCAB_SIZE = 2, 3, 4, 10, 100


def random_sequences(n, seed, min_words=20, max_words=60):
    """[CLS] words [SEP] sequences, 1-3 pieces per word: (ids, word_start, maskable)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        pieces = rng.integers(1, 4, size=int(rng.integers(min_words, max_words + 1)))
        starts = np.concatenate([[True] + [False] * (k - 1) for k in pieces])
        ids = np.concatenate([[CLS], rng.integers(FIRST_WORD_ID, 100, size=len(starts)), [SEP]])
        word_start = np.concatenate([[False], starts, [False]])
        maskable = np.concatenate([[False], np.ones(len(starts), bool), [False]])
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
    """None if this draw is a valid SpanBERT masking (80/10/10 homogeneity aside: see
    :func:`_mixed_runs`), else the failure."""
    if new_ids.shape != ids.shape or labels.shape != ids.shape:
        return fail(f"return (new_ids, labels), each of shape {ids.shape}; got {new_ids.shape} and {labels.shape}")
    masked = labels != IGNORE_INDEX
    budget = math.ceil(0.15 * int(maskable.sum()))
    if (masked & ~maskable).any():
        return fail("you masked a special token ([CLS]/[SEP]): only maskable positions may be chosen")
    if masked.sum() != budget:
        return fail(f"{int(masked.sum())} tokens masked where the budget is ceil(0.15 * {int(maskable.sum())}) "
                    f"= {budget}: stop the moment the budget is reached (and keep going until it is)")
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


def _mixed_runs(word_start, new_ids, labels):
    """The merged runs that are partly [MASK] and partly not: (is_mask, word_start) per run."""
    out = []
    for s, e in merge_runs(labels != IGNORE_INDEX):
        is_mask = new_ids[s:e + 1] == MASK
        if is_mask.any() and not is_mask.all():
            out.append((is_mask, word_start[s:e + 1]))
    return out


def _replacement_hint(mixed) -> CheckResult:
    """Name the misconception behind runs that are partly [MASK]: random ids that hit [MASK],
    80/10/10 decided per drawn span before the merge, or decided per token."""
    share = sum(int(m.sum()) for m, _ in mixed) / sum(len(m) for m, _ in mixed)
    if share < 0.3:
        return fail(f"a span you replaced with random tokens holds [MASK] ({share:.0%} of the tokens of such "
                    f"spans): draw random ids from [{FIRST_WORD_ID}, vocab_size), never a special token")
    if all(w[1:][m[1:] != m[:-1]].all() for m, w in mixed):
        return fail("a merged span is part [MASK], part not, and it changes only where a word starts: you "
                    "decided 80/10/10 once per DRAWN span, before merging. Spans that overlap or touch become "
                    "ONE span, and 80/10/10 is decided once for the merged run")
    return fail("a span is partly [MASK] and partly not: decide 80/10/10 ONCE PER SPAN, not per token")


def span_statistics(masker, sequences, seed):
    """Histograms over every merged run: words per run (1..10, 11+), action (mask, random,
    keep), pieces of the word the run starts on (1..3), start position in tenths of the text."""
    rng = np.random.default_rng(seed)
    stats = {"words": np.zeros(11, int), "action": np.zeros(3, int), "pieces": np.zeros(3, int),
             "where": np.zeros(10, int), "mixed": []}
    for ids, word_start, maskable in sequences:
        new_ids, labels = _draw(masker, ids, word_start, maskable, rng)
        if isinstance(new_ids, CheckResult):
            return new_ids
        bad = _invariants(ids, word_start, maskable, new_ids, labels)
        if bad is not None:
            return bad
        stats["mixed"] += _mixed_runs(word_start, new_ids, labels)
        starts = np.flatnonzero(word_start)
        n_text = int(maskable.sum())
        for s, e in merge_runs(labels != IGNORE_INDEX):
            words = int(word_start[s:e + 1].sum()) + (0 if word_start[s] else 1)
            stats["words"][min(words, 11) - 1] += 1
            seg = new_ids[s:e + 1]
            stats["action"][0 if (seg == MASK).all() else 2 if (seg == ids[s:e + 1]).all() else 1] += 1
            nxt = starts[starts > s]
            first_word_end = (nxt[0] if len(nxt) else e + 1) if word_start[s] else s + 1
            stats["pieces"][min(first_word_end - s, 3) - 1] += 1
            stats["where"][min(int(10 * (s - 1) / n_text), 9)] += 1
    return stats


# Candidate misconceptions for a length mismatch: (name, the reference run with that mistake).
_LENGTH_MISTAKES = {
    "whole_word": (MaskingConfig(scheme="whole_word"),
                   "your spans are single whole words: that is whole-word masking, the scheme SpanBERT "
                   "compares against and beats (the paper's Table 6); contiguous spans of several words make the model "
                   "predict a whole phrase from its context. Draw each span's length in words from the "
                   "geometric distribution (p = 0.2, 1..10)"),
    "uniform": (MaskingConfig(geometric_p=1e-9),
                "your span lengths look UNIFORM on 1..10; SpanBERT's are geometric (p = 0.2): short spans "
                "are the most likely, so the mean is 3.8 words, not 5.5"),
    "clip": (MaskingConfig(span_length_mode="clip"),
             "your span lengths are CLIPPED at 10 (too many 10-word spans): the authors truncate the "
             "geometric to 1..10 and renormalise (mean 3.8), they do not pile the tail onto 10"),
}


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
    short = random_sequences(draws, seed=seed + 1)
    mixed = []
    for ids, word_start, maskable in short:                      # stage 1: invariants, short texts
        new_ids, labels = _draw(fn, ids, word_start, maskable, np.random.default_rng(seed))
        if isinstance(new_ids, CheckResult):
            return new_ids
        bad = _invariants(ids, word_start, maskable, new_ids, labels)
        if bad is not None:
            return bad
        mixed += _mixed_runs(word_start, new_ids, labels)
    long = random_sequences(draws, seed=seed + 2, min_words=150, max_words=250)   # stage 2: distributions
    mine = span_statistics(fn, long, seed=seed + 3)
    if isinstance(mine, CheckResult):
        return mine
    if mixed or mine["mixed"]:
        return _replacement_hint(mixed + mine["mixed"])
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
    return _HINTS[worst](mine, ref, long, seed)


def _length_hint(mine, ref, sequences, seed):
    mean = lambda h: float((np.arange(1, 12) * h).sum() / h.sum())
    observed = f" (mean {mean(mine['words']):.2f} words per merged span here, SpanBERT {mean(ref['words']):.2f})"
    for config, hint in _LENGTH_MISTAKES.values():
        other = span_statistics(reference_masker(config), sequences, seed=seed + 5)
        if chi2_two_sample(mine["words"], other["words"])[0] < chi2_two_sample(mine["words"], ref["words"])[0] / 4:
            return fail(hint + observed)
    return fail("your span lengths in words differ from SpanBERT's (chi-square test, alpha 0.001)" + observed +
                "; check the geometric distribution (p = 0.2, truncated to 1..10, lengths in WORDS)")


def _action_hint(mine, ref, sequences, seed):
    share = mine["action"] / mine["action"].sum()
    if share[2] < 0.03:
        return fail(f"you never (or almost never: {share[2]:.1%}) keep a span unchanged: 80/10/10 means 80% "
                    "[MASK], 10% random tokens and 10% the ORIGINAL tokens, so that the model cannot assume "
                    "that every visible token is correct and must keep a useful representation of every "
                    "token (BERT's reason, kept by SpanBERT)")
    if share[1] < 0.03:
        return fail(f"you never (or almost never: {share[1]:.1%}) replace a span with random tokens: "
                    "10% of spans get random tokens (80/10/10)")
    return fail(f"your spans are {share[0]:.0%} [MASK], {share[1]:.0%} random, {share[2]:.0%} kept: "
                "SpanBERT uses 80/10/10, decided once per span")


def _pieces_hint(mine, ref, sequences, seed):
    p_mine, p_ref = mine["pieces"] / mine["pieces"].sum(), ref["pieces"] / ref["pieces"].sum()
    return fail(f"spans start on one-piece words {p_mine[0]:.0%} of the time (SpanBERT {p_ref[0]:.0%}): "
                "SpanBERT draws the anchor uniformly over SUBWORD tokens and then moves it to the start of "
                "its word, so a word made of three pieces starts a span three times as often as a one-piece "
                "word. Drawing the anchor over words changes that")


def _where_hint(mine, ref, sequences, seed):
    w_mine, w_ref = mine["where"] / mine["where"].sum(), ref["where"] / ref["where"].sum()
    return fail(f"{w_mine[0]:.0%} of your spans start in the first tenth of the text (SpanBERT {w_ref[0]:.0%}): "
                "draw each anchor uniformly at random over the sequence")


_HINTS = {"words": _length_hint, "action": _action_hint, "pieces": _pieces_hint, "where": _where_hint}
