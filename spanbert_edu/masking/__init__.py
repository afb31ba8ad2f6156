"""Masking: every scheme the SpanBERT paper compares, in a readable and a batched version.

The interface is :class:`MaskingConfig`, :class:`ReplacementVocab`, :func:`mask_sequence`,
:func:`mask_batch`, ``SCHEMES`` and :func:`masked_runs`; the modules behind it:

* :mod:`.engine` - the settings, the scheme table and the two maskers' entry points;
* :mod:`.reference` - one sequence at a time, the algorithm as the authors wrote it (read this);
* :mod:`.batched` - the same distributions, vectorised over a batch (the collator's engine);
* :mod:`.words` - word starts from ``word_ids()`` or the ``##`` rule; which tokens are maskable;
* :mod:`.vocab` - the replacement vocabulary of the 10% "random token" case;
* :mod:`.proposers` - entity / noun-phrase span proposers (heuristic, or spaCy);
* :mod:`.stats` - realised span lengths after merging and the budget cut.
"""
from .engine import LINGUISTIC_MIX, SCHEMES, MaskingConfig, mask_batch, mask_sequence
from .reference import masked_runs
from .vocab import ReplacementVocab

__all__ = ["MaskingConfig", "ReplacementVocab", "mask_sequence", "mask_batch", "SCHEMES",
           "LINGUISTIC_MIX", "masked_runs"]
