"""Corpus loaders, the committed tokenizer, and packing into single sequences."""
import numpy as np
import pytest

from spanbert_edu import load_corpus, load_tokenizer, pack_documents
from spanbert_edu.data.bundled import default_documents
from spanbert_edu.data.documents import Document
from spanbert_edu.data.packing import split_sentences
from spanbert_edu.data.tokenizer import VOCAB_FILE, count_unigrams
from spanbert_edu.masking.proposers import make_proposers
from spanbert_edu.masking.proposers import heuristic_proposer, spacy_proposer


def test_default_corpus_is_real_deterministic_and_split_by_document():
    first = default_documents()
    default_documents.cache_clear()
    again = default_documents()
    assert first == again and len(first) > 300
    assert sum(len(d.text) for d in first) > 1_000_000           # about 1.5 MB of prose
    train, heldout = load_corpus("default", "train"), load_corpus("default", "heldout")
    assert {d.doc_id for d in train}.isdisjoint(d.doc_id for d in heldout)
    assert len(train) + len(heldout) == len(first)
    assert 0.03 < len(heldout) / len(first) < 0.07
    assert any(d.doc_id.startswith("pydoc/") for d in first) and any(d.doc_id.startswith("stdlib/") for d in first)


def test_folder_of_text_files(tmp_path):
    for name, text in [("a.txt", "First doc. It has two sentences."), ("b.txt", "Second doc."),
                       ("sub/c.txt", "Third doc, in a subfolder.")]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.warns(UserWarning, match="skipping empty file"):
        docs = load_corpus(tmp_path, split="all")
    assert [d.doc_id for d in docs] == ["a.txt", "b.txt", "sub/c.txt"]
    with pytest.warns(UserWarning):
        train, heldout = load_corpus(tmp_path, "train"), load_corpus(tmp_path, "heldout")
    assert len(heldout) == 1 and len(train) == 2                 # both splits non-empty


def test_bad_corpus_sources(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="is an empty file"):
        load_corpus(tmp_path / "empty.txt")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ValueError, match="holds no .txt files"):
        load_corpus(tmp_path / "nothing")
    with pytest.raises(ValueError, match="is not 'default', 'python-docs', an existing file"):
        load_corpus("no/such/place")
    with pytest.raises(TypeError, match="source must be a string or path"):
        load_corpus(42)
    with pytest.raises(ValueError, match="split must be one of"):
        load_corpus("default", split="test")
    with pytest.raises(ValueError, match=r"heldout_fraction must be in \[0, 1\), got 1.5"):
        load_corpus("default", heldout_fraction=1.5)


def test_hugging_face_dataset_from_a_local_folder(tmp_path):
    """The same code path as a hub name (``load_dataset(name)``), with a local stand-in."""
    datasets = pytest.importorskip("datasets")
    rows = [" = Alpha = \n", " Alpha is a letter @-@ like symbol . \n", "", " = = History = = \n",
            " It came from Greece . \n", " = Beta = \n", " Beta follows Alpha . \n"]
    datasets.Dataset.from_dict({"text": rows}).to_json(str(tmp_path / "train.jsonl"))
    docs = load_corpus(f"hf:{tmp_path}", split="all")
    assert [d.text for d in docs] == ["Alpha is a letter-like symbol .\n\nIt came from Greece .",
                                      "Beta follows Alpha ."]
    saved = tmp_path / "saved"
    datasets.Dataset.from_dict({"body": ["One document.", "Another one."]}).save_to_disk(str(saved))
    assert len(load_corpus(f"hf:{saved}", split="all", text_column="body")) == 2
    with pytest.raises(ValueError, match="text_column='text' is not a column"):
        load_corpus(f"hf:{saved}")


