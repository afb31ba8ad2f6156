"""QA scoring: SQuAD's exact match and F1 by hand, and decoding hand-made logits into answers."""
import numpy as np
import pytest
import torch

from spanbert_edu.qa.data import QAExample
from spanbert_edu.qa.decode import decode
from spanbert_edu.qa.features import make_features
from spanbert_edu.qa.metrics import exact_match, f1, normalize_answer, squad_metrics


# ---------------------------------------------------------------------------------------
# Exact match and F1
# ---------------------------------------------------------------------------------------
def test_normalisation_and_exact_match_by_hand():
    assert normalize_answer("The  Cat!") == "cat"                 # case, punctuation, article, spaces
    assert exact_match("The Cat!", "cat") == 1.0
    assert exact_match("an apple", "apple.") == 1.0
    assert exact_match("cat", "cat sat") == 0.0
    assert exact_match("theater", "ater") == 0.0                  # "the" only as a whole word


def test_f1_by_hand():
    # "a cat sat" -> [cat, sat]; "the cat sat down" -> [cat, sat, down]; 2 tokens in common:
    # precision 2/2, recall 2/3, F1 = 2 * (2/2 * 2/3) / (2/2 + 2/3) = (4/3) / (5/3) = 0.8
    assert f1("a cat sat", "the cat sat down") == pytest.approx(2 * (2 / 2 * 2 / 3) / (2 / 2 + 2 / 3))
    assert f1("a cat sat", "the cat sat down") == pytest.approx(0.8)
    assert f1("dog", "cat") == 0.0
    # repeated tokens count as often as both sides have them: [cat, cat] vs [cat]: 1 in common,
    # precision 1/2, recall 1/1, F1 = 2 * 1/2 / (3/2) = 2/3
    assert f1("cat cat", "cat") == pytest.approx(2 / 3)


def test_the_maximum_over_the_gold_answers():
    golds = ["the cat sat down", "a dog", "cat sat"]
    assert exact_match("Cat sat", golds) == 1.0
    assert f1("a cat sat", golds) == 1.0
    assert f1("sat down", ["down", "cat sat down"]) == pytest.approx(max(2 / 3, 0.8))  # vs "cat sat down"


def test_no_answer_cases():
    for gold in ([], [""], ""):
        assert exact_match("", gold) == f1("", gold) == 1.0       # no answer, none predicted
        assert exact_match("x", gold) == f1("x", gold) == 0.0     # an answer where there is none
    assert exact_match("", "cat") == f1("", "cat") == 0.0         # no answer where there is one
    assert f1("the", "a") == 1.0                                  # both normalise to nothing


def test_metrics_refuse_what_is_not_text():
    with pytest.raises(TypeError, match="text"):
        exact_match(None, "cat")
    with pytest.raises(TypeError, match="gold"):
        f1("cat", [1])


def ex(qid, *answers, context="the cat sat down by a dog"):
    return QAExample(qid, "?", context, [{"text": a, "answer_start": context.index(a)} for a in answers])


def test_squad_metrics_v1():
    examples = [ex("a", "cat sat", "the cat sat down"), ex("b", "dog")]
    scores = squad_metrics({"a": "a cat sat", "b": "cat", "unused": "x"}, examples)
    # a: EM 1 (vs "cat sat"), F1 1; b: EM 0, F1 0 -> 50 and 50 on the 0-100 scale
    assert scores == {"exact_match": 50.0, "f1": 50.0, "n": 2}


def test_squad_metrics_v2_splits_by_kind():
    examples = [ex("a", "cat sat"), ex("b"), ex("c"), ex("d", "dog")]
    scores = squad_metrics({"a": "cat sat down", "b": "", "c": "x", "d": ""}, examples)
    # a: EM 0, F1 2*(2/3*1)/(2/3+1) = 0.8; b: 1, 1; c: 0, 0; d: 0, 0
    assert scores["exact_match"] == pytest.approx(25.0) and scores["f1"] == pytest.approx(45.0)
    assert scores["n"] == 4 and scores["has_answer_n"] == 2 and scores["no_answer_n"] == 2
    assert scores["has_answer_exact_match"] == 0.0 and scores["has_answer_f1"] == pytest.approx(40.0)
    assert scores["no_answer_exact_match"] == 50.0 and scores["no_answer_f1"] == 50.0


def test_squad_metrics_refuses_missing_ids():
    with pytest.raises(ValueError, match=r"lacks 1 of the 2 question ids.*'b'"):
        squad_metrics({"a": "cat"}, [ex("a", "cat sat"), ex("b", "dog")])
    with pytest.raises(TypeError, match=r"predictions\['a'\]"):
        squad_metrics({"a": None}, [ex("a", "cat sat")])
    with pytest.raises(ValueError, match="examples"):
        squad_metrics({}, [])


# ---------------------------------------------------------------------------------------
# Decoding hand-made logits
# ---------------------------------------------------------------------------------------
# 28 words, each ONE token of the bundled vocabulary: context token t is word t, at position 6 + t
# of its window ([CLS] What is it ? [SEP] comes first)
WORDS = ("function returns value type list for each object module class file name string data "
         "when error default number method path code line time size text mode user test").split()
