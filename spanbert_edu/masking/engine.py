"""The masking engine's one entry: the settings, the scheme table, and the two maskers.

Every scheme the paper compares differs only in step 1, choosing the positions to mask
(:mod:`.reference` explains the three steps). ``SCHEMES_TABLE[scheme]`` holds a scheme's two
selectors: the per-sequence one in :mod:`.reference` (the one to read) and the vectorised one in
:mod:`.batched` (the collator's). Both take ``(config, word_start, maskable, budget, rng,
candidates)`` and return the boolean mask, (L,) or (B, L). The scheme names are the table's keys.

* :func:`mask_sequence` masks one sequence with the reference selectors (notebooks, exercises);
* :func:`mask_batch` masks a (B, L) batch with the batched ones (the collator, training).

To add a scheme: write its two selectors and add one entry to ``SCHEMES_TABLE``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._checks import check_choice, check_geometric_p, check_int, check_probability, check_ratio
from ..spans import MODES, SpanLengthSampler
from . import batched, reference
from .vocab import ReplacementVocab
from .words import normalise_word_starts

REPLACEMENTS = ("span", "token")   # 80/10/10 once per merged span (the paper), or per token

# How each linguistic scheme mixes its draws; the rest of the probability is one random whole
# word. entity/phrase: the paper's 50% proposed span / 50% random whole word. ernie: our
# ERNIE-1.0-style mixture, entity, phrase and word levels equally likely per draw.
LINGUISTIC_MIX = {
    "entity": {"entity": 0.5},
    "phrase": {"phrase": 0.5},
    "ernie": {"entity": 1 / 3, "phrase": 1 / 3},
}


@dataclass(frozen=True)
class Selector:
    reference: Callable  # (config, (L,) word_start, (L,) maskable, int budget, rng, candidates) -> (L,) bool
    batched: Callable    # (config, (B, L), (B, L), (B,) budgets, rng, per-row candidates) -> (B, L) bool


def _linguistic(config, word_start, maskable, budget, rng, candidates):
    return reference.select_linguistic(word_start, maskable, budget, candidates or {},
                                       LINGUISTIC_MIX[config.scheme], rng)


def _linguistic_rows(config, word_start, maskable, budget, rng, candidates):
    """Row by row with the reference: candidate spans are ragged lists, so this step is not
    vectorised (replacement and targets still are)."""
    masked = np.zeros_like(maskable)
    for b in range(len(maskable)):
        if budget[b] > 0:
            masked[b] = _linguistic(config, word_start[b], maskable[b], budget[b], rng,
                                    candidates[b] if candidates is not None else None)
    return masked


SCHEMES_TABLE = {
    "subword": Selector(lambda c, ws, m, b, rng, cand: reference.select_subword(m, b, rng),
                        lambda c, ws, m, b, rng, cand: batched.select_subword_batched(m, b, rng)),
    "whole_word": Selector(lambda c, ws, m, b, rng, cand: reference.select_whole_words(ws, m, b, rng),
                           lambda c, ws, m, b, rng, cand: batched.select_whole_words_batched(ws, m, b, rng)),
    "span": Selector(lambda c, ws, m, b, rng, cand: reference.select_geometric_spans(ws, m, b, c.sampler, rng),
                     lambda c, ws, m, b, rng, cand: batched.select_spans_batched(ws, m, b, c.sampler, rng)),
    **{name: Selector(_linguistic, _linguistic_rows) for name in LINGUISTIC_MIX},
}
SCHEMES = tuple(SCHEMES_TABLE)


@dataclass(frozen=True)
class MaskingConfig:
    """Settings shared by both maskers and the collator, under Hugging Face's names where HF has
    one (``mlm_probability``, ``mask_replace_prob``, ``random_replace_prob``).

    Defaults are the paper's: geometric spans (p=0.2, 1..10 words, truncated), 15% of the
    tokens, 80/10/10 decided once per span, SBO targets cut to 15 tokens.
    """

    scheme: str = "span"
    mlm_probability: float = 0.15      # budget = ceil(mlm_probability * maskable tokens)
    geometric_p: float = 0.2
    max_span_length: int = 10          # in words
    min_span_length: int = 1
    span_length_mode: str = "truncate"  # or "clip" (see spanbert_edu.spans)
    replacement: str = "span"          # 80/10/10 per merged span, or "token" (per token)
    mask_replace_prob: float = 0.8     # -> [MASK]
    random_replace_prob: float = 0.1   # -> a random token; the rest stays unchanged
    max_span_targets: int = 15         # SBO targets per span (the authors' max_pair_targets)

    def __post_init__(self):
        check_choice("scheme", self.scheme, SCHEMES)
        check_ratio("mlm_probability", self.mlm_probability)
        check_geometric_p(self.geometric_p)
        check_int("min_span_length", self.min_span_length, minimum=1)
        check_int("max_span_length", self.max_span_length, minimum=1)
        if self.max_span_length < self.min_span_length:
            raise ValueError(f"max_span_length must be >= min_span_length, got "
                             f"{self.max_span_length} < {self.min_span_length}")
        check_choice("span_length_mode", self.span_length_mode, MODES)
        check_choice("replacement", self.replacement, REPLACEMENTS)
        check_probability("mask_replace_prob", self.mask_replace_prob)
        check_probability("random_replace_prob", self.random_replace_prob)
        if self.mask_replace_prob + self.random_replace_prob > 1.0 + 1e-12:
            raise ValueError(f"mask_replace_prob + random_replace_prob must be <= 1, got "
                             f"{self.mask_replace_prob} + {self.random_replace_prob}")
        check_int("max_span_targets", self.max_span_targets, minimum=1)

    def budget(self, n_maskable):
        """ceil(mlm_probability * n), the authors' budget (plain float arithmetic, as theirs): an
        int for an int count, an int64 array for an array of counts (one per row)."""
        out = np.ceil(np.asarray(n_maskable) * self.mlm_probability).astype(np.int64)
        return int(out) if out.ndim == 0 else out

    @property
    def sampler(self) -> SpanLengthSampler:
        """The span-length distribution of these settings (the ``span`` scheme's lengths)."""
        return SpanLengthSampler(self.geometric_p, self.max_span_length, self.min_span_length,
                                 self.span_length_mode)


def mask_sequence(input_ids, word_start, maskable, config: MaskingConfig, vocab: ReplacementVocab,
                  rng=None, candidates=None) -> reference.MaskedSequence:
    """Mask one sequence with ``config.scheme``.

    ``input_ids``, ``word_start``, ``maskable``: (L,) arrays (see :mod:`.words`).
    ``candidates``: ``{"entity": [(s, e), ...], "phrase": [...]}`` for the linguistic schemes.
    A sequence with no maskable token comes back unchanged.
    """
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    maskable = np.asarray(maskable, dtype=bool)
    word_start = normalise_word_starts(word_start, maskable)
    if not isinstance(vocab, ReplacementVocab):
        raise TypeError(f"vocab must be a ReplacementVocab (the [MASK] id and the random-token "
                        f"distribution), got {type(vocab).__name__}")
    budget = config.budget(int(maskable.sum()))
    if budget == 0:
        return reference.replace_and_target(input_ids, maskable, [], config, vocab, rng)
    masked = SCHEMES_TABLE[config.scheme].reference(config, word_start, maskable, budget, rng, candidates)
    return reference.replace_and_target(input_ids, maskable, reference.merge_runs(masked), config, vocab, rng)


def mask_batch(input_ids, word_start, maskable, config: MaskingConfig, vocab: ReplacementVocab,
               rng: np.random.Generator, candidates=None) -> dict:
    """Mask a (B, L) batch; ``candidates`` is a per-row list of ``{"entity": [(s, e)], ...}``.
    Returns numpy arrays under the batch contract's keys (:mod:`spanbert_edu.batch`)."""
    input_ids = np.asarray(input_ids, dtype=np.int64)
    maskable = np.asarray(maskable, dtype=bool)
    word_start = normalise_word_starts(word_start, maskable)
    budget = config.budget(maskable.sum(1))                          # (B,)
    masked = SCHEMES_TABLE[config.scheme].batched(config, word_start, maskable, budget, rng, candidates)
    return batched.replace_and_target_batched(input_ids, maskable, masked, config, vocab, rng)
