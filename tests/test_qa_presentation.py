"""Notebook 09's reading of a QA model: distributions over the context, n-best answers, the widget."""
import numpy as np
import pytest
import torch

from spanbert_edu import SpanBertConfig, SpanBertForPreTraining
from spanbert_edu.presentation.qa import answer_question, format_nbest, plot_start_end
from spanbert_edu.presentation.widgets import build_qa_widget
from spanbert_edu.qa import SpanBertForQuestionAnswering

CONTEXT = "Guido van Rossum wrote the first version of Python and released it in 1991."


@pytest.fixture(scope="module")
def qa_model(tokenizer):
    torch.manual_seed(0)
    return SpanBertForQuestionAnswering.from_pretraining(
        SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=len(tokenizer)))).eval()


def test_answer_question_reads_the_context_only(qa_model, tokenizer):
    reading = answer_question(qa_model, tokenizer, "Who wrote it?", CONTEXT, n_best=3)
    assert reading["tokens"] == tokenizer.tokenize(CONTEXT)            # context tokens, no question, no specials
    for name in ("start", "end"):
        assert reading[name].shape == (len(reading["tokens"]),) and np.isclose(reading[name].sum(), 1.0)
    assert len(reading["nbest"]) == 3 and reading["answer"] == reading["nbest"][0]["text"]
    assert reading["answer"] in CONTEXT                                # cut from the original text
    scores = [c["score"] for c in reading["nbest"]]
    assert scores == sorted(scores, reverse=True)
    assert format_nbest(reading).splitlines()[0].endswith(repr(reading["answer"]))
    assert plot_start_end(reading).axes


def test_blank_inputs_are_refused(qa_model, tokenizer):
    with pytest.raises(ValueError, match="question must be a non-empty string"):
        answer_question(qa_model, tokenizer, "  ", CONTEXT)


def test_the_widget_recomputes_when_the_question_changes(qa_model, tokenizer):
    panel = build_qa_widget(qa_model, tokenizer, "Who wrote it?", CONTEXT)
    assert panel.result["answer"] in CONTEXT
    panel.controls["context"].value = "The module reads files and writes archives."
    assert panel.result["answer"] in "The module reads files and writes archives."
    panel.controls["question"].value = ""
    assert isinstance(panel.result, ValueError)                        # explained in the panel, not raised
