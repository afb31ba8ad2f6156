"""Masking: every scheme the SpanBERT paper compares, in a readable and a batched version.

* :mod:`.reference` - one sequence at a time, the algorithm as the authors wrote it (read this);
* :mod:`.batched` - the same distributions, vectorised over a batch (the collator's engine);
* :mod:`.schemes` - the one table from a scheme's name to its two selectors;
* :mod:`.words` - word starts from ``word_ids()`` or the ``##`` rule; which tokens are maskable;
* :mod:`.config` - :class:`MaskingConfig` and the replacement vocabulary (80/10/10);
* :mod:`.proposers` - entity / noun-phrase span proposers (heuristic, or spaCy).
"""
from .batched import mask_batch
from .config import LINGUISTIC_MIX, SCHEMES, MaskingConfig, ReplacementVocab
from .proposers import make_proposers, propose_token_spans
from .reference import IGNORE_INDEX, MaskedSequence, mask_sequence, masked_runs, merge_runs
from .words import (continuation_table, maskable_positions, non_maskable_ids,
                    word_starts_from_word_ids, word_starts_from_wordpiece)

__all__ = ["mask_batch", "mask_sequence", "merge_runs", "masked_runs", "MaskedSequence", "MaskingConfig",
           "ReplacementVocab", "SCHEMES", "LINGUISTIC_MIX", "IGNORE_INDEX", "make_proposers",
           "propose_token_spans", "continuation_table", "maskable_positions", "non_maskable_ids",
           "word_starts_from_word_ids", "word_starts_from_wordpiece"]
