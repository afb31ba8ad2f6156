r"""Span lengths: the geometric distribution SpanBERT draws span lengths (in words) from.

SpanBERT samples a span length :math:`\ell` from a geometric distribution with
:math:`p = 0.2`, restricted to :math:`1 \le \ell \le 10`. "Restricted" has two readings:

* ``mode="truncate"`` (the authors' code, our default): keep the weights
  :math:`p q^{\ell-1}` (:math:`q = 1 - p`) for :math:`m \le \ell \le n` and renormalise.
  Mean 3.797 for p=0.2, n=10 -- the paper's "mean span length 3.8".
* ``mode="clip"`` (the paper's word): draw an unrestricted geometric and clip it into
  :math:`[m, n]`, so the mass above :math:`n` piles up on :math:`n` (and below :math:`m`
  on :math:`m`). Mean 4.463 for p=0.2, n=10.

Closed forms (derived once, here, next to the code that computes them)
----------------------------------------------------------------------
Two finite geometric sums, for :math:`q \ne 1` and :math:`N \ge 1`:

.. math::
    S_0 = \sum_{k=1}^{N} q^{k-1} = \frac{1 - q^N}{1 - q} = \frac{1 - q^N}{p},
    \qquad
    S_1 = \sum_{k=1}^{N} k\, q^{k-1} = \frac{d}{dq}\sum_{k=0}^{N} q^k
        = \frac{1 - (N+1) q^N + N q^{N+1}}{p^2}.

*Truncated.* Write :math:`\ell = m - 1 + k` with :math:`k = 1..N`, :math:`N = n - m + 1`.
The weights are proportional to :math:`q^{k-1}`, so

.. math::
    E[\ell] = m - 1 + \frac{S_1}{S_0}
            = m - 1 + \frac{1 - (N+1)q^N + N q^{N+1}}{p\,(1 - q^N)}
            = m - 1 + \frac{1}{p} - \frac{N q^N}{1 - q^N},

where the last step splits :math:`1 - (N+1)q^N + Nq^{N+1} = (1 - q^N) - N q^N (1 - q)`.
For :math:`m=1, n=10, p=0.2`: :math:`5 - 10 \cdot 0.8^{10} / (1 - 0.8^{10}) = 3.797`.

*Clipped.* For a non-negative integer variable :math:`E[X] = \sum_{k \ge 0} P(X > k)`.
With :math:`X = \min(\max(G, m), n)` and :math:`P(G > k) = q^k`:

.. math::
    E[X] = \sum_{k=0}^{m-1} 1 + \sum_{k=m}^{n-1} q^k = m + \frac{q^m - q^n}{p}.

For :math:`m=1, n=10, p=0.2`: :math:`1 + (0.8 - 0.8^{10})/0.2 = 4.463`.

Both reduce to :math:`m` at :math:`p = 1` (every span has the minimum length).

This module does not mask anything; :mod:`spanbert_edu.masking` uses it.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import check_choice, check_geometric_p, check_int, check_span_range

MODES = ("truncate", "clip")


def _check(p, max_len, min_len, mode):
    p = check_geometric_p(p, name="p")
    min_len, max_len = check_span_range(min_len, max_len)
    check_choice("mode", mode, MODES)
    return p, max_len, min_len


MAX_PMF_LENGTHS = 10**7  # span lengths a probability table (and so a sampler) may hold: 80 MB


def span_length_pmf(p: float, max_len: int, min_len: int = 1, mode: str = "truncate") -> np.ndarray:
    """Probabilities of span lengths ``min_len..max_len`` (index 0 is ``min_len``).

    >>> span_length_pmf(0.2, 10).round(3)[:3]
    array([0.224, 0.179, 0.143])
    """
    p, max_len, min_len = _check(p, max_len, min_len, mode)
    if max_len - min_len + 1 > MAX_PMF_LENGTHS:  # the table is 8 bytes a length: 10**9 lengths is 8 GB
        raise ValueError(f"max_len - min_len + 1 = {max_len - min_len + 1} span lengths is more than the "
                         f"{MAX_PMF_LENGTHS} a probability table may hold; expected_span_length works "
                         "for any max_len (closed form)")
    lengths = np.arange(min_len, max_len + 1)
    q = 1.0 - p
    geom = p * q ** (lengths - 1)  # P(G = l) of the unrestricted geometric on 1, 2, ...
    if mode == "truncate":
        # Weights relative to min_len (q^(l - min_len)) so that p = 1 still normalises: 0**0 = 1.
        weights = q ** (lengths - min_len)
        return weights / weights.sum()
    # clip: the mass of G < min_len lands on min_len, the mass of G > max_len on max_len.
    pmf = geom.copy()
    pmf[0] = 1.0 - q ** min_len if len(pmf) > 1 else 1.0  # P(G <= min_len)
    if len(pmf) > 1:
        pmf[-1] = q ** (max_len - 1)  # P(G >= max_len)
    return pmf


def expected_span_length(p: float, max_len: int, min_len: int = 1, mode: str = "truncate") -> float:
    """Mean span length by the closed forms derived in the module docstring (no summing).

    >>> round(expected_span_length(0.2, 10), 3), round(expected_span_length(0.2, 10, mode="clip"), 3)
    (3.797, 4.463)

    Evaluated stably for every p in (0, 1] and any lengths: with :math:`\\lambda = -\\log q`
    (``-log1p(-p)``, exact even when ``1 - p`` rounds to 1), :math:`q^k = e^{-k\\lambda}` and the
    truncated mean is :math:`m + 1/(e^\\lambda - 1) - N/(e^{N\\lambda} - 1)`, whose two terms
    cancel as p -> 0; there a Taylor series takes over (see ``_truncated_offset``).
    """
    p, max_len, min_len = _check(p, max_len, min_len, mode)
    if p == 1.0:
        return float(min_len)                       # every draw has the minimum length
    lam = -math.log1p(-p)                           # q = exp(-lam), lam > 0
    if mode == "clip":                              # m + (q^m - q^n) / p = m + q^m (1 - q^(n-m)) / p
        return min_len + _q_power(min_len, lam) * -math.expm1(-_times(max_len - min_len, lam)) / p
    return _as_float(min_len) + _truncated_offset(max_len - min_len + 1, lam)


def _times(k: int, lam: float) -> float:
    """k * lam as a float, for integers too large for a float (the product may be inf)."""
    if k < 1e300:
        return k * lam
    if lam <= 0:
        return 0.0
    log_product = math.log(k) + math.log(lam)
    return math.inf if log_product > 709 else math.exp(log_product)


def _q_power(k: int, lam: float) -> float:
    return math.exp(-_times(k, lam))


def _as_float(k: int) -> float:
    return float(k) if k < 1e308 else math.inf


def _truncated_offset(n: int, lam: float) -> float:
    """E[k - 1] for k in 1..n with weights q^(k-1): 1/(e^lam - 1) - n/(e^(n lam) - 1).

    For n*lam < 0.01 the difference cancels catastrophically; use its series instead
    (from x/(e^x - 1) = sum B_j x^j / j!), written with t = n*lam so that no power of n appears:
    n (1/2 - t/12 + t^3/720 - t^5/30240) - (1/2 - lam/12 + lam^3/720 - lam^5/30240)."""
    t = _times(n, lam)
    if t < 1e-2:
        series = lambda x: 0.5 - x / 12 + x ** 3 / 720 - x ** 5 / 30240
        return _as_float(n) * series(t) - series(lam)
    second = math.exp(math.log(n) - t) if t > 50 else n / math.expm1(t)   # n e^{-t}, or exact
    return 1.0 / math.expm1(lam) - second


def span_length_std(p: float, max_len: int, min_len: int = 1, mode: str = "truncate") -> float:
    """Standard deviation of the span length (from the pmf; used for Monte Carlo error bars)."""
    pmf = span_length_pmf(p, max_len, min_len, mode)
    lengths = np.arange(min_len, max_len + 1)
    mean = float(pmf @ lengths)
    return float(np.sqrt(pmf @ (lengths - mean) ** 2))


def as_rng(seed) -> np.random.Generator:
    """A numpy Generator from ``None`` (fresh entropy), an int seed or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(check_int("seed", seed, minimum=0))


class SpanLengthSampler:
    """Draws span lengths; keeps the cumulative distribution so each draw is a binary search."""

    def __init__(self, p: float = 0.2, max_len: int = 10, min_len: int = 1, mode: str = "truncate"):
        self.pmf = span_length_pmf(p, max_len, min_len, mode)
        self.min_len = int(min_len)
        self.cdf = np.cumsum(self.pmf)
        self.cdf[-1] = 1.0  # guard against round-off leaving the last bin unreachable

    def __call__(self, size, rng: np.random.Generator) -> np.ndarray:
        return self.from_uniform(rng.random(size))

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Inverse-CDF transform of uniform draws in [0, 1) into lengths."""
        return self.min_len + np.searchsorted(self.cdf, u, side="right")


def sample_span_lengths(size: int, p: float = 0.2, max_len: int = 10, min_len: int = 1,
                        mode: str = "truncate", seed=None) -> np.ndarray:
    """``size`` span lengths (int64); ``seed`` is an int, a numpy Generator or None.

    >>> sample_span_lengths(5, seed=0)
    array([4, 2, 1, 1, 6])
    """
    size = check_int("size", size, minimum=0)
    return SpanLengthSampler(p, max_len, min_len, mode)(size, as_rng(seed)).astype(np.int64)
