"""What a masking run needs besides the tokens: the settings and the replacement vocabulary.

``MaskingConfig`` holds the knobs the paper varies (scheme, ratio, span lengths, 80/10/10);
``ReplacementVocab`` knows the [MASK] id and how to draw the "random token" of the 10% case.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import check_choice, check_geometric_p, check_int, check_probability, check_ratio
from ..spans import SpanLengthSampler

SCHEMES = ("subword", "whole_word", "span", "entity", "phrase", "ernie")
REPLACEMENTS = ("span", "token")

# How each linguistic scheme mixes its draws; the rest of the probability is one random whole
# word. entity/phrase: the paper's 50% proposed span / 50% random whole word. ernie: our
# ERNIE-1.0-style mixture, entity, phrase and word levels equally likely per draw.
LINGUISTIC_MIX = {
    "entity": {"entity": 0.5},
    "phrase": {"phrase": 0.5},
    "ernie": {"entity": 1 / 3, "phrase": 1 / 3},
}


@dataclass(frozen=True)
class MaskingConfig:
    """Settings shared by the reference masker, the batched masker and the collator.

    Defaults are the paper's: geometric spans (p=0.2, 1..10 words, truncated), 15% of the
    tokens, 80/10/10 decided once per span, SBO targets cut to 15 tokens.
    """

    scheme: str = "span"
    mask_ratio: float = 0.15           # budget = ceil(mask_ratio * maskable tokens)
    geometric_p: float = 0.2
    max_span_length: int = 10          # in words
    min_span_length: int = 1
    span_length_mode: str = "truncate"  # or "clip" (see spanbert_edu.spans)
    replacement: str = "span"          # 80/10/10 per merged span, or "token" (per token)
    mask_prob: float = 0.8             # -> [MASK]
    random_prob: float = 0.1           # -> a random token; the rest stays unchanged
    max_span_targets: int = 15         # SBO targets per span (the authors' max_pair_targets)

    def __post_init__(self):
        check_choice("scheme", self.scheme, SCHEMES)
        check_ratio("mask_ratio", self.mask_ratio)
        check_geometric_p(self.geometric_p)
        check_int("min_span_length", self.min_span_length, minimum=1)
        check_int("max_span_length", self.max_span_length, minimum=1)
        if self.max_span_length < self.min_span_length:
            raise ValueError(f"max_span_length must be >= min_span_length, got "
                             f"{self.max_span_length} < {self.min_span_length}")
        check_choice("span_length_mode", self.span_length_mode, ("truncate", "clip"))
        check_choice("replacement", self.replacement, REPLACEMENTS)
        check_probability("mask_prob", self.mask_prob)
        check_probability("random_prob", self.random_prob)
        if self.mask_prob + self.random_prob > 1.0 + 1e-12:
            raise ValueError(f"mask_prob + random_prob must be <= 1, got "
                             f"{self.mask_prob} + {self.random_prob}")
        check_int("max_span_targets", self.max_span_targets, minimum=1)

    def budget(self, n_maskable):
        """ceil(mask_ratio * n), the authors' budget (plain float arithmetic, as theirs): an int
        for an int count, an int64 array for an array of counts (one per row)."""
        out = np.ceil(np.asarray(n_maskable) * self.mask_ratio).astype(np.int64)
        return int(out) if out.ndim == 0 else out

    @property
    def sampler(self) -> SpanLengthSampler:
        """The span-length distribution of these settings (the ``span`` scheme's lengths)."""
        return SpanLengthSampler(self.geometric_p, self.max_span_length, self.min_span_length,
                                 self.span_length_mode)


class ReplacementVocab:
    """The [MASK] id and the distribution the 10% "random token" case draws from.

    SpanBERT draws random replacements from the corpus' unigram distribution (frequent tokens
    more often); BERT and Hugging Face draw uniformly over the vocabulary. Special tokens are
    never drawn here.
    """

    def __init__(self, mask_token_id: int, weights):
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1 or len(weights) == 0 or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError("weights must be a non-empty 1-D array of non-negative numbers "
                             "with a positive sum")
        self.mask_token_id = check_int("mask_token_id", mask_token_id, minimum=0)
        self.probs = weights / weights.sum()
        self.cdf = np.cumsum(self.probs)
        self.cdf[-1] = 1.0

    @classmethod
    def uniform(cls, vocab_size: int, mask_token_id: int, special_ids=()):
        weights = np.ones(check_int("vocab_size", vocab_size, minimum=1))
        weights[list(special_ids)] = 0
        return cls(mask_token_id, weights)

    @classmethod
    def unigram(cls, counts, mask_token_id: int, special_ids=()):
        weights = np.asarray(counts, dtype=np.float64).copy()
        weights[list(special_ids)] = 0
        return cls(mask_token_id, weights)

    def sample(self, size, rng: np.random.Generator) -> np.ndarray:
        return np.searchsorted(self.cdf, rng.random(size), side="right").astype(np.int64)
