"""Figures from training logs: the pure functions the CLI, the notebooks and ``figures/`` share.

Each function returns a matplotlib ``Figure`` (built without pyplot, so nothing global changes
and it works headless); saving is separate.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..experiments.stats import mean_sd, sd_caption


def read_metrics(path) -> list[dict]:
    """Rows of a ``metrics.jsonl`` file."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def smooth(values, weight: float):
    """Exponential moving average (TensorBoard-style); weight 0 returns the values."""
    if not 0 <= weight < 1:
        raise ValueError(f"weight must be in [0, 1), got {weight!r}")
    out, last = [], None
    for v in values:
        last = v if last is None else weight * last + (1 - weight) * v
        out.append(last)
    return np.array(out)


def plot_loss_curves(runs, metrics=("loss", "mlm_loss", "sbo_loss"), smoothing: float = 0.6,
                     heldout: bool = True, log_steps: bool = False):
    """One panel per metric; a line per run (training, smoothed) and dots for held-out evals.

    ``runs``: {name: metrics.jsonl path or list of rows}. ``log_steps`` puts the steps on a log
    axis, so that a run of a few hundred steps is not squashed beside one of many thousands.
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, works headless

    fig = Figure(figsize=(4.2 * len(metrics), 3.2))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for name, rows in runs.items():
        rows = read_metrics(rows) if isinstance(rows, (str, Path)) else rows
        train = [r for r in rows if r.get("split") == "train"]
        evals = [r for r in rows if r.get("split") == "heldout"]
        for ax, metric in zip(axes[0], metrics):
            pts = [(r["step"], r[metric]) for r in train if r.get(metric) is not None]
            if pts:
                steps, vals = zip(*pts)
                line, = ax.plot(steps, smooth(vals, smoothing), label=f"{name} (train)")
                ev = [(r["step"], r[metric]) for r in evals if r.get(metric) is not None]
                if heldout and ev:
                    ax.plot(*zip(*ev), "o", color=line.get_color(), ms=4, label=f"{name} (held-out)")
            ax.set_title(metric.replace("_", " "))
            ax.set_xlabel("step (log scale)" if log_steps else "step")
            ax.set_xscale("log" if log_steps else "linear")
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def save_loss_curves(jsonl_path, png_path, name: str = "run") -> Path:
    fig = plot_loss_curves({name: jsonl_path})
    fig.savefig(png_path, dpi=110)
    return Path(png_path)


def plot_accuracy_by_position(metrics: dict, table: str = "by_position", max_key: int = 10):
    """MLM vs SBO accuracy by offset inside the span (``table="by_position"``) or by span length
    in tokens (``"by_length"``), from :func:`spanbert_edu.evaluate.evaluate`'s result. Where the
    metrics hold the number of targets per key (``by_position_n``), each point gets its 95%
    interval (normal approximation to the binomial) and the MLM counts go under the axis."""
    from matplotlib.figure import Figure

    if table not in ("by_position", "by_length"):
        raise ValueError(f"table must be 'by_position' or 'by_length', got {table!r}")
    fig = Figure(figsize=(5.6, 3.6))
    ax = fig.subplots()
    counts = metrics.get(f"{table}_n", {})
    shift = 1 if table == "by_position" else 0                    # offset 0 is "position 1"
    for head, style, nudge in (("mlm", "o-", -0.08), ("sbo", "s--", 0.08)):
        rows = sorted((int(k), v) for k, v in metrics[table][head].items() if int(k) < max_key + (table == "by_length"))
        if not rows:
            continue
        keys, acc = np.array([k for k, _ in rows]), np.array([v for _, v in rows])
        n = np.array([counts.get(head, {}).get(str(k), counts.get(head, {}).get(k, 0)) for k in keys], float)
        half = np.where(n > 0, 1.96 * np.sqrt(acc * (1 - acc) / np.maximum(n, 1)), np.nan) if counts else None
        ax.errorbar(keys + shift + nudge, acc, yerr=half, fmt=style, capsize=2, label=f"{head.upper()} head")
        if head == "mlm" and counts:
            ax.set_xticks(keys + shift, [f"{k + shift}\n{int(c)}" for k, c in zip(keys, n)], fontsize=7)
    what = "position inside the span (1 = first token)" if table == "by_position" else "span length (tokens)"
    ax.set_xlabel(what + ("; below: MLM targets" if counts else ""))
    ax.set_ylabel("held-out accuracy" + (" (95% interval)" if counts else ""))
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_ablation(rows, paper: dict | None = None):
    """Left: span MLM accuracy by span length (words), one line per arm (mean over seeds).
    Right: cloze F1 per arm (mean and sample standard deviation over seeds) next to the paper's
    SQuAD 2.0 F1."""
    from matplotlib.figure import Figure

    arms = list(dict.fromkeys(r["arm"] for r in rows))
    fig = Figure(figsize=(11, 3.8))
    left, right = fig.subplots(1, 2)
    for arm in arms:
        mine = [r for r in rows if r["arm"] == arm]
        lengths = sorted({int(k) for r in mine for k in r["by_span_words"]})
        means = [np.mean([r["by_span_words"].get(str(n), r["by_span_words"].get(n, np.nan)) for r in mine])
                 for n in lengths]
        left.plot(lengths, means, marker="o", ms=3, label=arm, ls="--" if arm.startswith("span_") else "-")
    left.set_xlabel("masked span length (words; 10 = 10 or more)")
    left.set_ylabel("held-out MLM accuracy")
    left.legend(fontsize=7, ncol=2)
    left.grid(alpha=0.3)
    f1 = [mean_sd(r["qa_f1"] for r in rows if r["arm"] == arm) for arm in arms]
    x = np.arange(len(arms))
    right.bar(x - 0.2, [m for m, _ in f1], 0.4, yerr=[sd for _, sd in f1], capsize=3,
              color="#457b9d", label=f"ours: cloze F1 ({sd_caption(len({r['seed'] for r in rows}))})")
    if paper:
        twin = right.twinx()
        for table, marker in (("6", "D"), ("7", "s")):  # each arm against its own table
            twin.plot(x + 0.2, [paper.get(a, {}).get(table, {}).get("squad2", np.nan) for a in arms], marker,
                      color="#e63946", fillstyle="full" if table == "6" else "none", ls="none",
                      label=f"paper: SQuAD 2.0 F1, Table {table}")
        twin.set_ylabel("paper SQuAD 2.0 F1", color="#e63946")
        twin.legend(fontsize=7, loc="lower right")
    right.set_xticks(x, arms, rotation=40, ha="right", fontsize=8)
    right.set_ylabel("cloze F1 (ours)")
    right.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
