"""The one dispatch from a scheme's name to its selection step, for both maskers.

Schemes differ only in step 1 of :mod:`.reference`, choosing the positions to mask; merging,
80/10/10 and the SBO targets are shared. ``SELECT[scheme]`` holds a scheme's two selectors: the
per-sequence one (:mod:`.reference`, the one to read) and the batched one (:mod:`.batched`, the
collator's). Both take ``(config, word_start, maskable, budget, rng, candidates)`` and return
the boolean mask, (L,) or (B, L). To add a scheme: write its two selectors, add its entry here
and its name to ``SCHEMES`` in :mod:`.config`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .batched import select_spans_batched, select_subword_batched, select_whole_words_batched
from .config import LINGUISTIC_MIX
from .reference import select_geometric_spans, select_linguistic, select_subword, select_whole_words


@dataclass(frozen=True)
class Selector:
    reference: Callable  # (config, (L,) word_start, (L,) maskable, int budget, rng, candidates) -> (L,) bool
    batched: Callable    # (config, (B, L), (B, L), (B,) budgets, rng, per-row candidates) -> (B, L) bool


def _linguistic(config, word_start, maskable, budget, rng, candidates):
    return select_linguistic(word_start, maskable, budget, candidates or {}, LINGUISTIC_MIX[config.scheme], rng)


def _linguistic_rows(config, word_start, maskable, budget, rng, candidates):
    """Row by row with the reference: candidate spans are ragged lists, so this step is not
    vectorised (replacement and targets still are)."""
    masked = np.zeros_like(maskable)
    for b in range(len(maskable)):
        if budget[b] > 0:
            masked[b] = _linguistic(config, word_start[b], maskable[b], budget[b], rng,
                                    candidates[b] if candidates is not None else None)
    return masked


SELECT = {
    "subword": Selector(lambda c, ws, m, b, rng, cand: select_subword(m, b, rng),
                        lambda c, ws, m, b, rng, cand: select_subword_batched(m, b, rng)),
    "whole_word": Selector(lambda c, ws, m, b, rng, cand: select_whole_words(ws, m, b, rng),
                           lambda c, ws, m, b, rng, cand: select_whole_words_batched(ws, m, b, rng)),
    "span": Selector(lambda c, ws, m, b, rng, cand: select_geometric_spans(ws, m, b, c.sampler, rng),
                     lambda c, ws, m, b, rng, cand: select_spans_batched(ws, m, b, c.sampler, rng)),
    **{name: Selector(_linguistic, _linguistic_rows) for name in LINGUISTIC_MIX},
}
