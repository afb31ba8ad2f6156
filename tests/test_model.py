"""The encoder, the heads and the Hugging Face bridge."""
import time

import pytest
import torch
import torch.nn.functional as F

from spanbert_edu import SpanMaskingCollator
from spanbert_edu.heads import SBOHead, SpanBertForPreTraining
from spanbert_edu.interop.hf import from_hf_bert, to_hf_bert
from spanbert_edu.model import SpanBertConfig


def tiny(**kw):
    return SpanBertForPreTraining(SpanBertConfig.preset("tiny", **kw))


@pytest.fixture(scope="module")
def batch(tokenizer, heldout_examples):
    return SpanMaskingCollator(tokenizer, seed=0)(heldout_examples[:8])


def test_presets_and_bad_config_values():
    assert SpanBertConfig.preset("base").hidden_size == 768
    assert SpanBertConfig.preset("small", num_hidden_layers=2).num_hidden_layers == 2
    with pytest.raises(ValueError, match="preset must be one of"):
        SpanBertConfig.preset("huge")
    with pytest.raises(ValueError, match=r"unknown SpanBertConfig keys \['hidden'\]"):
        SpanBertConfig.preset("tiny", hidden=3)
    with pytest.raises(ValueError, match="must be divisible by num_attention_heads"):
        SpanBertConfig(hidden_size=65, num_attention_heads=2)
    with pytest.raises(ValueError, match="hidden_dropout_prob must be in"):
        SpanBertConfig(hidden_dropout_prob=1.5)
    with pytest.raises(ValueError, match="needs segment embeddings"):
        SpanBertConfig(pair_objective="nsp", type_vocab_size=0)


def test_segment_table_as_the_authors(batch):
    """Two rows, all-zero ids for a single sequence: row 0 is trained, row 1 never is; leaving
    token_type_ids out is the same as passing zeros."""
    torch.manual_seed(0)
    model = tiny().eval()
    assert model.config.type_vocab_size == 2
    assert tuple(model.bert.embeddings.token_type_embeddings.weight.shape) == (2, 64)
    assert "token_type_ids" not in batch
    out = model(**batch)
    zeros = model(**batch, token_type_ids=torch.zeros_like(batch["input_ids"]))
    assert torch.equal(out.loss, zeros.loss)
    out.loss.backward()
    grad = model.bert.embeddings.token_type_embeddings.weight.grad
    assert grad[0].abs().sum() > 0 and grad[1].abs().sum() == 0
    assert not hasattr(tiny(type_vocab_size=0).bert.embeddings.token_type_embeddings, "weight")


def test_forward_shapes_and_loss(batch):
    torch.manual_seed(0)
    model = tiny()
    out = model(**batch)
    n_masked = int((batch["labels"] != -100).sum())
    n_sbo = int((batch["span_labels"] != -100).sum())
    assert out.mlm_logits.shape == (n_masked, 8192)          # only at masked positions
    assert out.sbo_logits.shape == (n_sbo, 8192)
    assert torch.allclose(out.loss, out.mlm_loss + out.sbo_loss)
    assert 8.5 < out.mlm_loss.item() < 9.5                    # ~ ln(8192) = 9.01 at init
    assert out["loss"] is out.loss and out[0] is out.loss     # what Trainer reads
    mlm_only = tiny(sbo_weight=0.0)(**batch)
    assert mlm_only.sbo_logits is None and torch.equal(mlm_only.loss, mlm_only.mlm_loss)


def test_training_step_is_fast_on_cpu(batch):
    model = tiny()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(**batch).loss.backward()  # warm-up
    t0 = time.perf_counter()
    loss = model(**batch).loss
    loss.backward()
    opt.step()
    assert time.perf_counter() - t0 < 2.0                     # typically ~0.05 s for 8 x 128


def test_sbo_head_is_the_paper_formula():
    torch.manual_seed(0)
    head = SBOHead(hidden_size=16, vocab_size=50, position_size=6, max_span_targets=4)
    emb = torch.randn(50, 16)
    hidden = torch.randn(2, 10, 16)
    bounds = torch.tensor([[[2, 6], [-1, -1]], [[0, 3], [4, 9]]])
    labels = torch.full((2, 2, 4), -100)
    labels[0, 0, :3] = torch.tensor([7, 8, 9])
    labels[1, 0, :2] = torch.tensor([1, 2])
    labels[1, 1, :4] = torch.tensor([3, 4, 5, 6])
    logits, targets = head(hidden, bounds, labels, emb)
    assert targets.tolist() == [7, 8, 9, 1, 2, 3, 4, 5, 6]
    # by hand, for the target at offset 2 of span (2, 6) in row 0
    h0 = torch.cat([hidden[0, 2], hidden[0, 6], head.position_embeddings.weight[2]])
    h1 = F.layer_norm(F.gelu(head.dense1(h0)), (16,), head.LayerNorm1.weight, head.LayerNorm1.bias, 1e-12)
    y = F.layer_norm(F.gelu(head.dense2(h1)), (16,), head.LayerNorm2.weight, head.LayerNorm2.bias, 1e-12)
    assert torch.allclose(logits[2], y @ emb.t() + head.bias, atol=1e-6)
    assert head.dense1.in_features == 2 * 16 + 6


