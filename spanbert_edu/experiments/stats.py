"""Mean and standard deviation over seeds: how every experiment table and figure reports noise.

The sd is always the SAMPLE standard deviation (ddof=1, ``statistics.stdev``; 0.0 for a single
seed), and the mean is computed exactly (``statistics.mean``), so the ablation, the toy world and
their figures agree to the last digit. Tables say so with :func:`sd_caption`.
"""
from __future__ import annotations

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
