"""The span-masker checker's hints: which misconception a failed draw or a failed distribution
test points to. Each function gets what the checker measured and returns a failed verdict.

``simulate(config)`` (given by the checker) runs the library's masker with the settings of a
:class:`~spanbert_edu.masking.MaskingConfig` on the checker's texts and returns its statistics,
so that a mismatch can be compared with the reference run of each classic mistake.
"""
from __future__ import annotations

import math

import numpy as np

from ..masking import MaskingConfig
from ._common import chi2_two_sample, fail

MASK, FIRST_WORD_ID = 4, 10

# Candidate misconceptions for a length mismatch: the reference run with that mistake, and its hint.
LENGTH_MISTAKES = {
    "whole_word": (MaskingConfig(scheme="whole_word"),
                   "your spans are single whole words: that is whole-word masking, the scheme SpanBERT "
                   "compares against and beats (the paper's Table 6); contiguous spans of several words make the model "
                   "predict a whole phrase from its context. Draw each span's length in words from the "
                   "geometric distribution (p = 0.2, 1..10)"),
    "swapped": (MaskingConfig(geometric_p=0.8),
                "your spans are mostly one word, with a few of two: did you swap p and q? P(length = l) = "
                "p q^(l-1) with p = 0.2, q = 0.8 (mean 3.8 words), not 0.8 * 0.2^(l-1)"),
    "uniform": (MaskingConfig(geometric_p=1e-9),
                "your span lengths look UNIFORM on 1..10; SpanBERT's are geometric (p = 0.2): short spans "
                "are the most likely, so the mean is 3.8 words, not 5.5"),
    "clip": (MaskingConfig(span_length_mode="clip"),
             "your span lengths are CLIPPED at 10 (too many 10-word spans): the authors truncate the "
             "geometric to 1..10 and renormalise (mean 3.8), they do not pile the tail onto 10"),
}


def budget_hint(masked, budget, maskable, ids, new_ids):
    """Too many or too few tokens masked. Too few with every labelled token changed: the labels
    were taken from what changed, which leaves out the spans 80/10/10 kept unchanged."""
    n = int(masked.sum())
    if n < budget and n and (new_ids[masked] != ids[masked]).all() and budget - n >= 2:
        return fail(f"{n} tokens labelled where the budget is {budget}, and every labelled token was changed: "
                    "did you label the positions whose id changed? A span kept unchanged (10% of spans) is "
                    "masked too: label every position you chose, whatever 80/10/10 did to it")
    if n != budget and n in (math.ceil(0.15 * len(ids)), math.ceil(0.15 * (len(ids) - 2))):
        return fail(f"{n} tokens masked where the budget is ceil(0.15 * {int(maskable.sum())}) = {budget}: your "
                    f"budget counts the special tokens or the padding. n is the number of positions where "
                    "maskable is True (a text may hold padding, or a [SEP] between two segments)")
    return fail(f"{n} tokens masked where the budget is ceil(0.15 * {int(maskable.sum())}) = {budget}: stop the "
                "moment the budget is reached (and keep going until it is)")


def replacement_hint(runs):
    """``runs``: (is_mask, word_start) of every merged run. None if no run is partly [MASK]; else
    the misconception: random ids that hit [MASK], 80/10/10 per word, per drawn span, per token."""
    mixed = [(m, w) for m, w in runs if m.any() and not m.all()]
    if not mixed:
        return None
    share = sum(int(m.sum()) for m, _ in mixed) / sum(len(m) for m, _ in mixed)
    if share < 0.3:
        return fail(f"a span you replaced with random tokens holds [MASK] ({share:.0%} of the tokens of such "
                    f"spans): draw random ids from [{FIRST_WORD_ID}, vocab_size), never a special token")
    if all(w[1:][m[1:] != m[:-1]].all() for m, w in mixed):
        multiword = sum(int(w.sum()) > 1 for _, w in runs)
        if len(mixed) > 0.1 * multiword:   # per drawn span, only the rare merged runs can mix
            return fail(f"{len(mixed)} of your {multiword} spans of several words are part [MASK], part not, "
                        "switching only where a word starts: you decided 80/10/10 once per WORD; decide once "
                        "per merged span (the whole span is [MASK], random or kept)")
        return fail("a merged span is part [MASK], part not, and it changes only where a word starts: you "
                    "decided 80/10/10 once per DRAWN span, before merging. Spans that overlap or touch become "
                    "ONE span, and 80/10/10 is decided once for the merged run")
    return fail("a span is partly [MASK] and partly not: decide 80/10/10 ONCE PER SPAN, not per token")


def repeated_random_hint(stats):
    """None, unless most random multi-token spans repeat one id."""
    n, same = stats["random_multi"], stats["random_same"]
    if n >= 5 and same > 0.5 * n:
        return fail(f"{same} of your {n} random spans of several tokens repeat ONE random id: draw a random id "
                    "for EACH token of a span replaced by random tokens")
    return None


def length_hint(mine, ref, simulate):
    mean = lambda h: float((np.arange(1, 12) * h).sum() / h.sum())
    observed = f" (mean {mean(mine['words']):.2f} words per merged span here, SpanBERT {mean(ref['words']):.2f})"
    base = chi2_two_sample(mine["words"], ref["words"])[0]
    fits = {}
    for name, (config, _) in LENGTH_MISTAKES.items():
        stat = chi2_two_sample(mine["words"], simulate(config)["words"])[0]
        if stat < base / 4:
            fits[name] = stat
    if fits:                                          # the mistake whose reference run fits best
        return fail(LENGTH_MISTAKES[min(fits, key=fits.get)][1] + observed)
    return fail("your span lengths in words differ from SpanBERT's (chi-square test, alpha 0.001)" + observed +
                "; check the geometric distribution (p = 0.2, truncated to 1..10, lengths in WORDS)")


def action_hint(mine, ref, simulate):
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


def pieces_hint(mine, ref, simulate):
    p_mine, p_ref = mine["pieces"] / mine["pieces"].sum(), ref["pieces"] / ref["pieces"].sum()
    return fail(f"spans start on one-piece words {p_mine[0]:.0%} of the time (SpanBERT {p_ref[0]:.0%}): "
                "SpanBERT draws the anchor uniformly over SUBWORD tokens and then moves it BACK to the start of "
                "its own word, so a word made of three pieces starts a span three times as often as a one-piece "
                "word. Drawing the anchor over words, or moving it forward to the next word, changes that")


def where_hint(mine, ref, simulate):
    w_mine, w_ref = mine["where"] / mine["where"].sum(), ref["where"] / ref["where"].sum()
    return fail(f"{w_mine[0]:.0%} of your spans start in the first tenth of the text (SpanBERT {w_ref[0]:.0%}): "
                "draw each anchor uniformly at random over the sequence")


DISTRIBUTION_HINTS = {"words": length_hint, "action": action_hint, "pieces": pieces_hint, "where": where_hint}