def test_sbo_decoder_is_tied_to_the_input_embeddings(batch):
    model = tiny()
    names = [n for n, _ in model.named_parameters()]
    assert not any("decoder" in n for n in names)              # no separate output matrix
    out = model(**batch)
    out.sbo_loss.backward()
    assert model.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_attention_weights_on_request(tokenizer):
    model = tiny().eval()
    ids = torch.tensor([tokenizer("one two three")["input_ids"] + [0, 0]])
    mask = torch.tensor([[1] * 5 + [0, 0]])
    hidden, attentions = model.bert(ids, mask, output_attentions=True)
    assert len(attentions) == 2 and attentions[0].shape == (1, 2, 7, 7)
    assert torch.allclose(attentions[0].sum(-1), torch.ones(1, 2, 7))
    assert attentions[0][..., 5:].abs().max() == 0              # nothing attends to padding
    assert torch.allclose(hidden, model.bert(ids, mask)[0], atol=1e-5)  # SDPA path agrees


def test_too_long_sequences_are_rejected():
    model = tiny()
    with pytest.raises(ValueError, match="longer than the position table"):
        model.bert(torch.ones(1, 300, dtype=torch.long))


@pytest.fixture(scope="module")
def hf_bert():
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=500, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=128, max_position_embeddings=64)
    return BertForMaskedLM(cfg).eval()


def _padded_batch():
    torch.manual_seed(1)
    ids = torch.randint(5, 500, (3, 24))
    mask = torch.ones_like(ids)
    mask[1, 15:], mask[2, 6:] = 0, 0
    return ids.masked_fill(mask == 0, 0), mask


def test_hf_to_ours_same_hidden_states_and_logits(hf_bert):
    ours = from_hf_bert(hf_bert).eval()
    ids, mask = _padded_batch()
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        h_hf = hf_bert.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        logits_hf = hf_bert(input_ids=ids, attention_mask=mask).logits
        h_ours, _ = ours.bert(ids, mask)
        out = ours(ids, mask, labels=labels)
    real = mask.bool()
    assert (h_ours - h_hf)[real].abs().max() < 1e-5
    assert (out.mlm_logits - logits_hf[labels != -100]).abs().max() < 1e-5


def test_ours_to_hf_and_back(hf_bert):
    torch.manual_seed(2)
    ours = tiny(vocab_size=500, max_position_embeddings=64).eval()  # no segment embeddings
    hf = to_hf_bert(ours).eval()
    ids, mask = _padded_batch()
    with torch.no_grad():
        labels = ids.masked_fill(mask == 0, -100)
        ours_logits = ours(ids, mask, labels=labels).mlm_logits
        hf_logits = hf(input_ids=ids, attention_mask=mask).logits[labels != -100]
        assert (ours_logits - hf_logits).abs().max() < 1e-5
        again = from_hf_bert(hf).eval()
        assert (again(ids, mask, labels=labels).mlm_logits - ours_logits).abs().max() < 1e-5


def test_from_a_saved_bert_model_folder(hf_bert, tmp_path):
    """The hub path for SpanBERT/spanbert-base-cased (encoder only), with a local stand-in."""
    hf_bert.bert.save_pretrained(tmp_path)                    # a bare BertModel, like the release
    ours = from_hf_bert(str(tmp_path))
    assert torch.equal(ours.bert.embeddings.word_embeddings.weight, hf_bert.bert.embeddings.word_embeddings.weight)
    assert ours.config.type_vocab_size == 2                    # BERT's segments come along
    with pytest.raises(TypeError, match="must be a Hugging Face BERT model"):
        from_hf_bert(42)


def test_sbo_head_on_hugging_face_hidden_states(hf_bert, tokenizer, heldout_examples):
    """SBOHead works on any encoder's hidden states: here HF's BertModel."""
    from transformers import BertConfig, BertModel

    bert = BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1,
                                num_attention_heads=2, intermediate_size=64, max_position_embeddings=160))
    batch = SpanMaskingCollator(tokenizer, seed=0)(heldout_examples[:4])
    hidden = bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    head = SBOHead(32, len(tokenizer))
    logits, targets = head(hidden, batch["span_boundaries"], batch["span_labels"], bert.embeddings.word_embeddings.weight)
    assert logits.shape == (int((batch["span_labels"] != -100).sum()), len(tokenizer))
    F.cross_entropy(logits, targets).backward()


def test_trainer_trains_the_model(tokenizer, heldout_examples, tmp_path):
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4,
                             report_to=[], use_cpu=True, save_strategy="no", remove_unused_columns=False)
    trainer = Trainer(model=tiny(), args=args, train_dataset=heldout_examples[:16],
                      data_collator=SpanMaskingCollator(tokenizer, seed=0))
    assert trainer.train().training_loss > 0 and trainer.state.global_step == 2


def test_qkv_stacked_equals_three_layers_and_a_replaced_layer_is_called():
    """Forward multiplies by the stacked Q, K, V weights; a module swapped in for one of them (a
    LoRA or quantized layer) is called instead, and with plain layers the outputs agree."""
    from torch import nn
    from spanbert_edu.model import BertSelfAttention

    torch.manual_seed(0)
    attention = BertSelfAttention(SpanBertConfig.preset("tiny")).eval()
    x = torch.randn(2, 7, 64)
    stacked, _ = attention(x, None)
    calls = []

    class Counting(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, t):
            calls.append(t.shape)
            return self.inner(t) * 2.0  # a different layer: its output must show

    attention.value = Counting(attention.value)
    replaced, _ = attention(x, None)
    assert calls == [x.shape]
    # the layer-by-layer path with V doubled: softmax(q k^T) (2 v) is twice the stacked path's output
    torch.testing.assert_close(replaced, 2.0 * stacked, rtol=1e-5, atol=1e-6)
