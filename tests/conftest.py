import numpy as np
import pytest

from spanbert_edu import load_corpus, load_tokenizer, pack_documents
from spanbert_edu.masking import ReplacementVocab
from spanbert_edu.masking.proposers import make_proposers
from spanbert_edu.masking.words import maskable_positions, word_starts_from_word_ids


@pytest.fixture(scope="session", autouse=True)
def speed_cache(tmp_path_factory):
    """The measured "auto" choices (spanbert_edu.train.speed) go to a folder of this test session,
    not the user's home; the runs the tests start as subprocesses inherit it, so two runs of one
    command agree."""
    folder = tmp_path_factory.mktemp("speed_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPANBERT_EDU_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def tokenizer():
    return load_tokenizer()


@pytest.fixture(scope="session")
def heldout_examples(tokenizer):
    """Held-out blocks of <= 128 tokens with heuristic entity/phrase spans."""
    docs = load_corpus("default", "heldout")
    return pack_documents(docs, tokenizer, max_length=128, proposers=make_proposers("heuristic"))


@pytest.fixture(scope="session")
def uniform_vocab(tokenizer):
    return ReplacementVocab.uniform(len(tokenizer), tokenizer.mask_token_id, tokenizer.all_special_ids)


def as_arrays(example, special_ids):
    """(input_ids, word_start, maskable) numpy arrays of one packed example."""
    ids = np.asarray(example["input_ids"], dtype=np.int64)
    return ids, word_starts_from_word_ids(example["word_ids"]), maskable_positions(ids, special_ids)


def candidates_of(example):
    return {k: example.get(f"{k}_spans", []) for k in ("entity", "phrase")}


def crash_log_at(monkeypatch, step: int):
    """Make ``pretrain``'s log raise KeyboardInterrupt at ``step`` (a simulated crash after the
    checkpoints before it); returns a function that puts the real log back."""
    import spanbert_edu.train.loop as train_module

    real_append = train_module.append_jsonl

    def crash(path, row, on_log=None):
        if row["step"] == step:
            raise KeyboardInterrupt("simulated crash")
        real_append(path, row, on_log)

    monkeypatch.setattr(train_module, "append_jsonl", crash)
    return lambda: monkeypatch.setattr(train_module, "append_jsonl", real_append)
