"""Train the bundled cased WordPiece vocabulary on the default corpus' training split.

    python scripts/train_tokenizer.py [--vocab-size 8192]

WordPiece training is not deterministic, so run this once and commit
spanbert_edu/assets/vocab.txt; everything else only reads that file. Writing the bundled
vocabulary also writes its unigram counts (assets/unigram_counts.npy), which the collator draws
its random replacement tokens from.

The training code (``train_wordpiece``, ``save_vocab``) lives here, not in the package, because
only scripts train a vocabulary; ``scripts/compare_vocab.py`` imports it from this file.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from spanbert_edu.data import load_corpus
from spanbert_edu.data.tokenizer import UNIGRAM_FILE, VOCAB_FILE, count_bundled_unigrams

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # [PAD] = 0, as in BERT


def train_wordpiece(texts, vocab_size: int = 8192, min_frequency: int = 2):
    """Train a cased BERT WordPiece model on an iterable of strings; returns a ``tokenizers.Tokenizer``.

    Not deterministic run to run (see the module docstring): save the vocabulary and commit it.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()  # punctuation becomes its own word
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=SPECIAL_TOKENS, continuing_subword_prefix="##")
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def save_vocab(tokenizer, path: str | os.PathLike) -> None:
    """Write a WordPiece vocabulary file: one token per line, in id order."""
    vocab = tokenizer.get_vocab()
    tokens = sorted(vocab, key=vocab.get)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise ValueError("tokenizer ids are not contiguous from 0; cannot write vocab.txt")
    Path(path).write_text("\n".join(tokens) + "\n", encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--out", default=str(VOCAB_FILE))
    args = parser.parse_args()
    docs = load_corpus("default", split="train")
    tok = train_wordpiece((d.text for d in docs), vocab_size=args.vocab_size)
    save_vocab(tok, args.out)
    print(f"wrote {tok.get_vocab_size()} tokens to {args.out} from {len(docs)} documents")
    if Path(args.out).resolve() == VOCAB_FILE.resolve():  # the bundled vocabulary: its counts too
        np.save(UNIGRAM_FILE, count_bundled_unigrams())
        print(f"wrote the unigram counts the collator draws random replacements from to {UNIGRAM_FILE}")


if __name__ == "__main__":
    main()
