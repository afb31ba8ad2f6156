"""The bundled cased WordPiece tokenizer: loading it, and the unigram counts of its vocabulary.

WordPiece training in ``tokenizers`` is not deterministic (the same corpus can give a
different vocabulary run to run), so the vocabulary was trained ONCE by
``scripts/train_tokenizer.py`` (the training code lives there, not in the package) and the file
``spanbert_edu/assets/vocab.txt`` is committed. ``load_tokenizer()`` only reads that file: every
user gets the same token ids. This module also owns the unigram counts that SpanBERT draws its
random replacement tokens from (``count_unigrams``, and the committed ``bundled_unigram_counts``).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent.parent / "assets"
VOCAB_FILE = ASSETS / "vocab.txt"
UNIGRAM_FILE = ASSETS / "unigram_counts.npy"  # computed on Python 3.11


def load_tokenizer(name_or_path: str | os.PathLike | None = None, model_max_length: int = 512):
    """A ``transformers`` fast BERT tokenizer (cased) with working ``word_ids()``.

    ``None`` loads the bundled vocabulary; a ``vocab.txt`` path loads that file; anything
    else goes to ``AutoTokenizer.from_pretrained`` (a saved folder, or a hub name when online,
    e.g. ``"SpanBERT/spanbert-base-cased"``).
    """
    from transformers import AutoTokenizer, BertTokenizerFast

    if name_or_path is None or str(name_or_path).endswith(".txt"):
        vocab = Path(name_or_path) if name_or_path is not None else VOCAB_FILE
        if not vocab.is_file():
            raise ValueError(f"name_or_path={str(vocab)!r}: no such vocabulary file")
        return BertTokenizerFast(vocab=str(vocab), do_lower_case=False, strip_accents=False,
                                 tokenize_chinese_chars=True, model_max_length=model_max_length)
    return AutoTokenizer.from_pretrained(name_or_path, model_max_length=model_max_length)


def count_unigrams(sequences, vocab_size: int) -> np.ndarray:
    """Token counts over an iterable of id sequences: the "unigram distribution" SpanBERT
    draws its random replacement tokens from."""
    counts = np.zeros(vocab_size, dtype=np.int64)
    for ids in sequences:
        counts += np.bincount(np.asarray(ids, dtype=np.int64), minlength=vocab_size)[:vocab_size]
    return counts


def count_bundled_unigrams() -> np.ndarray:
    """Unigram counts of the bundled tokenizer over the default corpus' training split, computed
    (a few seconds: it tokenises the whole corpus). The result depends on the Python version,
    whose standard library IS the corpus; ``bundled_unigram_counts`` reads the committed copy."""
    from .corpus import load_corpus

    tok = load_tokenizer()
    texts = [d.text for d in load_corpus("default", split="train")]
    encodings = tok.backend_tokenizer.encode_batch(texts, add_special_tokens=False)
    return count_unigrams((e.ids for e in encodings), len(tok))


@functools.lru_cache(maxsize=1)
def bundled_unigram_counts() -> np.ndarray:
    """The committed unigram counts (``assets/unigram_counts.npy``, written with the vocabulary
    by ``scripts/train_tokenizer.py``): the same random-replacement distribution on every Python,
    and no corpus to tokenise when a collator is built."""
    return np.load(UNIGRAM_FILE)


def is_bundled_tokenizer(tokenizer) -> bool:
    """True if ``tokenizer`` has exactly the bundled vocabulary."""
    return len(tokenizer) == len(_bundled_vocab()) and tokenizer.get_vocab() == _bundled_vocab()


@functools.lru_cache(maxsize=1)
def _bundled_vocab() -> dict:
    return {t: i for i, t in enumerate(VOCAB_FILE.read_text(encoding="utf-8").splitlines())}
