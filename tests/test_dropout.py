"""The cheap CPU dropout: its drop rate, its scale, its seeding, its backward."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spanbert_edu.dropout import LEVELS, Dropout, dropout


def test_drop_rate_and_scale():
    """1M elements at p = 0.1: the share dropped is within 5 standard errors (5 * 3e-4) of the
    rounded p, and every survivor is scaled by 1 / (1 - rounded p)."""
    torch.manual_seed(0)
    p, n = 0.1, 1 << 20
    rounded = round(p * LEVELS) / LEVELS                      # 6554 / 65536 = 0.1000061
    mask = dropout(torch.ones(n), p)
    dropped = float((mask == 0).float().mean())
    assert abs(dropped - rounded) < 5 * math.sqrt(p * (1 - p) / n), dropped
    values = mask.unique().tolist()
    assert len(values) == 2 and values[0] == 0 and values[1] == pytest.approx(1 / (1 - rounded), rel=1e-6)
    x = torch.randn(n)
    assert abs(float(dropout(x, p).mean() - x.mean())) < 0.01  # the expectation is kept


def test_torch_seed_decides_the_mask():
    x = torch.ones(64, 128)
    torch.manual_seed(3)
    a = dropout(x, 0.3)
    torch.manual_seed(3)
    b = dropout(x, 0.3)
    c = dropout(x, 0.3)                                      # the generator moved on
    assert torch.equal(a, b) and not torch.equal(b, c)


def test_backward_multiplies_by_the_same_mask():
    x = torch.randn(32, 64, requires_grad=True)
    torch.manual_seed(1)
    y = dropout(x, 0.25)
    y.sum().backward()
    expected = torch.where(y != 0, torch.tensor(1 / (1 - round(0.25 * LEVELS) / LEVELS)), torch.tensor(0.0))
    assert torch.allclose(x.grad, expected)


def test_off_in_eval_and_at_p0_everything_dropped_at_p1():
    x = torch.randn(8, 8)
    assert dropout(x, 0.5, training=False) is x and dropout(x, 0.0) is x
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    module = Dropout(0.5).eval()
    assert isinstance(module, torch.nn.Dropout) and module(x) is x and not module.state_dict()


def test_bf16_stays_bf16_and_is_scaled_by_the_exact_factor():
    """A survivor is bf16(x / (1 - p)), not x times a bf16-rounded 1.1094 (0.16% low): for x = 1.75,
    1.75 / (1 - 0.1000061) = 1.94446 rounds to 1.9453125, while 1.75 * 1.109375 gives 1.9375."""
    x = torch.full((64, 64), 1.75, dtype=torch.bfloat16)
    torch.manual_seed(0)
    y = dropout(x, 0.1)
    survivors = y[y != 0]
    assert y.dtype == torch.bfloat16 and survivors.numel() > 0
    assert torch.equal(survivors, torch.full_like(survivors, 1.9453125))


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0, 1), rows=st.integers(1, 6), cols=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_each_element_is_dropped_or_scaled(p, rows, cols, seed):
    torch.manual_seed(seed)
    x = torch.randn(rows, cols)
    y = dropout(x, p)
    drop_below = round(p * LEVELS)
    scale = 0.0 if drop_below >= LEVELS else LEVELS / (LEVELS - drop_below)
    kept = y != 0
    assert y.shape == x.shape
    assert torch.allclose(y[kept], x[kept] * scale)
