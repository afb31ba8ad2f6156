"""Packing documents into single sequences: ``[CLS] block [SEP]``, as SpanBERT trains (no NSP).

A block holds whole sentences of ONE document, as many as fit in ``max_length - 2`` tokens;
a sentence longer than that on its own is cut into pieces at word starts. Blocks never
cross documents, so a masked span never joins two documents.

Each example is a dict the collator takes directly::

    {"input_ids": [2, ..., 3],            # with [CLS] ... [SEP]
     "word_ids":  [-1, 0, 0, 1, ..., -1], # word index per token, -1 for specials
     "entity_spans": [[s, e], ...],       # only if proposers were given (inclusive positions)
     "phrase_spans": [[s, e], ...]}

Not covered here: masking (:mod:`spanbert_edu.masking`).
"""
from __future__ import annotations

import re

from .._checks import check_int

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Paragraphs on blank lines, then sentences after ``.``, ``!`` or ``?`` before a capital.

    A heuristic (``e.g. Foo`` splits wrongly); good enough to keep blocks at sentence ends.
    """
    sentences = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        sentences += [s for s in _SENTENCE_END.split(para) if s]
    return sentences


def _encode_sentences(sentences, tokenizer, proposers):
    """Token ids, word ids and proposed spans (token positions, inclusive) of each sentence."""
    enc = tokenizer(sentences, add_special_tokens=False, return_offsets_mapping=bool(proposers))
    out = []
    for i, sentence in enumerate(sentences):
        ids, words = enc["input_ids"][i], enc.word_ids(i)
        spans = {}
        for kind, proposer in (proposers or {}).items():
            char_spans = proposer(sentence)  # [(start_char, end_char_exclusive), ...]
            spans[kind] = _char_to_token_spans(char_spans, enc["offset_mapping"][i])
        out.append((ids, words, spans))
    return out


def _char_to_token_spans(char_spans, offsets):
    """Map character spans onto the tokens that overlap them; drop spans with no token."""
    token_spans = []
    for start, end in char_spans:
        inside = [t for t, (a, b) in enumerate(offsets) if a < end and b > start]
        if inside:
            token_spans.append([inside[0], inside[-1]])
    return token_spans


def _pieces(sentence, limit):
    """Cut an over-long sentence into pieces of at most ``limit`` tokens, at word starts."""
    ids, words, spans = sentence
    if len(ids) <= limit:
        return [sentence]
    pieces, start = [], 0
    while start < len(ids):
        end = min(start + limit, len(ids))
        while end < len(ids) and end - 1 > start and words[end] == words[end - 1]:
            end -= 1  # back off so the piece ends at a word end
        if end == start + 1 and end < len(ids) and words[end] == words[start]:
            end = min(start + limit, len(ids))  # a single word longer than the limit
        kept = {k: [[s - start, e - start] for s, e in v if start <= s and e < end]
                for k, v in spans.items()}
        pieces.append((ids[start:end], words[start:end], kept))
        start = end
    return pieces


def pack_documents(documents, tokenizer, max_length: int = 512, proposers: dict | None = None):
    """Pack documents into ``[CLS] sentences [SEP]`` examples of at most ``max_length`` tokens.

    ``documents``: :class:`Document` objects or plain strings. ``proposers``: optional
    ``{"entity": f, "phrase": g}`` where each function maps a sentence to character spans
    (see :mod:`spanbert_edu.masking.proposers`); their spans are stored per example.
    """
    max_length = check_int("max_length", max_length, minimum=3)
    if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
        raise ValueError("tokenizer must have [CLS] and [SEP] tokens to pack single sequences")
    limit = max_length - 2
    return [_make_example(block, tokenizer, proposers)
            for _, block in sentence_blocks(documents, tokenizer, limit, proposers)]


def sentence_blocks(documents, tokenizer, limit: int, proposers: dict | None = None, piece_limit: int | None = None):
    """Blocks of consecutive whole sentences, at most ``limit`` tokens each, document by document:
    yields ``(document index, [(ids, words, spans), ...])``. A sentence longer than ``piece_limit``
    (default ``limit``) is first cut into pieces at word starts. Single sequences and NSP/SOP pairs
    (:mod:`.pairs`) are both cut from these blocks."""
    piece_limit = piece_limit or limit
    for d, doc in enumerate(documents):
        sentences = split_sentences(doc if isinstance(doc, str) else doc.text)
        if not sentences:
            continue
        block, size = [], 0
        for sentence in (p for s in _encode_sentences(sentences, tokenizer, proposers) for p in _pieces(s, piece_limit)):
            if block and size + len(sentence[0]) > limit:
                yield d, block
                block, size = [], 0
            block.append(sentence)
            size += len(sentence[0])
        if block:
            yield d, block


def _make_example(block, tokenizer, proposers):
    input_ids, word_ids = [tokenizer.cls_token_id], [-1]
    spans = {f"{k}_spans": [] for k in (proposers or {})}
    n_words = 0
    for ids, words, sentence_spans in block:
        offset = len(input_ids)
        first = next((w for w in words if w is not None), 0)
        input_ids += ids
        word_ids += [-1 if w is None else n_words + w - first for w in words]
        n_words = max(word_ids) + 1
        for kind, kind_spans in sentence_spans.items():
            spans[f"{kind}_spans"] += [[s + offset, e + offset] for s, e in kind_spans]
    input_ids.append(tokenizer.sep_token_id)
    word_ids.append(-1)
    return {"input_ids": input_ids, "word_ids": word_ids, **spans}
