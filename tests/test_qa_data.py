"""QA data: SQuAD files, Hugging Face datasets, the cloze task, and windows with their targets."""
import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spanbert_edu.data.documents import Document
from spanbert_edu.qa.data import QAExample, cloze_task, load_hf_squad, load_qa, make_cloze_qa, read_squad
from spanbert_edu.qa.features import make_features

# 28 distinct words, each ONE token of the bundled vocabulary, so context token t is word t
WORDS = ("function returns value type list for each object module class file name string data "
         "when error default number method path code line time size text mode user test").split()
QUESTION = "What is it?"  # [CLS] What is it ? [SEP]: the context starts at position 6
WINDOW = dict(max_length=16, doc_stride=3, max_question_length=4)
# 16 - 6 - 1 = 9 context tokens a window; windows step by 9 - 3 = 6 words: words 0-8, 6-14, 12-20, ...


def example_on_words(first: int, last: int, qid: str = "q") -> QAExample:
    """A question whose answer is WORDS[first..last] of a context of all the words."""
    context = " ".join(WORDS)
    text = " ".join(WORDS[first:last + 1])
    return QAExample(qid, QUESTION, context, [{"text": text, "answer_start": context.index(text)}])


def targets(features) -> list[tuple[int, int]]:
    return list(zip(features.start_positions.tolist(), features.end_positions.tolist()))


# ---------------------------------------------------------------------------------------
# SQuAD files
# ---------------------------------------------------------------------------------------
CONTEXT = "Paris is the capital of France. It lies on the Seine."


def write_squad(tmp_path, qas, version="1.1"):
    path = tmp_path / f"squad{version}.json"
    path.write_text(json.dumps({"version": version, "data": [
        {"title": "France", "paragraphs": [{"context": CONTEXT, "qas": qas}]}]}))
    return path


def test_read_squad_v1(tmp_path):
    path = write_squad(tmp_path, [{"id": "a", "question": "Capital of France?", "answers": [
        {"text": "Paris", "answer_start": 0}, {"text": "Paris", "answer_start": 0}]},
        {"id": "b", "question": "Which river?", "answers": [{"text": "the Seine", "answer_start": 43}]}])
    a, b = read_squad(path)
    assert (a.id, a.question, a.context) == ("a", "Capital of France?", CONTEXT)
    assert len(a.answers) == 2 and not a.is_impossible
    assert b.answers == [{"text": "the Seine", "answer_start": 43}]
    assert load_qa(str(path)) == [a, b]


def test_read_squad_v2_impossible_questions_have_no_answers(tmp_path):
    path = write_squad(tmp_path, [
        {"id": "a", "question": "Capital?", "answers": [{"text": "Paris", "answer_start": 0}],
         "is_impossible": False},
        {"id": "b", "question": "Capital of Spain?", "answers": [], "is_impossible": True,
         "plausible_answers": [{"text": "Paris", "answer_start": 0}]}], version="v2.0")
    a, b = read_squad(path)
    assert not a.is_impossible and b.is_impossible and b.answers == []


def test_read_squad_refuses_a_wrong_answer_start(tmp_path):
    path = write_squad(tmp_path, [{"id": "q-17", "question": "?", "answers": [
        {"text": "France", "answer_start": 3}]}])
    with pytest.raises(ValueError, match=r"q-17.*'France'.*answer_start=3"):
        read_squad(path)


