"""Train the bundled cased WordPiece vocabulary on the default corpus' training split.

    python scripts/train_tokenizer.py [--vocab-size 8192]

WordPiece training is not deterministic, so run this once and commit
spanbert_edu/assets/vocab.txt; everything else only reads that file. Writing the bundled
vocabulary also writes its unigram counts (assets/unigram_counts.npy), which the collator draws
its random replacement tokens from.
"""
import argparse
from pathlib import Path

import numpy as np

from spanbert_edu.data import load_corpus
from spanbert_edu.data.tokenizer import UNIGRAM_FILE, VOCAB_FILE, count_bundled_unigrams, save_vocab, train_wordpiece


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
