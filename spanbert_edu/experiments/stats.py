"""Mean and standard deviation over seeds: how every experiment table and figure reports noise.

The sd is always the SAMPLE standard deviation (ddof=1, ``statistics.stdev``; 0.0 for a single
seed), and the mean is computed exactly (``statistics.mean``), so the ablation, the toy world and
their figures agree to the last digit. Tables say so with :func:`sd_caption`.
"""
from __future__ import annotations

import math
import statistics


def mean_sd(values) -> tuple[float, float]:
    """``(mean, sample sd)`` of ``values`` (sd 0.0 for one value)."""
    values = list(values)
    if not values:
        raise ValueError("mean_sd needs at least one value")
    sd = float(statistics.stdev(values)) if len(values) > 1 else 0.0
    return float(statistics.mean(values)), sd


def format_mean_sd(stat, digits: int = 3, with_sd: bool = True) -> str:
    """``(mean, sd)`` as "m ± s" with ``digits`` decimals; "-" for None; the mean alone when
    ``with_sd`` is False (one seed has no spread to show)."""
    if stat is None:
        return "-"
    mean, sd = stat
    return f"{mean:.{digits}f} ± {sd:.{digits}f}" if with_sd else f"{mean:.{digits}f}"


def sd_caption(n_seeds: int) -> str:
    """What a table of :func:`mean_sd` cells shows: "mean ± sample sd over 3 seeds"."""
    return f"mean ± sample sd over {n_seeds} seeds" if n_seeds != 1 else "1 seed, no sd"


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (no SciPy needed):
    ``t_quantile(0.975, 4)`` is 2.776, and it tends to the normal 1.960 as ``df`` grows.

    With x = sqrt(df) tan(u), P(0 <= T <= t) = c sqrt(df) * integral of cos(u)^(df - 1) over
    0..atan(t / sqrt(df)): a smooth integrand on a finite range, so Simpson's rule is accurate
    even far in the tails (the 0.999 quantile at df = 1 is 318.3). Inverted by bisection on u."""
    if not 0.5 <= q < 1:
        raise ValueError(f"q must be in [0.5, 1), got {q!r}")
    if not df >= 1:
        raise ValueError(f"df must be >= 1, got {df!r}")
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(math.pi)

    def cdf(u, n=400):  # P(T <= sqrt(df) tan(u)) for 0 <= u < pi/2
        h = u / n
        f = lambda v: math.cos(v) ** (df - 1)
        return 0.5 + c * h / 3 * (f(0) + f(u) + sum((4 if i % 2 else 2) * f(i * h) for i in range(1, n)))

    lo, hi = 0.0, math.pi / 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < q else (lo, mid)
    return math.sqrt(df) * math.tan((lo + hi) / 2)
