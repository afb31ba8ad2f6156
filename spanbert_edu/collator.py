"""``SpanMaskingCollator``: SpanBERT masking as a drop-in ``data_collator`` for Hugging Face.

It takes what ``DataCollatorForLanguageModeling`` takes (a list of dicts with ``input_ids``
that already carry [CLS]/[SEP]) and returns, besides ``input_ids``/``attention_mask``/
``labels``, the Span Boundary Objective targets:

* ``span_boundaries`` (B, S, 2): positions of x_{s-1} and x_{e+1} for each masked span;
* ``span_labels`` (B, S, max_span_targets): the span's original tokens.

Keys, shapes and padding values (``IGNORE_INDEX``, ``NO_SPAN``) are the batch contract of
:mod:`spanbert_edu.batch`.

Word boundaries come from an example's ``word_ids`` when it has them (note that
``Trainer`` drops columns its model does not accept unless ``remove_unused_columns=False``),
otherwise from WordPiece's ``##`` rule. Candidate spans for the ``entity``/``phrase``/``ernie``
schemes come from ``entity_spans``/``phrase_spans`` (or a generic ``candidate_spans``), else
from the heuristic proposer run on the tokens.
"""
from __future__ import annotations

import dataclasses
import numbers
import os
import warnings
from collections.abc import Mapping

import numpy as np

from ._checks import check_choice
from .masking import LINGUISTIC_MIX, MaskingConfig, ReplacementVocab, mask_batch
from .masking.proposers import propose_token_spans
from .masking.words import (continuation_table, maskable_positions, non_maskable_ids,
                            word_starts_from_word_ids, word_starts_from_wordpiece)
from .spans import as_rng

_LINGUISTIC_KEYS = {"entity": ("entity_spans", "candidate_spans"),
                    "phrase": ("phrase_spans", "candidate_spans")}