def test_committed_vocabulary_and_word_ids(tokenizer):
    lines = VOCAB_FILE.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(set(lines)) == 8192
    assert lines[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(tokenizer) == 8192 and tokenizer.pad_token_id == 0
    assert tokenizer.mask_token == "[MASK]" and tokenizer.cls_token_id == 2
    assert tokenizer("The")["input_ids"] != tokenizer("the")["input_ids"]     # cased
    enc = tokenizer("Dictionaries map hashable keys.")
    words = enc.word_ids()
    assert words[0] is None and words[-1] is None and words[1:-1] == sorted(words[1:-1])
    assert load_tokenizer(VOCAB_FILE).get_vocab() == tokenizer.get_vocab()
    with pytest.raises(ValueError, match="no such vocabulary file"):
        load_tokenizer("missing/vocab.txt")


def test_split_sentences():
    text = "One sentence here. Another one! A third?\n\nNew paragraph with version 3.7 inside."
    assert split_sentences(text) == ["One sentence here.", "Another one!", "A third?",
                                     "New paragraph with version 3.7 inside."]


def test_packing_keeps_whole_sentences_of_one_document(tokenizer):
    docs = load_corpus("default", "heldout")[:5]
    examples = pack_documents(docs, tokenizer, max_length=64, proposers=make_proposers())
    for ex in examples:
        ids, words = ex["input_ids"], ex["word_ids"]
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id and len(ids) <= 64
        assert words[0] == words[-1] == -1 and words[1:-1] == sorted(words[1:-1]) and words[1] == 0
        for s, e in ex["entity_spans"] + ex["phrase_spans"]:
            assert 1 <= s <= e <= len(ids) - 2
    # no token lost or duplicated: the blocks of a document are its sentences' tokens, in order
    doc = docs[0]
    blocks = pack_documents([doc], tokenizer, max_length=64)
    flat = [t for b in blocks for t in b["input_ids"][1:-1]]
    expected = [t for s in split_sentences(doc.text) for t in tokenizer(s, add_special_tokens=False)["input_ids"]]
    assert flat == expected


def test_packing_cuts_an_overlong_sentence_at_word_starts(tokenizer):
    long = " ".join(["Antidisestablishmentarianism"] * 40) + "."
    blocks = pack_documents([Document("x", long)], tokenizer, max_length=32)
    assert all(len(b["input_ids"]) <= 32 for b in blocks) and len(blocks) > 3
    tokens = [tokenizer.convert_ids_to_tokens(b["input_ids"][1]) for b in blocks]
    assert not any(t.startswith("##") for t in tokens)          # each block starts a word
    with pytest.raises(ValueError, match="max_length must be an integer >= 3"):
        pack_documents([long], tokenizer, max_length=2)


def test_heuristic_proposers_on_a_hand_checked_sentence():
    s = "After the war, New York grew. The Python Software Foundation maintains CPython."
    ent = [s[a:b] for a, b in heuristic_proposer("entity")(s)]
    np_ = [s[a:b] for a, b in heuristic_proposer("phrase")(s)]
    assert ent == ["New York", "Python Software Foundation", "CPython"]
    assert np_ == ["the war", "The Python Software Foundation"]


def test_spacy_proposer_with_a_local_stand_in():
    """spaCy's API (ents with labels, noun_chunks) without a model download."""
    class Span:
        def __init__(self, a, b, label=""):
            self.start_char, self.end_char, self.label_ = a, b, label

    class Doc:
        ents = [Span(4, 10, "ORG"), Span(15, 19, "CARDINAL")]
        noun_chunks = [Span(0, 10)]

    fake_nlp = lambda text: Doc()
    assert spacy_proposer("entity", fake_nlp)("The Python in 1991") == [(4, 10)]  # numbers dropped
    assert make_proposers("spacy", nlp=fake_nlp)["phrase"]("The Python") == [(0, 10)]
    with pytest.raises(ValueError, match="backend must be one of"):
        make_proposers("stanza")


def test_count_unigrams():
    assert count_unigrams([[1, 2, 2], [2, 4]], 6).tolist() == [0, 1, 3, 0, 1, 0]


def test_committed_unigram_counts_match_the_corpus():
    """assets/unigram_counts.npy was computed on Python 3.11: equal there; on another Python
    (another standard library, so a slightly different corpus) still nearly the same."""
    import sys

    from spanbert_edu.data.tokenizer import bundled_unigram_counts, count_bundled_unigrams

    stored, fresh = bundled_unigram_counts(), count_bundled_unigrams()
    assert stored.shape == fresh.shape == (8192,)
    if sys.version_info[:2] == (3, 11):
        assert (stored == fresh).all()
    else:
        assert np.corrcoef(stored, fresh)[0, 1] > 0.99


def test_example_cache_tells_same_size_vocabularies_apart():
    from transformers import BertTokenizerFast

    from spanbert_edu.data.examples import prepare_examples

    tok = load_tokenizer()
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(len(tok) - 5)]
    other = BertTokenizerFast(vocab={w: i for i, w in enumerate(words)})
    assert len(other) == len(tok)
    cache = {}
    mine = prepare_examples(tok, "default", "heldout", max_length=64, cache=cache)
    theirs = prepare_examples(other, "default", "heldout", max_length=64, cache=cache)
    assert len(cache) == 2 and mine[0]["input_ids"] != theirs[0]["input_ids"]
