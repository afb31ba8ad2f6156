"""Where words start, and which tokens may be masked.

SpanBERT counts span lengths in WORDS and masks whole words, so the masker needs, for every
token, "does a new word start here?". Two sources:

* the tokenizer's ``word_ids()`` (fast tokenizers): a word starts where the id changes;
* WordPiece's rule: a token starting with ``##`` continues the previous word.

A token is *maskable* if it is neither padding nor a special token ([CLS], [SEP], ...).
The first maskable token after a non-maskable one always starts a word.
"""
from __future__ import annotations

import numpy as np


def continuation_table(tokenizer) -> np.ndarray:
    """``table[id]`` is True for WordPiece continuation pieces (``##...``)."""
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    return np.array([t is not None and t.startswith("##") for t in tokens], dtype=bool)


def word_starts_from_word_ids(word_ids) -> np.ndarray:
    """(..., L) word ids, -1 or None for special tokens -> bool word starts."""
    w = np.asarray(word_ids)
    if w.dtype == object:  # Python lists with None for special tokens
        w = np.where(w == None, -1, w).astype(np.int64)  # noqa: E711 (elementwise on objects)
    starts = np.ones(w.shape, dtype=bool)
    starts[..., 1:] = w[..., 1:] != w[..., :-1]
    return starts


def word_starts_from_wordpiece(input_ids, continuation: np.ndarray) -> np.ndarray:
    """A token starts a word unless it is a ``##`` continuation piece."""
    return ~continuation[np.asarray(input_ids)]


def non_maskable_ids(tokenizer) -> list[int]:
    """The special tokens that are never masked: all but ``[UNK]``. The authors mask ``[UNK]``
    like any other token (it stands for a real word), so it counts towards n, can sit inside a
    span and can be a span boundary; only [CLS], [SEP], [PAD], [MASK] are excluded."""
    unk = getattr(tokenizer, "unk_token_id", None)
    return sorted(set(tokenizer.all_special_ids) - {unk})


def maskable_positions(input_ids, special_ids, attention_mask=None) -> np.ndarray:
    """True where a token is real text: not special, not padding."""
    ids = np.asarray(input_ids)
    maskable = ~np.isin(ids, np.asarray(list(special_ids), dtype=ids.dtype))
    if attention_mask is not None:
        maskable &= np.asarray(attention_mask).astype(bool)
    return maskable


def normalise_word_starts(word_start, maskable) -> np.ndarray:
    """Force a word start at the first maskable token after a non-maskable one."""
    ws = np.asarray(word_start, dtype=bool) & maskable
    prev_maskable = np.zeros_like(maskable)
    prev_maskable[..., 1:] = maskable[..., :-1]
    return ws | (maskable & ~prev_maskable)
