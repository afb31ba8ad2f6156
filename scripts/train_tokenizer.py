"""Train the bundled cased WordPiece vocabulary on the default corpus' training split.

    python scripts/train_tokenizer.py [--vocab-size 8192]

WordPiece training is not deterministic, so run this once and commit
spanbert_edu/assets/vocab.txt; everything else only reads that file.
"""
import argparse

from spanbert_edu.data import load_corpus
from spanbert_edu.data.tokenizer import VOCAB_FILE, save_vocab, train_wordpiece


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--out", default=str(VOCAB_FILE))
    args = parser.parse_args()
    docs = load_corpus("default", split="train")
    tok = train_wordpiece((d.text for d in docs), vocab_size=args.vocab_size)
    save_vocab(tok, args.out)
    print(f"wrote {tok.get_vocab_size()} tokens to {args.out} from {len(docs)} documents")


if __name__ == "__main__":
    main()
