"""SpanBertForQuestionAnswering: built from every source, HF's loss, HF parity, checkpoints,
and a fine-tuned model's export answering through the transformers pipeline as ours does."""
import pytest
import torch

from spanbert_edu import SpanBertConfig, SpanBertForPreTraining
from spanbert_edu.checkpoint import load_model, save_checkpoint
from spanbert_edu.interop.hf import export_hf, to_hf_bert
from spanbert_edu.qa.config import FinetuneConfig
from spanbert_edu.qa.data import QAExample
from spanbert_edu.qa.loop import answer_and_score
from spanbert_edu.qa.model import SpanBertForQuestionAnswering


@pytest.fixture(scope="module")
def qa_model(tokenizer):
    torch.manual_seed(0)
    config = SpanBertConfig.preset("tiny", vocab_size=len(tokenizer), hidden_dropout_prob=0.0,
                                   attention_probs_dropout_prob=0.0)
    return SpanBertForQuestionAnswering.from_pretraining(SpanBertForPreTraining(config)).eval()


def _batch(tokenizer):
    enc = tokenizer(["Who wrote it?", "When?"], ["Guido van Rossum wrote the first version.",
                                                 "It was released in 1991 by its author."],
                    padding=True, return_tensors="pt")
    return {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}


def test_from_pretraining_copies_the_encoder_only(tokenizer):
    pre = SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=len(tokenizer)))
    qa = SpanBertForQuestionAnswering.from_pretraining(pre)
    ours, theirs = qa.bert.state_dict(), pre.bert.state_dict()
    assert set(ours) == {k for k in theirs if not k.startswith("pooler.")}
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert not any(k.startswith(("cls.", "sbo.")) for k in qa.state_dict())
    ours["embeddings.word_embeddings.weight"].add_(1.0)  # a copy: the source is untouched
    assert not torch.equal(pre.bert.embeddings.word_embeddings.weight, qa.bert.embeddings.word_embeddings.weight)


def test_loss_and_logits_match_hf_bert_for_question_answering(qa_model, tokenizer):
    batch = _batch(tokenizer)
    hf = to_hf_bert(qa_model).eval()
    targets = {"start_positions": torch.tensor([7, 0]), "end_positions": torch.tensor([9, 99])}  # 99: ignored
    with torch.no_grad():
        ours, theirs = qa_model(**batch, **targets), hf(**batch, **targets)
    assert type(hf).__name__ == "BertForQuestionAnswering"
    assert (ours.start_logits - theirs.start_logits).abs().max() < 1e-5
    assert (ours.end_logits - theirs.end_logits).abs().max() < 1e-5
    assert abs(ours.loss.item() - theirs.loss.item()) < 1e-5


def test_a_fine_tuned_checkpoint_round_trips_and_says_what_it_holds(qa_model, tmp_path):
    path = save_checkpoint(tmp_path / "step-000001", qa_model, step=1)
    again = SpanBertForQuestionAnswering.from_checkpoint(path)
    assert all(torch.equal(a, b) for a, b in zip(qa_model.state_dict().values(), again.state_dict().values()))
    with pytest.raises(ValueError, match="holds a question_answering model.*SpanBertForQuestionAnswering.from_checkpoint"):
        load_model(path)


def test_the_bundled_model_becomes_a_qa_model():
    qa = SpanBertForQuestionAnswering.from_bundled()
    assert qa.config.hidden_size == 256 and qa.qa_outputs.out_features == 2


def test_the_hf_export_answers_as_we_do(qa_model, tokenizer, tmp_path):
    # transformers 5 removed the question-answering pipeline (its registry raises KeyError for
    # the task), so the HF side is AutoModelForQuestionAnswering on the exported folder, decoded
    # with the same windows: its logits and every answer must be ours.
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from spanbert_edu.qa.decode import decode
    from spanbert_edu.qa.features import make_features

    out = export_hf(qa_model, tmp_path / "hf", tokenizer=tokenizer)
    hf, hf_tokenizer = AutoModelForQuestionAnswering.from_pretrained(out).eval(), AutoTokenizer.from_pretrained(out)
    examples = [QAExample("q1", "Who wrote the first version?", "Guido van Rossum wrote the first version of Python.", []),
                QAExample("q2", "When was it released?", "It was released in 1991, and its author named it after a comedy. " * 6, []),
                QAExample("q3", "What does the module do?", "The module reads files, writes archives and checks sums.", [])]
    cfg = FinetuneConfig(max_length=48, doc_stride=16, max_question_length=16)  # q2 needs several windows
    ours, _ = answer_and_score(qa_model, examples, tokenizer, cfg)
    features = make_features(examples, hf_tokenizer, cfg.max_length, cfg.doc_stride, cfg.max_question_length, train=False)
    assert len(features) > len(examples)
    with torch.no_grad():
        logits = hf(**{k: v for k, v in features.batch(list(range(len(features)))).items()
                       if k in ("input_ids", "attention_mask", "token_type_ids")})
    theirs, _ = decode(examples, features, logits.start_logits.numpy(), logits.end_logits.numpy(),
                       n_best=cfg.n_best, max_answer_length=cfg.max_answer_length)
    assert theirs == ours and all(ours.values())
