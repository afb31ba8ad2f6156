"""``python -m spanbert_edu figures``: regenerate every figure in ``figures/`` from library functions.

Deterministic: fixed seeds, fixed sentences, the bundled checkpoint's own logs and metrics, and
the committed experiment results the package ships (:mod:`..experiments.results`).
"""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import BUNDLED, read_config
from ..data import load_tokenizer
from .diagrams import masking_rows, plot_masking_schemes, plot_sbo_diagram, plot_span_lengths
from ..experiments.results import committed_result, has_result
from .plots import plot_ablation, plot_accuracy_by_position, plot_loss_curves

ABLATION_RESULTS, TOY_RESULTS = "ablation_laptop.json", "toy_world.json"   # in spanbert_edu/assets/results/
SPAN_SELECTION_RESULTS = "span_selection.json"


def make_figures(out_dir="figures", bundle=BUNDLED) -> list[Path]:
    """Write every figure into ``out_dir``; returns the paths."""
    if not str(out_dir).strip():
        raise ValueError("out_dir must name a folder, got ''")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer()
    figures = {
        "span_lengths.png": plot_span_lengths(),
        "masking_schemes.png": plot_masking_schemes(tokenizer, masking_rows(tokenizer)),
        "sbo_head.png": plot_sbo_diagram(),
    }
    bundle = Path(bundle)
    if (bundle / "metrics.jsonl").exists():
        figures["loss_curves.png"] = plot_loss_curves({"small (bundled)": bundle / "metrics.jsonl"})
        figures["accuracy_curves.png"] = plot_loss_curves({"small (bundled)": bundle / "metrics.jsonl"},
                                                          metrics=("mlm_acc", "sbo_acc"))
    metrics = read_config(bundle).get("metrics") if (bundle / "config.json").exists() else None
    if metrics:
        figures["accuracy_by_position.png"] = plot_accuracy_by_position(metrics)
    if has_result(ABLATION_RESULTS):
        from ..experiments.ablate import PAPER

        figures["ablation.png"] = plot_ablation(committed_result(ABLATION_RESULTS), PAPER)
    if has_result(TOY_RESULTS):
        from ..experiments.toy.report import plot_toy_world

        figures["toy_world.png"] = plot_toy_world(committed_result(TOY_RESULTS))
    if has_result(SPAN_SELECTION_RESULTS):
        from ..experiments.span_selection import plot_span_selection

        figures["span_selection.png"] = plot_span_selection(committed_result(SPAN_SELECTION_RESULTS)["rows"])
    paths = []
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=100, metadata={"Software": None})  # no version stamp: stable bytes
        paths.append(out / name)
    return paths
