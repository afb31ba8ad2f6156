"""The toy-world results as a table and a figure (notebook 08, README, ``figures/toy_world.png``)."""
from __future__ import annotations

from ..stats import format_mean_sd, mean_sd, sd_caption
from .experiment import summarise

LABELS = {"mlm": "MLM only", "mlm+sbo": "MLM + SBO", "untrained": "untrained encoder"}


def toy_table(result: dict) -> str:
    """A markdown table: one row per arm, mean ± sample sd over seeds (the header says so).
    "its ceiling": the share of the new people's tokens the probe could get right at all (their
    (offset, token) pair occurs in the fit set)."""
    rows = result["rows"]
    seeds = len({r["seed"] for r in rows})
    lines = [f"| arm ({sd_caption(seeds)}) | span-MLM acc | SBO acc | probe, same people "
             "| probe, new people | its ceiling |", "|---|---:|---:|---:|---:|---:|"]
    for arm, stats in summarise(rows).items():
        cells = [format_mean_sd(stats.get(m), 3, with_sd=seeds > 1)
                 for m in ("mlm_acc", "sbo_acc", "probe_acc", "probe_acc_new_people", "probe_ceiling_new_people")]
        lines.append(f"| {LABELS.get(arm, arm)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _by_length(rows, key):
    """length -> (mean, sample sd) over the rows' ``key`` tables (JSON turns the int keys into str)."""
    tables = [{int(k): v for k, v in r[key].items()} for r in rows if r.get(key)]
    lengths = sorted(set().union(*tables)) if tables else []
    return {n: mean_sd(t[n] for t in tables if n in t) for n in lengths}


def plot_toy_world(result: dict):
    """Left: accuracy by span length (MLM head of each arm, SBO head of the SBO arm).
    Right: the two probes per arm. Error bars: sample sd over seeds."""
    import matplotlib.pyplot as plt

    rows = result["rows"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    curves = [("mlm", "mlm_by_length", "MLM only: MLM head", "C0", "-"),
              ("mlm+sbo", "mlm_by_length", "MLM + SBO: MLM head", "C1", "-"),
              ("mlm+sbo", "sbo_by_length", "MLM + SBO: SBO head", "C1", "--")]
    for arm, key, label, color, style in curves:
        table = _by_length([r for r in rows if r["arm"] == arm], key)
        if table:
            xs = list(table)
            left.errorbar(xs, [table[x][0] for x in xs], yerr=[table[x][1] for x in xs], label=label,
                          color=color, linestyle=style, marker="o", capsize=3)
    left.set(xlabel="span length (tokens)", ylabel="accuracy on masked facts", ylim=(0, 1),
             title="Recovering a masked fact (held-out)")
    left.xaxis.get_major_locator().set_params(integer=True)
    left.legend(loc="lower left", fontsize=8)
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    for k, (metric, label) in enumerate((("probe_acc", "same people"), ("probe_acc_new_people", "new people"))):
        stats = [mean_sd(r[metric] for r in rows if r["arm"] == a) for a in arms]
        right.bar([i + 0.38 * k for i in range(len(arms))], [m for m, _ in stats], width=0.36,
                  yerr=[sd for _, sd in stats], capsize=3, label=label)
    ceilings = [mean_sd(r["probe_ceiling_new_people"] for r in rows if r["arm"] == a)[0] for a in arms]
    right.scatter([i + 0.38 for i in range(len(arms))], ceilings, marker="_",
                  s=400, color="black", zorder=3, label="new people: ceiling")
    right.set_xticks([i + 0.19 for i in range(len(arms))], [LABELS.get(a, a) for a in arms])
    right.set(ylabel="linear probe accuracy", ylim=(0, 1), title="Linear probe on the frozen $[x_{s-1}; x_{e+1}]$")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig
