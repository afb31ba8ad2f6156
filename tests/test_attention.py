"""The two attention paths agree; the mask is skipped only where nothing is padding; dropout
and ``output_attentions`` work on both; HF parity holds on both."""
import pytest
import torch

from spanbert_edu import SpanBertConfig, SpanBertForPreTraining, SpanMaskingCollator, load_corpus, load_tokenizer
from spanbert_edu.attention import attention
from spanbert_edu.data.packing import pack_documents
from spanbert_edu.interop.hf import to_hf_bert
from spanbert_edu.model import set_attention_path


@pytest.fixture(scope="module")
def setup():
    tok = load_tokenizer()
    examples = pack_documents(load_corpus("default", "heldout"), tok, max_length=64)[:8]
    batch = SpanMaskingCollator(tok, seed=0)(examples)
    torch.manual_seed(0)
    model = SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=len(tok)))
    return model, batch


def forward_backward(model, batch, path, bf16=False):
    set_attention_path(model, path)
    model.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = model(**batch)
    out.loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return out, grads


@pytest.mark.parametrize("padded", [True, False])
def test_paths_agree_in_fp32(setup, padded):
    """Loss, logits and every gradient within 1e-5, with padding in the batch and without."""
    model, batch = setup
    if not padded:
        batch = {**batch, "attention_mask": torch.ones_like(batch["attention_mask"])}
    else:
        assert (batch["attention_mask"] == 0).any()
    model.eval()  # dropout off: the two paths draw different masks
    a, ga = forward_backward(model, batch, "sdpa")
    b, gb = forward_backward(model, batch, "explicit")
    assert abs(a.loss.item() - b.loss.item()) < 1e-5
    assert (a.mlm_logits - b.mlm_logits).abs().max() < 1e-5
    assert ga.keys() == gb.keys() and max(float((ga[n] - gb[n]).abs().max()) for n in ga) < 1e-5


def test_explicit_bf16_agrees_with_fp32(setup):
    """The tolerance of test_precision.py: the bf16 loss within 1% of fp32's."""
    model, batch = setup
    model.eval()
    fp32, _ = forward_backward(model, batch, "sdpa")
    for path in ("sdpa", "explicit"):
        bf16, _ = forward_backward(model, batch, path, bf16=True)
        assert abs(bf16.loss.item() - fp32.loss.item()) <= 0.01 * fp32.loss.item(), path


@pytest.mark.parametrize("path", ["sdpa", "explicit"])
def test_no_mask_equals_an_all_true_mask(path):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 8) for _ in range(3))
    keep = torch.ones(2, 7, dtype=torch.bool)
    a, _ = attention(q, k, v, None, 0.0, path)
    b, _ = attention(q, k, v, keep, 0.0, path)
    assert (a - b).abs().max() < 1e-6


@pytest.mark.parametrize("bf16", [False, True])
def test_explicit_path_is_the_textbook_formula(bf16):
    """softmax(q k^T / sqrt(d)) v with padded keys at -inf, written the slow way, in float64; the
    padding bias is 0 or bf16's lowest, so it stays finite (no NaN) under bf16 autocast too."""
    from spanbert_edu.attention import padding_bias

    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 4) for _ in range(3))
    keep = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    low = -(2 - 2**-7) * 2.0**127                                               # bf16's lowest
    assert padding_bias(keep, torch.float32)[:, 0].tolist() == [[0, 0, 0, low, low], [0] * 5]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        got, weights = attention(q, k, v, keep, 0.0, "explicit", need_weights=True)
    scores = q.double() @ k.double().transpose(-2, -1) / 2.0                   # sqrt(4) = 2
    scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
    want = scores.softmax(-1) @ v.double()
    assert torch.isfinite(got).all() and weights[0, :, :, 3:].abs().max() == 0
    assert (got.double() - want).abs().max() < (0.05 if bf16 else 1e-6)


def test_padding_gets_no_weight_and_weights_come_from_either_setting(setup):
    model, batch = setup
    model.eval()
    mask = batch["attention_mask"]
    for path in ("sdpa", "explicit"):
        set_attention_path(model, path)
        with torch.no_grad():
            _, weights = model.bert(batch["input_ids"], mask, output_attentions=True)
        assert len(weights) == model.config.num_hidden_layers
        w = weights[0]                                               # (B, nh, L, L)
        assert torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)), atol=1e-5)
        assert w.masked_select(~mask.bool()[:, None, None, :].expand_as(w)).abs().max() == 0


@pytest.mark.parametrize("path", ["sdpa", "explicit"])
def test_attention_dropout_is_applied_in_training_only(path):
    """Hidden dropout 0, attention dropout 0.5: training output differs from eval's; the same
    seed gives the same output; eval is deterministic."""
    torch.manual_seed(0)
    config = SpanBertConfig.preset("tiny", vocab_size=300, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.5)
    model = set_attention_path(SpanBertForPreTraining(config), path)
    ids = torch.randint(5, 300, (2, 16))
    model.eval()
    with torch.no_grad():
        evaluated, _ = model.bert(ids)
    model.train()
    runs = []
    for _ in range(2):
        torch.manual_seed(7)
        with torch.no_grad():
            runs.append(model.bert(ids)[0])
    assert torch.equal(runs[0], runs[1]) and (runs[0] - evaluated).abs().max() > 1e-2


@pytest.mark.parametrize("path", ["sdpa", "explicit"])
def test_hf_parity_on_both_paths(path):
    """Ours and transformers' BertForMaskedLM with the same weights: logits within 1e-5, on a
    padded batch."""
    torch.manual_seed(2)
    ours = SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=500, max_position_embeddings=64)).eval()
    hf = to_hf_bert(ours).eval()
    set_attention_path(ours, path)
    ids = torch.randint(5, 500, (3, 20))
    mask = torch.ones_like(ids)
    mask[1, 12:], mask[2, 5:] = 0, 0
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        a = ours(ids, mask, labels=labels).mlm_logits
        b = hf(input_ids=ids, attention_mask=mask).logits[labels != -100]
    assert (a - b).abs().max() < 1e-5


def test_set_attention_path_refuses_an_unknown_path(setup):
    with pytest.raises(ValueError, match="attention must be one of"):
        set_attention_path(setup[0], "flash")
