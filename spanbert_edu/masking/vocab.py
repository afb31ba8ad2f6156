"""The replacement vocabulary: the [MASK] id and what the 10% "random token" case draws from."""
from __future__ import annotations

import numpy as np

from .._checks import check_int


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
