"""``SpanMaskingCollator``: SpanBERT masking as a drop-in ``data_collator`` for Hugging Face.

It takes what ``DataCollatorForLanguageModeling`` takes (a list of dicts with ``input_ids``
that already carry [CLS]/[SEP]) and returns, besides ``input_ids``/``attention_mask``/
``labels``, the Span Boundary Objective targets:

* ``span_boundaries`` (B, S, 2): positions of x_{s-1} and x_{e+1} for each masked span, -1
  where a row has fewer than S spans;
* ``span_labels`` (B, S, max_span_targets): the span's original tokens, -100 padding.

Word boundaries come from an example's ``word_ids`` when it has them (note that
``Trainer`` drops columns its model does not accept unless ``remove_unused_columns=False``),
otherwise from WordPiece's ``##`` rule. Candidate spans for the ``entity``/``phrase``/``ernie``
schemes come from ``entity_spans``/``phrase_spans`` (or a generic ``candidate_spans``), else
from the heuristic proposer run on the tokens.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Mapping

import numpy as np

from ._checks import check_choice, check_probability, check_ratio
from .masking import (MaskingConfig, ReplacementVocab, continuation_table, mask_batch,
                      maskable_positions, propose_token_spans, word_starts_from_word_ids)
from .masking.config import LINGUISTIC_MIX
from .spans import as_rng

_LINGUISTIC_KEYS = {"entity": ("entity_spans", "candidate_spans"),
                    "phrase": ("phrase_spans", "candidate_spans")}


class SpanMaskingCollator:
    """Pads a list of examples and masks them with one of the paper's schemes.

    Args:
        tokenizer: a ``transformers`` tokenizer with mask and pad tokens.
        scheme: ``"span"`` (SpanBERT, default), ``"subword"``, ``"whole_word"``, ``"entity"``,
            ``"phrase"`` or ``"ernie"``.
        mlm_probability: the budget, ``ceil(mlm_probability * n)`` of the n maskable tokens.
        geometric_p, max_span_length, min_span_length, span_length_mode: span lengths in words.
        replacement: ``"span"`` (80/10/10 once per merged span, the paper) or ``"token"``.
        mask_replace_prob, random_replace_prob: the 80 and the 10 of 80/10/10.
        random_token_dist: ``"unigram"`` (SpanBERT: corpus frequencies) or ``"uniform"``.
        unigram_counts: token counts for ``"unigram"``; defaults to the bundled corpus' counts
            for the bundled tokenizer (other tokenizers fall back to uniform, with a warning).
        max_span_targets: SBO targets kept per span (15 in the paper's configuration).
        return_span_targets: False gives only input_ids/attention_mask/labels (for a plain
            ``BertForMaskedLM``).
        seed: an int makes every call sequence reproducible (DataLoader workers get their own
            streams derived from it); None draws fresh entropy.
    """

    def __init__(self, tokenizer, scheme: str = "span", mlm_probability: float = 0.15,
                 geometric_p: float = 0.2, max_span_length: int = 10, replacement: str = "span",
                 seed: int | None = None, *, min_span_length: int = 1,
                 span_length_mode: str = "truncate", mask_replace_prob: float = 0.8,
                 random_replace_prob: float = 0.1, random_token_dist: str = "unigram",
                 unigram_counts=None, max_span_targets: int = 15,
                 return_span_targets: bool = True, pad_to_multiple_of: int | None = None,
                 return_tensors: str = "pt"):
        if getattr(tokenizer, "mask_token_id", None) is None:
            raise ValueError("tokenizer has no mask token (mask_token_id is None); masked "
                             "language modelling needs one, e.g. tokenizer.add_special_tokens("
                             "{'mask_token': '[MASK]'})")
        if getattr(tokenizer, "pad_token_id", None) is None:
            raise ValueError("tokenizer has no pad token (pad_token_id is None); set one to batch")
        # Check under the names the caller used (MaskingConfig calls them mask_ratio, ...).
        check_ratio("mlm_probability", mlm_probability)
        check_probability("mask_replace_prob", mask_replace_prob)
        check_probability("random_replace_prob", random_replace_prob)
        self.tokenizer = tokenizer
        self.config = MaskingConfig(
            scheme=scheme, mask_ratio=mlm_probability, geometric_p=geometric_p,
            max_span_length=max_span_length, min_span_length=min_span_length,
            span_length_mode=span_length_mode, replacement=replacement,
            mask_prob=mask_replace_prob, random_prob=random_replace_prob,
            max_span_targets=max_span_targets)
        check_choice("random_token_dist", random_token_dist, ("unigram", "uniform"))
        check_choice("return_tensors", return_tensors, ("pt", "np"))
        if pad_to_multiple_of is not None and (not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1):
            raise ValueError(f"pad_to_multiple_of must be a positive integer or None, got {pad_to_multiple_of!r}")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.seed, self.pad_to_multiple_of = seed, pad_to_multiple_of
        self.return_span_targets, self.return_tensors = return_span_targets, return_tensors
        self.special_ids = sorted(set(tokenizer.all_special_ids))
        self.continuation = continuation_table(tokenizer)
        self.vocab = self._replacement_vocab(random_token_dist, unigram_counts)
        self._rng, self._rng_owner = None, None

    def _replacement_vocab(self, dist, counts):
        tok = self.tokenizer
        if dist == "unigram" and counts is None:
            from .data.tokenizer import bundled_unigram_counts, is_bundled_tokenizer

            if is_bundled_tokenizer(tok):
                counts = bundled_unigram_counts()
            else:
                warnings.warn("random_token_dist='unigram' needs unigram_counts for this tokenizer "
                              "(see spanbert_edu.data.tokenizer.count_unigrams); drawing random "
                              "replacements uniformly instead", stacklevel=3)
                dist = "uniform"
        if dist == "uniform":
            return ReplacementVocab.uniform(len(tok), tok.mask_token_id, self.special_ids)
        counts = np.asarray(counts)
        if counts.shape != (len(tok),):
            raise ValueError(f"unigram_counts must have one count per token ({len(tok)}), "
                             f"got shape {counts.shape}")
        return ReplacementVocab.unigram(counts, tok.mask_token_id, self.special_ids)

    @property
    def rng(self) -> np.random.Generator:
        """This process' generator: DataLoader workers (forked copies) each get their own."""
        import torch.utils.data

        info = torch.utils.data.get_worker_info()
        owner = (os.getpid(), None if info is None else info.id)
        if self._rng is None or owner != self._rng_owner:
            if self.seed is None or info is None:
                self._rng = as_rng(self.seed)
            else:
                self._rng = np.random.default_rng([self.seed, info.id + 1])
            self._rng_owner = owner
        return self._rng

    # ------------------------------------------------------------------ padding
    def _as_rows(self, examples):
        if not isinstance(examples, (list, tuple)) or len(examples) == 0:
            raise TypeError(f"examples must be a non-empty list of dicts with 'input_ids', got {examples!r:.80}")
        kinds = {type(e).__name__ for e in examples}
        dicts = [isinstance(e, Mapping) for e in examples]
        if any(dicts) and not all(dicts):
            raise TypeError(f"examples must all be dicts or all be id sequences, got a mix of {sorted(kinds)}")
        if not all(dicts):
            examples = [{"input_ids": e} for e in examples]
        rows = []
        for i, e in enumerate(examples):
            if "input_ids" not in e:
                raise ValueError(f"examples[{i}] has no 'input_ids' (keys: {sorted(e)})")
            ids = np.asarray(e["input_ids"])
            if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
                raise TypeError(f"examples[{i}]['input_ids'] must be a 1-D sequence of ints, got {e['input_ids']!r:.80}")
            rows.append((e, ids.astype(np.int64)))
        return rows

    def _pad(self, rows):
        B = len(rows)
        L = max(len(ids) for _, ids in rows)
        if self.pad_to_multiple_of:
            L = -(-L // self.pad_to_multiple_of) * self.pad_to_multiple_of
        input_ids = np.full((B, L), self.tokenizer.pad_token_id, dtype=np.int64)
        attention = np.zeros((B, L), dtype=np.int64)
        for b, (e, ids) in enumerate(rows):
            input_ids[b, :len(ids)] = ids
            attention[b, :len(ids)] = np.asarray(e["attention_mask"])[:len(ids)] if "attention_mask" in e else 1
        return input_ids, attention

    def _word_starts(self, rows, input_ids):
        word_start = ~self.continuation[np.minimum(input_ids, len(self.continuation) - 1)]
        for b, (e, ids) in enumerate(rows):
            if e.get("word_ids") is not None and len(e["word_ids"]) == len(ids):
                word_start[b, :len(ids)] = word_starts_from_word_ids(list(e["word_ids"]))
        return word_start

    def _candidates(self, rows, input_ids, word_start, maskable):
        kinds = [k for k in ("entity", "phrase") if k in LINGUISTIC_MIX[self.config.scheme]]
        out = []
        for b, (e, _) in enumerate(rows):
            found = {}
            for kind in kinds:
                key = next((k for k in _LINGUISTIC_KEYS[kind] if e.get(k) is not None), None)
                if key is not None:
                    found[kind] = [tuple(int(x) for x in span) for span in e[key]]
            missing = [k for k in kinds if k not in found]
            if missing:  # no proposer ran at data preparation: the heuristic on the tokens
                tokens = self.tokenizer.convert_ids_to_tokens(input_ids[b].tolist())
                found.update(propose_token_spans(tokens, word_start[b], maskable[b], missing))
            out.append(found)
        return out

    # ------------------------------------------------------------------ the call
    def __call__(self, examples):
        rows = self._as_rows(examples)
        input_ids, attention_mask = self._pad(rows)
        maskable = maskable_positions(input_ids, self.special_ids, attention_mask)
        for b, (e, ids) in enumerate(rows):
            if e.get("special_tokens_mask") is not None:
                maskable[b, :len(ids)] &= ~np.asarray(e["special_tokens_mask"], dtype=bool)
        word_start = self._word_starts(rows, input_ids)
        candidates = None
        if self.config.scheme in LINGUISTIC_MIX:
            candidates = self._candidates(rows, input_ids, word_start, maskable)
        masked = mask_batch(input_ids, word_start, maskable, self.config, self.vocab, self.rng, candidates)
        batch = {"input_ids": masked["input_ids"], "attention_mask": attention_mask,
                 "labels": masked["labels"]}
        if all("token_type_ids" in e for e, _ in rows):
            token_type_ids = np.zeros_like(input_ids)
            for b, (e, ids) in enumerate(rows):
                token_type_ids[b, :len(ids)] = np.asarray(e["token_type_ids"])[:len(ids)]
            batch["token_type_ids"] = token_type_ids
        if self.return_span_targets:
            batch["span_boundaries"] = masked["span_boundaries"]
            batch["span_labels"] = masked["span_labels"]
        if self.return_tensors == "pt":
            import torch

            batch = {k: torch.from_numpy(v) for k, v in batch.items()}
        return batch

    def __repr__(self):
        c = self.config
        return (f"SpanMaskingCollator(scheme={c.scheme!r}, mlm_probability={c.mask_ratio}, "
                f"geometric_p={c.geometric_p}, max_span_length={c.max_span_length}, "
                f"replacement={c.replacement!r}, seed={self.seed})")
