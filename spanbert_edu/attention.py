"""Scaled dot-product attention, computed two ways; which one a run takes is measured.

* ``"sdpa"``: ``torch.nn.functional.scaled_dot_product_attention``, torch's fused kernels (flash
  attention on a GPU) with their own dropout. The reference path, and the default.
* ``"explicit"``: ``softmax(q k^T / sqrt(d) + mask) v`` written out, with the cheap CPU dropout
  of :mod:`spanbert_edu.dropout`. On a CPU under bf16 autocast it is the faster of the two
  (SDPA's CPU backward is slow there; ``benchmarks/step_parts.py``), and it is the only path that
  returns the attention weights (``output_attentions``).

Both skip the mask when ``keep`` is None, which the model passes when no position of the batch
is padding (a packed batch): SDPA's CPU kernels run much faster with no mask than with an
all-true one. The paths agree to float rounding (1e-5 in fp32, ``tests/test_attention.py``), but
their dropout masks differ, so a run keeps one path throughout: a training run measures both at
its start and records the winner (:mod:`spanbert_edu.train.speed`).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .dropout import dropout

ATTENTION_PATHS = ("sdpa", "explicit")


def attention(q, k, v, keep, dropout_p: float, path: str = "sdpa", need_weights: bool = False):
    """q, k, v (B, nh, L, d); keep (B, L) bool, or None for no padding -> (B, nh, L, d), and the
    weights (B, nh, L, L) when ``need_weights`` (which takes the explicit path), else None.
    ``dropout_p`` is applied as given: pass 0 outside training."""
    if path == "sdpa" and not need_weights:
        mask = None if keep is None else keep[:, None, None, :]      # (B, 1, 1, L): attend to real tokens
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p), None
    B, nh, L, d = q.shape
    # one batched matmul writes the scaled scores with the padding bias already added (baddbmm),
    # where "q k^T, then / sqrt(d), then masked_fill" took three passes over (B, nh, L, L)
    bias = q.new_zeros(()) if keep is None else padding_bias(keep, q.dtype).repeat_interleave(nh, 0)
    scores = torch.baddbmm(bias, q.reshape(B * nh, L, d), k.reshape(B * nh, L, d).transpose(1, 2),
                           alpha=1 / math.sqrt(d)).view(B, nh, L, L)
    probs = scores.softmax(-1)
    return dropout(probs, dropout_p) @ v, (probs if need_weights else None)


def padding_bias(keep, dtype):
    """keep (B, L) bool -> (B, 1, L): 0 where a key is a real token, else a large negative number
    (bf16's lowest, which fp32 holds exactly and which stays finite under bf16 autocast)."""
    low = torch.finfo(torch.bfloat16 if dtype in (torch.float32, torch.bfloat16) else dtype).min
    return torch.zeros(keep.shape, dtype=dtype, device=keep.device).masked_fill_(~keep, low)[:, None, :]
