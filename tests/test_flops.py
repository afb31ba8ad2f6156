"""benchmarks/flops.py: the FLOP count the throughput benchmark divides by, checked by hand on a
tiny config, and the GEMM peak it divides into."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from flops import gemm_peak, step_flops  # noqa: E402

from spanbert_edu import SpanBertConfig  # noqa: E402


def test_step_flops_by_hand():
    c = SpanBertConfig.preset("tiny")              # H 64, I 256, 2 layers
    H, I, V, P, layers = c.hidden_size, c.intermediate_size, c.vocab_size, c.sbo_position_size, c.num_hidden_layers
    B, L = 2, 8
    labels = torch.full((B, L), -100)
    labels[0, 2:5] = 7                             # 3 masked tokens
    span_labels = torch.full((B, 1, 15), -100)
    span_labels[0, 0, :3] = 7                      # 3 SBO targets
    batch = {"input_ids": torch.zeros(B, L, dtype=torch.long), "labels": labels, "span_labels": span_labels}
    f = step_flops(c, batch)
    assert f["encoder"] == 3 * layers * 16 * (8 * H * H + 4 * H * I)
    assert f["attention"] == 3 * layers * 16 * 4 * 8 * H
    assert f["mlm"] == 3 * 3 * (2 * H * H + 2 * H * V)
    assert f["sbo"] == 3 * 3 * (2 * (2 * H + P) * H + 2 * H * H + 2 * H * V)
    assert f["total"] == f["encoder"] + f["attention"] + f["mlm"] + f["sbo"]
    every = step_flops(c, batch, mlm_rows="all")   # HF's decoder scores all 16 positions
    assert every["mlm"] == 16 / 3 * f["mlm"] and every["encoder"] == f["encoder"]


def test_gemm_peak_is_a_plausible_rate():
    peak = gemm_peak(torch.float32, sizes=((256, 256, 256),), seconds=0.05)
    assert 1e8 < peak < 1e14                       # between 0.1 GFLOP/s and 100 TFLOP/s
