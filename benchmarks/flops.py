"""What a training step costs in FLOPs, and what this machine's best GEMM does: the two numbers
``train_throughput.py`` divides to report the share of peak a step achieves.

Model FLOPs per training step, counted as matrix multiplies only (2 FLOPs per multiply-add;
LayerNorm, GeLU, softmax, dropout and the optimizer are left out, as MFU counts usually do):

* forward, per layer and per real token: Q, K, V and output projections 4 x 2H^2, the FFN
  2 x 2HI, and attention 2 x 2LH (Q K^T and A V over all L keys);
* the MLM decoder on the rows it scores: 2H^2 (transform) + 2HV each. Ours scores only the
  masked tokens; transformers' BertForMaskedLM scores every position;
* the SBO head on each target: 2(2H + P)H + 2H^2 + 2HV;
* a training step is 3 forwards (the backward pass costs two: gradients of inputs and weights).

Padding positions are counted too (the kernels compute them); each variant is charged for the
rows it actually computes, so the shares of peak of ours and HF are comparable.
"""
from __future__ import annotations

import time

import torch


def step_flops(config, batch, mlm_rows: str = "masked") -> dict:
    """{"encoder", "attention", "mlm", "sbo", "total"} FLOPs of one training step on ``batch``;
    ``mlm_rows``: "masked" (ours) or "all" (a decoder over every position)."""
    B, L = batch["input_ids"].shape
    H, I, V, P = config.hidden_size, config.intermediate_size, config.vocab_size, config.sbo_position_size
    tokens, layers = B * L, config.num_hidden_layers
    n_mlm = int((batch["labels"] != -100).sum()) if mlm_rows == "masked" else tokens
    n_sbo = int((batch["span_labels"] != -100).sum())
    forward = {"encoder": layers * tokens * (8 * H * H + 4 * H * I),
               "attention": layers * tokens * 4 * L * H,
               "mlm": n_mlm * (2 * H * H + 2 * H * V),
               "sbo": n_sbo * (2 * (2 * H + P) * H + 2 * H * H + 2 * H * V)}
    out = {k: 3 * v for k, v in forward.items()}
    out["total"] = sum(out.values())
    return out


def gemm_peak(dtype: torch.dtype, sizes=((2048, 2048, 2048), (4096, 256, 1024), (4096, 1024, 256)),
              seconds: float = 0.5) -> float:
    """The best FLOP/s of ``torch.mm`` in ``dtype`` on this machine's current threads, over square
    and model-shaped matrices (tokens x hidden x FFN), each timed for about ``seconds``."""
    best = 0.0
    g = torch.Generator().manual_seed(0)
    for m, k, n in sizes:
        a = torch.randn(m, k, generator=g).to(dtype)
        b = torch.randn(k, n, generator=g).to(dtype)
        torch.mm(a, b)                                        # warm-up: threads, packing
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            torch.mm(a, b)
            reps += 1
        best = max(best, 2 * m * k * n * reps / (time.perf_counter() - t0))
    return best
