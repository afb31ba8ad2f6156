"""Should the WordPiece vocabulary be retrained on the larger corpus? Measure, don't guess.

    python scripts/compare_vocab.py [--vocab-size 8192]

Trains a vocabulary of the same size on the training splits of ``default+python-docs`` (into a
temporary file; the committed vocabulary is not touched) and prints tokens per word on the two
held-out splits for the committed vocabulary and the retrained one. Fewer tokens per word means
more text per 128-token block, and a retrained vocabulary would also invalidate every stored
checkpoint and checked notebook output, so it must buy a clear gain to be worth it.
"""
import argparse
import tempfile
from pathlib import Path

from spanbert_edu.data import load_corpus, load_tokenizer

from train_tokenizer import save_vocab, train_wordpiece  # scripts/ is on sys.path when run as a script


def tokens_per_word(tokenizer, docs):
    texts = [d.text for d in docs]
    tokens = sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
    unk = sum(ids.count(tokenizer.unk_token_id) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
    return tokens / sum(len(t.split()) for t in texts), unk


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=8192)
    args = parser.parse_args()
    train = load_corpus("default+python-docs", "train")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocab.txt"
        save_vocab(train_wordpiece((d.text for d in train), vocab_size=args.vocab_size), path)
        vocabs = {"committed (bundled corpus)": load_tokenizer(), "retrained (default+python-docs)": load_tokenizer(path)}
        heldouts = {"bundled held-out": load_corpus("default", "heldout"),
                    "python-docs held-out": load_corpus("python-docs", "heldout")}
        print("| vocabulary | " + " | ".join(f"{h}: tokens/word ([UNK])" for h in heldouts) + " |")
        print("|---|" + "---:|" * len(heldouts))
        for name, tok in vocabs.items():
            cells = [f"{tpw:.4f} ({unk})" for tpw, unk in (tokens_per_word(tok, d) for d in heldouts.values())]
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
