"""bf16 autocast on the CPU: where "auto" may try it, that the loss agrees with fp32, and that a
short run learns as well under bf16 as under fp32. (Which one "auto" takes: test_speed.py.)"""
import pytest
import torch

import spanbert_edu.devices as devices_module
from spanbert_edu import SpanBertConfig, SpanBertForPreTraining, SpanMaskingCollator, load_corpus, load_tokenizer
from spanbert_edu.data.packing import pack_documents
from spanbert_edu.devices import cpu_supports_bf16, precision_candidates
from spanbert_edu.train import pretrain


def test_auto_tries_bf16_only_where_the_cpu_has_it(monkeypatch):
    cpu = torch.device("cpu")
    assert precision_candidates("auto", cpu) == (("fp32", "bf16") if cpu_supports_bf16() else ("fp32",))
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: False)
    assert precision_candidates("auto", cpu) == ("fp32",)
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: True)
    assert precision_candidates("auto", cpu) == ("fp32", "bf16")
    assert precision_candidates("fp32", cpu) == ("fp32",) and precision_candidates("bf16", cpu) == ("bf16",)
    with pytest.raises(ValueError, match="precision"):
        precision_candidates("fp16", cpu)


def test_capability_matches_what_torch_reports():
    caps = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else None
    if caps is None:
        pytest.skip("this torch has no torch.cpu.get_capabilities (the fallback probe is used)")
    assert cpu_supports_bf16() == bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))


def test_bf16_loss_agrees_with_fp32():
    """Same weights, batch and masks, dropout off: the bf16-autocast loss is within 1% of fp32
    (bf16 keeps 8 mantissa bits; measured here: 0.001%, at initialisation). The losses themselves
    are computed in fp32 under autocast, so their dtype is float32."""
    tok = load_tokenizer()
    examples = pack_documents(load_corpus("default", "heldout"), tok, max_length=64)[:8]
    batch = SpanMaskingCollator(tok, seed=0)(examples)
    torch.manual_seed(0)
    model = SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=len(tok))).eval()
    with torch.no_grad():
        fp32 = model(**batch)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16 = model(**batch)
    assert bf16.loss.dtype == torch.float32 and bf16.mlm_loss.dtype == torch.float32
    for a, b in ((fp32.mlm_loss, bf16.mlm_loss), (fp32.sbo_loss, bf16.sbo_loss)):
        assert abs(a.item() - b.item()) <= 0.01 * a.item(), (a.item(), b.item())


def test_short_bf16_run_learns_like_fp32(tmp_path):
    """200 tiny steps from the same seed: the held-out MLM loss under bf16 is within 0.1 nats of
    fp32's (measured here: 3e-5), and both are at least 1.5 nats below the start (ln 8192 = 9.0)."""
    runs = {}
    for precision in ("fp32", "bf16"):
        result = pretrain(preset="tiny", steps=200, batch_size=16, max_length=64, learning_rate=2e-3,
                          warmup_steps=20, eval_every=200, eval_batches=8, save_every=200,
                          precision=precision, out_dir=str(tmp_path / precision), progress=False,
                          echo=lambda *a: None)
        runs[precision] = result["eval"]["mlm_loss"]
    assert abs(runs["bf16"] - runs["fp32"]) < 0.1, runs
    assert max(runs.values()) < 9.0 - 1.5, runs