CONTEXT = " ".join(WORDS)
LOW = -10.0


def windows_of(tokenizer, context=CONTEXT, **window):
    examples = [QAExample("q", "What is it?", context, [])]
    return examples, make_features(examples, tokenizer, train=False, **window)


def logits_like(features):
    return np.full(tuple(features.input_ids.shape), LOW), np.full(tuple(features.input_ids.shape), LOW)


def test_an_answer_split_across_windows_comes_from_the_window_holding_it(tokenizer):
    # windows of 9 context tokens stepping by 6: words 0-8, 6-14, ...; "module class" is words
    # 8-9, cut at the end of window 0 and whole in window 1 (at positions 6 + 2, 6 + 3)
    examples, f = windows_of(tokenizer, max_length=16, doc_stride=3, max_question_length=4)
    start, end = logits_like(f)
    start[0, 14], end[0, 14] = 6.0, 1.0          # window 0: "module" alone, score 7
    start[1, 8], end[1, 9] = 5.0, 5.0            # window 1: "module class", score 10
    predictions, nbest = decode(examples, f, start, end)
    assert predictions == {"q": "module class"}
    assert nbest["q"][0] == {"text": "module class", "score": 10.0, "start": CONTEXT.index("module"),
                             "end": CONTEXT.index("class") + 5}
    assert nbest["q"][1]["text"] == "module" and nbest["q"][1]["score"] == 7.0
    assert decode(examples, f, torch.tensor(start), torch.tensor(end))[0] == predictions


def test_the_text_comes_from_the_original_context(tokenizer):
    context = "Call  Module   Class now."
    examples, f = windows_of(tokenizer, context)
    offsets = f.offset_mapping[0]
    s = next(t for t, o in enumerate(offsets) if o is not None and o[0] == context.index("Module"))
    e = next(t for t, o in enumerate(offsets) if o is not None and o[1] == context.index("Class") + 5)
    start, end = logits_like(f)
    start[0, s], end[0, e] = 5.0, 5.0
    assert decode(examples, f, start, end)[0] == {"q": "Module   Class"}


def test_question_tokens_are_never_an_answer(tokenizer):
    examples, f = windows_of(tokenizer)
    start, end = logits_like(f)
    start[0, 1], end[0, 2] = 9.0, 9.0            # "What is": question tokens
    start[0, 6], end[0, 6] = 1.0, 1.0            # "function"
    assert decode(examples, f, start, end)[0] == {"q": "function"}


def test_max_answer_length_and_end_after_start(tokenizer):
    examples, f = windows_of(tokenizer)
    start, end = logits_like(f)
    start[0, 6], end[0, 10], end[0, 7] = 5.0, 5.0, 3.0   # words 0-4 (5 tokens) or 0-1 (2 tokens)
    assert decode(examples, f, start, end, max_answer_length=2)[0]["q"] == "function returns"
    assert decode(examples, f, start, end, max_answer_length=5)[0]["q"] == "function returns value type list"
    start, end = logits_like(f)
    start[0, 10], end[0, 7], end[0, 12] = 5.0, 5.0, 2.0  # the best end (word 1) is before the start
    assert decode(examples, f, start, end)[0]["q"] == "list for each"


def test_version_2_null_answer(tokenizer):
    examples, f = windows_of(tokenizer)
    start, end = logits_like(f)
    start[0, 6], end[0, 7] = 5.0, 5.0                     # best span "function returns": 10
    start[0, 0], end[0, 0] = 6.0, 6.0                     # null score 12 > 10
    predictions, nbest = decode(examples, f, start, end, version_2=True)
    assert predictions == {"q": ""}
    assert nbest["q"][0] == {"text": "", "score": 12.0, "start": None, "end": None}
    assert decode(examples, f, start, end, version_2=True, null_threshold=5.0)[0] == {"q": "function returns"}
    assert decode(examples, f, start, end)[0] == {"q": "function returns"}   # v1.1: never ""
    start[0, 0], end[0, 0] = 4.0, 4.0                     # null score 8 < 10
    assert decode(examples, f, start, end, version_2=True)[0] == {"q": "function returns"}


def test_version_2_takes_the_smallest_null_score_over_windows(tokenizer):
    examples, f = windows_of(tokenizer, max_length=16, doc_stride=3, max_question_length=4)
    start, end = logits_like(f)
    start[1, 8], end[1, 9] = 5.0, 5.0                     # "module class" in window 1: 10
    start[:, 0], end[:, 0] = 20.0, 20.0                   # every window sure there is no answer...
    start[3, 0], end[3, 0] = 1.0, 1.0                     # ...but window 3: min null score 2 < 10
    assert decode(examples, f, start, end, version_2=True)[0] == {"q": "module class"}


def test_decode_refuses_bad_arguments(tokenizer):
    examples, f = windows_of(tokenizer)
    start, end = logits_like(f)
    with pytest.raises(ValueError, match="start_logits must have shape"):
        decode(examples, f, start[:, :5], end)
    with pytest.raises(ValueError, match="n_best"):
        decode(examples, f, start, end, n_best=0)
    with pytest.raises(ValueError, match="examples"):
        decode([], f, start, end)
