"""Dropout whose random mask is cheap to draw on a CPU.

Why this exists: torch's CPU dropout draws its mask with ``bernoulli_``, one Mersenne-Twister
number per element, on one thread. A ``small``-preset step at 32 x 128 draws 17.8 M of them
(nine hidden dropouts of 1 M elements, four attention dropouts of 2.1 M): about 0.19 s of a
0.6 s bf16 step on a 2-core Xeon, and no cheaper in bf16 than in fp32, which is why dropout took
most of bf16's gain away (``benchmarks/step_parts.py`` times the two).

Here the mask is 16-bit uniform integers from NumPy's SFC64 generator (four per 64-bit draw),
kept where they are >= round(p * 2^16). So p is rounded to a multiple of 1/65536 (0.1 becomes
0.100006), and the survivors are scaled by 1 / (1 - that p): the expectation stays exact. The
generator is seeded by one draw from torch's global generator, so ``torch.manual_seed`` still
decides every mask and a resumed run replays them. On other devices (CUDA) torch's own dropout
is used: it is fast there.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LEVELS = 1 << 16  # the mask's random integers are uniform in [0, LEVELS)


def keep_mask(shape, p: float) -> torch.Tensor:
    """A CPU bool tensor of ``shape``: False where an element is dropped, each with probability
    round(p * 2^16) / 2^16."""
    seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))  # torch's generator decides
    draws = np.random.Generator(np.random.SFC64(seed)).integers(0, LEVELS, size=tuple(shape), dtype=np.uint16)
    return torch.from_numpy(draws >= round(p * LEVELS))


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """``F.dropout(x, p, training)``, with the cheap mask on a CPU. Backward multiplies by the
    same mask (autograd keeps the mask, not ``x``)."""
    if not training or p == 0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, True)
    drop_below = round(p * LEVELS)
    if drop_below >= LEVELS:  # p rounds to 1: everything is dropped (as torch does for p = 1)
        return x * torch.zeros((), dtype=x.dtype)
    scale = LEVELS / (LEVELS - drop_below)
    keep = keep_mask(x.shape, p).to(x.dtype)                         # 0 or 1
    if x.dtype in (torch.float32, torch.float64):
        return x * keep.mul_(scale)  # one multiply: the mask holds 1 / (1 - p) to x's precision
    # bf16 (autocast) cannot hold 1 / (1 - p): 1.1111 would be 1.1094, every survivor 0.16% low.
    # So multiply by the mask, then by the exact scale.
    return (x * keep).mul_(scale)


class Dropout(nn.Dropout):
    """``nn.Dropout`` (same ``p``, same place in the module tree) drawing the cheap CPU mask."""

    def forward(self, x):
        return dropout(x, self.p, self.training)