def test_read_squad_bad_files(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_squad(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON file"):
        read_squad(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ValueError, match="SQuAD's format"):
        read_squad(tmp_path / "list.json")
    with pytest.raises(ValueError, match="not a SQuAD .json file"):
        load_qa("nonsense")
    with pytest.raises(TypeError, match="source"):
        load_qa(3)


# ---------------------------------------------------------------------------------------
# Hugging Face datasets (a local stand-in written by save_to_disk)
# ---------------------------------------------------------------------------------------
def test_load_hf_squad_from_a_saved_folder(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = {"id": ["a", "b"], "title": ["France"] * 2, "context": [CONTEXT] * 2,
            "question": ["Capital?", "Capital of Spain?"],
            "answers": [{"text": ["Paris"], "answer_start": [0]}, {"text": [], "answer_start": []}]}
    datasets.DatasetDict({"validation": datasets.Dataset.from_dict(rows)}).save_to_disk(tmp_path / "dd")
    a, b = load_hf_squad(str(tmp_path / "dd"), "validation")
    assert a.answers == [{"text": "Paris", "answer_start": 0}] and b.is_impossible
    assert load_qa(f"hf:{tmp_path / 'dd'}", "validation") == [a, b]
    with pytest.raises(ValueError, match="split"):
        load_hf_squad(str(tmp_path / "dd"), "train")
    rows["answers"][0]["answer_start"] = [1]
    datasets.Dataset.from_dict(rows).save_to_disk(tmp_path / "bad")
    with pytest.raises(ValueError, match="id='a'"):
        load_hf_squad(str(tmp_path / "bad"), "train")


# ---------------------------------------------------------------------------------------
# The cloze task
# ---------------------------------------------------------------------------------------
DOC = Document("d", "The quick brown fox jumps over the lazy dog. Then the quick brown fox sleeps. "
                    "A lazy dog never jumps. Nothing else happens here at all.")


def test_make_cloze_qa_on_a_hand_document():
    examples = make_cloze_qa([DOC], per_document=50)
    assert examples and len({e.id for e in examples}) == len(examples)
    assert any(e.answers[0]["text"] == "quick brown fox" for e in examples)
    for e in examples:
        (answer,) = e.answers
        assert e.context[answer["answer_start"]:][:len(answer["text"])] == answer["text"]
        assert "[MASK]" in e.question and answer["text"] not in e.question


@pytest.fixture(scope="module")
def cloze():
    return {"train": cloze_task("train"), "heldout": cloze_task("heldout", seed=0)}


def test_cloze_task_is_deterministic_and_correct(cloze):
    heldout = cloze["heldout"]
    assert heldout == load_qa("cloze", "heldout", seed=0)
    assert heldout != cloze_task("validation", seed=1)  # "validation": the held-out split's other name
    assert len({e.id for e in heldout}) == len(heldout)
    for e in heldout + cloze["train"]:
        (a,) = e.answers
        assert e.context[a["answer_start"]:a["answer_start"] + len(a["text"])] == a["text"]


def test_cloze_train_and_heldout_share_no_context(cloze):
    assert len(cloze["train"]) > 10 * len(cloze["heldout"]) > 0
    assert not {e.context for e in cloze["train"]} & {e.context for e in cloze["heldout"]}


def test_cloze_task_refuses_other_splits():
    with pytest.raises(ValueError, match="split"):
        cloze_task("all")


# ---------------------------------------------------------------------------------------
# Windows and their targets
# ---------------------------------------------------------------------------------------
def test_answer_in_two_windows_overlap(tokenizer):
    f = make_features([example_on_words(12, 13)], tokenizer, **WINDOW)  # "string data"
    assert len(f) == 5 and f.example_index == [0] * 5 and f.input_ids.shape == (5, 16)
    # window 1 holds words 6-14 (word 12 at 6 + 6), window 2 words 12-20 (word 12 at 6 + 0)
    assert targets(f) == [(0, 0), (12, 13), (6, 7), (0, 0), (0, 0)]


def test_answer_cut_by_a_window_edge_points_at_cls(tokenizer):
    f = make_features([example_on_words(8, 9)], tokenizer, **WINDOW)  # "module class"
    # window 0 ends with word 8: the answer is cut there; window 1 (words 6-14) holds it whole
    assert targets(f) == [(0, 0), (8, 9), (0, 0), (0, 0), (0, 0)]


def test_targets_map_back_to_the_answer_text(tokenizer):
    examples = [example_on_words(i, j, f"q{i}-{j}") for i, j in [(0, 0), (3, 7), (12, 13), (19, 26)]]
    f = make_features(examples, tokenizer, **WINDOW)
    found = {e.id: 0 for e in examples}
    for k, (s, e) in enumerate(targets(f)):
        if (s, e) != (0, 0):
            ex = examples[f.example_index[k]]
            offsets = f.offset_mapping[k]
            assert ex.context[offsets[s][0]:offsets[e][1]] == ex.answers[0]["text"]
            found[ex.id] += 1
    assert found == {"q0-0": 1, "q3-7": 1, "q12-13": 2, "q19-26": 1}  # 19-26: window 3 (words 18-26)


def test_unanswerable_points_at_cls_in_every_window(tokenizer):
    f = make_features([QAExample("none", QUESTION, " ".join(WORDS), [])], tokenizer, **WINDOW)
    assert len(f) == 5 and targets(f) == [(0, 0)] * 5


def test_evaluation_features_keep_only_context_offsets(tokenizer):
    f = make_features([example_on_words(0, 1)], tokenizer, train=False, **WINDOW)
    assert f.start_positions is None
    assert set(f.batch([0, 1])) == {"input_ids", "attention_mask", "token_type_ids"}
    offsets = f.offset_mapping[0]
    assert offsets[:6] == [None] * 6 and offsets[15] is None   # [CLS] question [SEP] ... [SEP]
    assert offsets[6] == (0, len(WORDS[0]))


def test_batch_and_question_truncation(tokenizer):
    long_question = " ".join(["What is the value of the function"] * 20) + "?"
    ex = QAExample("q", long_question, " ".join(WORDS), [{"text": "function", "answer_start": 0}])
    f = make_features([ex, example_on_words(3, 4)], tokenizer, max_length=48, doc_stride=8,
                      max_question_length=10)
    question_tokens = int(((f.token_type_ids[0] == 0) & (f.attention_mask[0] == 1)).sum()) - 2
    assert question_tokens <= 10
    batch = f.batch(torch.tensor([1, 0]))
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids", "start_positions", "end_positions"}
    assert all(v.dtype == torch.int64 for v in batch.values()) and batch["input_ids"].shape == (2, 48)
    assert torch.equal(batch["start_positions"], f.start_positions[[1, 0]])
    with pytest.raises(ValueError, match="indices"):
        f.batch([len(f)])


def test_make_features_refuses_bad_arguments(tokenizer):
    ex = [example_on_words(0, 0)]
    with pytest.raises(ValueError, match="doc_stride"):
        make_features(ex, tokenizer, max_length=16, doc_stride=9, max_question_length=4)
    with pytest.raises(ValueError, match="examples"):
        make_features([], tokenizer)
    with pytest.raises(TypeError, match="fast"):
        make_features(ex, object())


# ---------------------------------------------------------------------------------------
# A property: targets decode back to the answer, and a short answer is always found
# ---------------------------------------------------------------------------------------
VOCAB = WORDS + ["Python", "Foundation", "don't", "x=1", "café", "(see", "below)", "e.g."]


@settings(max_examples=40, deadline=None)
@given(words=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=60), data=st.data(),
       max_length=st.integers(16, 40), doc_stride=st.integers(1, 6))
def test_targets_always_decode_to_the_answer_or_cls(tokenizer, words, data, max_length, doc_stride):
    i = data.draw(st.integers(0, len(words) - 1))
    j = data.draw(st.integers(i, min(len(words) - 1, i + 3)))
    context = " ".join(words)
    start = len(" ".join(words[:i])) + (1 if i else 0)
    answer = {"text": " ".join(words[i:j + 1]), "answer_start": start}
    f = make_features([QAExample("q", QUESTION, context, [answer])], tokenizer, max_length=max_length,
                      doc_stride=doc_stride, max_question_length=4)
    hits = 0
    for k, (s, e) in enumerate(targets(f)):
        if (s, e) != (0, 0):
            offsets = f.offset_mapping[k]
            assert context[offsets[s][0]:offsets[e][1]] == answer["text"]
            hits += 1
    answer_tokens = len(tokenizer.tokenize(answer["text"]))
    if answer_tokens <= doc_stride + 1:  # consecutive windows share doc_stride tokens
        assert hits >= 1
