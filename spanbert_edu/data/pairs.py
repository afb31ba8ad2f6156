"""Two-segment examples for the objectives SpanBERT dropped: NSP (BERT) and SOP (ALBERT).

``[CLS] A [SEP] B [SEP]`` with ``token_type_ids`` 0 for A and 1 for B, cut at a sentence
boundary of one packed block:

* NSP: half the time B is A's real continuation (``next_sentence_label`` 0), half the time B
  is taken from another document (1). The second case is the "noise" the paper blames NSP for.
* SOP: A and B are always consecutive; half the time they are swapped (``sentence_order_label`` 1).

The pairs are drawn once, from ``seed``, at data preparation (as BERT's own data script does).
"""
from __future__ import annotations

import numpy as np

from .._checks import check_choice
from ..batch import PAIR_OBJECTIVES
from .packing import sentence_blocks


def _flatten(sentences, word_offset=0):
    ids, words, spans = [], [], {}
    for s_ids, s_words, s_spans in sentences:
        first = next((w for w in s_words if w is not None), 0)
        base = len(ids)
        n_words = (max(words) + 1) if words else word_offset
        ids += s_ids
        words += [n_words + w - first for w in s_words]
        for kind, kind_spans in s_spans.items():
            spans.setdefault(kind, []).extend([s + base, e + base] for s, e in kind_spans)
    return ids, words, spans


def pack_pairs(documents, tokenizer, max_length: int = 512, objective: str = "nsp", seed: int = 0,
               proposers: dict | None = None):
    """Two-segment examples for ``objective`` "nsp" or "sop" (see the module docstring)."""
    check_choice("objective", objective, PAIR_OBJECTIVES[1:])
    if max_length < 8:
        raise ValueError(f"max_length must be >= 8 for two segments, got {max_length}")
    rng = np.random.default_rng(seed)
    limit = max_length - 3  # [CLS] A [SEP] B [SEP]
    blocks = list(sentence_blocks(documents, tokenizer, limit, proposers, piece_limit=limit // 2))
    examples = []
    for doc_id, block in blocks:
        if len(block) < 2:
            continue  # one sentence: no boundary to cut at
        cut = int(rng.integers(1, len(block)))
        a, b = block[:cut], block[cut:]
        label = int(rng.random() < 0.5)
        if objective == "nsp" and label:
            others = [blk for d, blk in blocks if d != doc_id]
            if not others:
                label = 0
            else:
                b = others[int(rng.integers(len(others)))]
        elif objective == "sop" and label:
            a, b = b, a
        a_ids, a_words, a_spans = _flatten(a)
        b_ids, b_words, b_spans = _flatten(b, word_offset=(max(a_words) + 1) if a_words else 0)
        keep_b = limit - len(a_ids)
        b_ids, b_words = b_ids[:keep_b], b_words[:keep_b]
        offset_b = len(a_ids) + 2
        ex = {"input_ids": [tokenizer.cls_token_id] + a_ids + [tokenizer.sep_token_id] + b_ids + [tokenizer.sep_token_id],
              "word_ids": [-1] + a_words + [-1] + b_words + [-1],
              "token_type_ids": [0] * (len(a_ids) + 2) + [1] * (len(b_ids) + 1),
              ("next_sentence_label" if objective == "nsp" else "sentence_order_label"): label}
        for kind in (proposers or {}):
            ex[f"{kind}_spans"] = ([[s + 1, e + 1] for s, e in a_spans.get(kind, [])] +
                                   [[s + offset_b, e + offset_b] for s, e in b_spans.get(kind, [])
                                    if e < len(b_ids)])
        examples.append(ex)
    return examples