def _stream_owner():
    """(process id, DataLoader worker id or None): who a random stream belongs to."""
    import torch.utils.data

    info = torch.utils.data.get_worker_info()
    return os.getpid(), None if info is None else info.id


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
        self.tokenizer = tokenizer
        self.config = MaskingConfig(
            scheme=scheme, mlm_probability=mlm_probability, geometric_p=geometric_p,
            max_span_length=max_span_length, min_span_length=min_span_length,
            span_length_mode=span_length_mode, replacement=replacement,
            mask_replace_prob=mask_replace_prob, random_replace_prob=random_replace_prob,
            max_span_targets=max_span_targets)
        check_choice("random_token_dist", random_token_dist, ("unigram", "uniform"))
        check_choice("return_tensors", return_tensors, ("pt", "np"))
        if pad_to_multiple_of is not None and (not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1):
            raise ValueError(f"pad_to_multiple_of must be a positive integer or None, got {pad_to_multiple_of!r}")
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        seed = None if seed is None else int(seed)
        self.seed, self.pad_to_multiple_of = seed, pad_to_multiple_of
        self.return_span_targets, self.return_tensors = return_span_targets, return_tensors
        self.special_ids = sorted(set(tokenizer.all_special_ids))   # never drawn as random tokens
        self.non_maskable = non_maskable_ids(tokenizer)              # every special except [UNK]
        self.continuation = continuation_table(tokenizer)
        self.vocab = self._replacement_vocab(random_token_dist, unigram_counts)
        self._rng, self._rng_owner = None, None

    @classmethod
    def from_config(cls, tokenizer, config: MaskingConfig, **kwargs) -> "SpanMaskingCollator":
        """A collator with the settings of ``config`` (a :class:`MaskingConfig`, whose fields
        are this constructor's keywords); ``kwargs`` are the other keywords (``seed``, ...)."""
        if not isinstance(config, MaskingConfig):
            raise TypeError(f"config must be a MaskingConfig, got {type(config).__name__}")
        return cls(tokenizer, **dataclasses.asdict(config), **kwargs)

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
        if not np.issubdtype(counts.dtype, np.number) or not np.isfinite(counts).all() or (counts < 0).any():
            raise ValueError("unigram_counts must be finite counts >= 0 (no NaN, inf or negative values)")
        if counts.sum() <= 0:
            raise ValueError("unigram_counts must count at least one token")
        return ReplacementVocab.unigram(counts, tok.mask_token_id, self.special_ids)

    @property
    def rng(self) -> np.random.Generator:
        """This process' generator: DataLoader workers (forked copies) each get their own."""
        owner = _stream_owner()
        if self._rng is None or owner != self._rng_owner:
            worker = owner[1]
            self._rng = (as_rng(self.seed) if self.seed is None or worker is None
                         else np.random.default_rng([self.seed, worker + 1]))
            self._rng_owner = owner
        return self._rng

    def reseed(self, seed) -> None:
        """Restart this process' masking stream from ``seed`` (an int or a list of ints).
        Training reseeds with ``[seed, step]`` so that a resumed run masks exactly as before."""
        self._rng, self._rng_owner = np.random.default_rng(seed), _stream_owner()

    # ------------------------------------------------------------------ padding
    def _as_dicts(self, examples):
        if not isinstance(examples, (list, tuple)) or len(examples) == 0:
            raise TypeError(f"examples must be a non-empty list of dicts with 'input_ids', got {examples!r:.80}")
        dicts = [isinstance(e, Mapping) for e in examples]
        if any(dicts) and not all(dicts):
            kinds = sorted({type(e).__name__ for e in examples})
            raise TypeError(f"examples must all be dicts or all be id sequences, got a mix of {kinds}")
        if not all(dicts):
            examples = [{"input_ids": e} for e in examples]
        for i, e in enumerate(examples):
            if "input_ids" not in e:
                raise ValueError(f"examples[{i}] has no 'input_ids' (keys: {sorted(e)})")
            ids = e["input_ids"]
            if ids is None or isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
                raise TypeError(f"examples[{i}]['input_ids'] must be a sequence of token ids, got {ids!r:.80}")
            if len(ids) == 0:
                raise ValueError(f"examples[{i}]['input_ids'] is empty; every example needs at least one token")
            for key in ("attention_mask", "token_type_ids", "special_tokens_mask", "word_ids"):
                if e.get(key) is not None and len(e[key]) != len(ids):
                    raise ValueError(f"examples[{i}][{key!r}] has length {len(e[key])}, but input_ids "
                                     f"has length {len(ids)}; they must match")
        return examples

    @staticmethod
    def _pad_rows(rows, L, fill, key):
        """1-D int sequences (one per example) padded with ``fill`` into a (B, L) int64 array.
        Anything else is a TypeError naming ``examples[b][key]``."""
        first = next((x[0] for x in rows if len(x)), 0)
        if all(len(x) == L for x in rows) and isinstance(first, (numbers.Integral, np.integer)):
            try:  # one conversion for the whole batch when lengths agree (the common case)
                return np.asarray(rows, dtype=np.int64)
            except (TypeError, ValueError):
                pass  # a bad element somewhere: find it below
        out = np.full((len(rows), L), fill, dtype=np.int64)
        for b, x in enumerate(rows):
            row = np.asarray(x)
            if row.dtype == bool:  # masks may come as booleans
                row = row.astype(np.int64)
            if row.ndim != 1 or (row.size and not np.issubdtype(row.dtype, np.integer)):
                raise TypeError(f"examples[{b}][{key!r}] must be a 1-D sequence of ints, got {x!r:.80}")
            out[b, :len(row)] = row
        return out

    @staticmethod
    def _check_binary(values, key, allowed):
        """Every entry 0 or 1, or a ValueError naming the first that is not (an attention mask of 2
        would count a token twice; a segment id of 2 is past BERT's table)."""
        bad = (values != 0) & (values != 1)
        if bad.any():
            b, t = map(int, np.argwhere(bad)[0])
            raise ValueError(f"examples[{b}][{key!r}][{t}] = {int(values[b, t])}; each must be {allowed}")

    def _pad(self, examples):
        """(input_ids, attention_mask, word_start) as (B, L) arrays."""
        L = max(len(e["input_ids"]) for e in examples)
        if self.pad_to_multiple_of:
            L = -(-L // self.pad_to_multiple_of) * self.pad_to_multiple_of
        input_ids = self._pad_rows([e["input_ids"] for e in examples], L, self.tokenizer.pad_token_id, "input_ids")
        outside = (input_ids < 0) | (input_ids >= len(self.tokenizer))
        if outside.any():
            b, t = map(int, np.argwhere(outside)[0])
            raise ValueError(f"examples[{b}]['input_ids'][{t}] = {int(input_ids[b, t])} is not a token id "
                             f"of this tokenizer (0 .. {len(self.tokenizer) - 1})")
        lengths = np.array([len(e["input_ids"]) for e in examples])
        real = np.arange(L)[None, :] < lengths[:, None]
        if all("attention_mask" in e for e in examples):
            attention = self._pad_rows([e["attention_mask"] for e in examples], L, 0, "attention_mask")
            self._check_binary(attention, "attention_mask", "0 (padding) or 1 (a token)")
            attention = attention * real
        else:
            attention = real.astype(np.int64)
        # word starts: from word_ids where an example has them, else WordPiece's ## rule
        word_start = word_starts_from_wordpiece(np.clip(input_ids, 0, len(self.continuation) - 1), self.continuation)
        has_words = [b for b, e in enumerate(examples) if e.get("word_ids") is not None]  # lengths checked
        if has_words:
            rows = [examples[b]["word_ids"] for b in has_words]
            rows = [[-1 if w is None else w for w in x] if None in x else x
                    for x in rows]  # a tokenizer's word_ids() marks special tokens with None
            word_start[has_words] = word_starts_from_word_ids(self._pad_rows(rows, L, -1, "word_ids"))
        return input_ids, attention, word_start

    def _candidates(self, examples, input_ids, word_start, maskable):
        kinds = [k for k in ("entity", "phrase") if k in LINGUISTIC_MIX[self.config.scheme]]
        out = []
        for b, e in enumerate(examples):
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
        examples = self._as_dicts(examples)
        input_ids, attention_mask, word_start = self._pad(examples)
        maskable = maskable_positions(input_ids, self.non_maskable, attention_mask)
        if any(e.get("special_tokens_mask") is not None for e in examples):
            flagged = [e["special_tokens_mask"] if e.get("special_tokens_mask") is not None
                       else [0] * len(e["input_ids"]) for e in examples]
            maskable &= self._pad_rows(flagged, input_ids.shape[1], 0, "special_tokens_mask") == 0
        candidates = None
        if self.config.scheme in LINGUISTIC_MIX:
            candidates = self._candidates(examples, input_ids, word_start, maskable)
        masked = mask_batch(input_ids, word_start, maskable, self.config, self.vocab, self.rng, candidates)
        batch = {"input_ids": masked["input_ids"], "attention_mask": attention_mask,
                 "labels": masked["labels"]}
        for key in ("next_sentence_label", "sentence_order_label"):  # NSP / SOP labels
            if all(key in e for e in examples):
                batch[key] = np.asarray([int(e[key]) for e in examples], dtype=np.int64)
        if all("token_type_ids" in e for e in examples):
            batch["token_type_ids"] = self._pad_rows([e["token_type_ids"] for e in examples],
                                                     input_ids.shape[1], 0, "token_type_ids")
            self._check_binary(batch["token_type_ids"], "token_type_ids", "0 or 1 (BERT's two segments)")
        if self.return_span_targets:
            batch["span_boundaries"] = masked["span_boundaries"]
            batch["span_labels"] = masked["span_labels"]
        if self.return_tensors == "pt":
            import torch

            batch = {k: torch.from_numpy(v) for k, v in batch.items()}
        return batch

    def __repr__(self):
        c = self.config
        return (f"SpanMaskingCollator(scheme={c.scheme!r}, mlm_probability={c.mlm_probability}, "
                f"geometric_p={c.geometric_p}, max_span_length={c.max_span_length}, "
                f"replacement={c.replacement!r}, seed={self.seed})")
