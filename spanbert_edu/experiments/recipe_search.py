"""A recipe search at equal CPU minutes: which settings make the `small` model learn fastest here?

    python -m spanbert_edu.experiments.recipe_search --minutes 3 --out results/recipe_search.json [--arms a,b]

Every arm gets the same wall-clock budget on this machine (nothing else running). A short probe
(6 steps, the last 4 timed) measures the arm's seconds per step; the arm then trains for
``budget / seconds_per_step`` steps, so that its learning-rate schedule decays to zero exactly at
the end of its budget. All arms are measured the same way: held-out span-MLM and SBO accuracy on
the bundled corpus's held-out split, SpanBERT span masks drawn from seed 1234 (the masks the
bundled checkpoint is scored with), every held-out block. One JSON row per arm is appended to
``--out`` as soon as the arm finishes (so an interrupted search keeps what it measured).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from ..data import load_tokenizer
from ..evaluate import heldout_metrics
from ..train import TrainConfig, pretrain

BASE = dict(preset="small", corpus="default+python-docs", eval_corpus="default", batch_size=32,
            max_length=128, learning_rate=5e-4, weight_decay=0.01, scheme="span", precision="auto")
NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}

# name -> (TrainConfig overrides, model overrides). One change from "base" at a time. Warmup is a
# fraction of the arm's steps (below). (The search began with base lr 1e-3; after its first two
# arms showed 5e-4 learning faster, the base moved to 5e-4 and those two rows were kept, renamed.)
ARMS = {
    "base": ({}, {}),
    "lr1e-3": ({"learning_rate": 1e-3}, {}),
    "lr2.5e-4": ({"learning_rate": 2.5e-4}, {}),
    "warmup2%": ({"warmup_fraction": 0.02}, {}),
    "dropout0": ({}, NO_DROPOUT),
    "batch64": ({"batch_size": 64}, {}),
    "len256": ({"max_length": 256, "batch_size": 16}, {}),
    "wd0.1": ({"weight_decay": 0.1}, {}),
    "bundled-only": ({"corpus": "default"}, {}),
    "6x256": ({}, {"num_hidden_layers": 6}),
}


def measure(model, tokenizer) -> dict:
    """Held-out span-MLM and SBO metrics: every held-out block, span masks from seed 1234."""
    m = heldout_metrics(model, tokenizer, "default", max_length=BASE["max_length"], scheme="span",
                        seed=1234, batch_size=32)
    return {k: m[k] for k in ("mlm_acc", "sbo_acc", "mlm_loss", "sbo_loss", "mlm_targets", "sbo_targets")}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m spanbert_edu.experiments.recipe_search",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--out", default="results/recipe_search.json")
    parser.add_argument("--arms", default=None, help="comma-separated (default: all)")
    parser.add_argument("--runs", default="runs/recipe")
    parser.add_argument("--table", action="store_true", help="print the table of --out and exit")
    args = parser.parse_args(argv)
    if args.table:
        return print_table(json.loads(Path(args.out).read_text()))
    tokenizer = load_tokenizer()
    out_path = Path(args.out)
    done = {r["arm"] for r in json.loads(out_path.read_text())} if out_path.exists() else set()
    for name in (args.arms.split(",") if args.arms else ARMS):
        if name in done:
            print(f"{name}: already in {out_path}, skipped")
            continue
        row = run_arm(name, args.minutes, args.runs, tokenizer)
        rows = json.loads(out_path.read_text()) if out_path.exists() else []
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(rows + [row], indent=1) + "\n")


def run_arm(name: str, minutes: float, runs: str, tokenizer) -> dict:
    """Train arm ``name`` for ``minutes`` of this machine's time, measure it, print a line: its JSON row."""
    train_over, model_over = ARMS[name]
    train_over = dict(train_over)
    warmup_fraction = train_over.pop("warmup_fraction", 0.06)
    cfg = TrainConfig(**{**BASE, **train_over}, model_overrides=model_over, log_every=10**9,
                      eval_every=10**9, save_every=10**9, out_dir=f"{runs}/{name}")
    step_s = _probe_seconds_per_step(cfg, runs, name)
    steps = max(10, int(minutes * 60 / step_s))
    t0 = time.perf_counter()
    result = pretrain(cfg, steps=steps, warmup_steps=max(1, int(warmup_fraction * steps)),
                      overwrite=True, progress=False, echo=lambda *_: None)
    wall = time.perf_counter() - t0
    model = result["model"].float()
    row = {"arm": name, "train": {**BASE, **train_over, "warmup_fraction": warmup_fraction},
           "model": {**model_over}, "params_m": round(model.num_parameters() / 1e6, 3),
           "fp16_mb": round(sum(p.numel() for p in model.parameters()) * 2 / 1e6, 2),
           "probe_s_per_step": round(step_s, 4), "steps": steps,
           "tokens": steps * cfg.batch_size * cfg.max_length, "wall_s": round(wall, 1),
           "minutes_budget": minutes, **measure(model, tokenizer),
           "torch_threads": torch.get_num_threads()}
    print(f"{name:14s} steps {steps:5d}  mlm {row['mlm_acc']:.4f}  sbo {row['sbo_acc']:.4f}  "
          f"wall {wall:.0f}s", flush=True)
    return row


def print_table(rows):
    """The README table: one line per arm, best held-out span-MLM accuracy first."""
    base = next((r for r in rows if r["arm"] == "base"), rows[0])
    print("| arm | change from base | s/step | steps | tokens (M) | span-MLM acc | SBO acc | vs base (MLM) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: -r["mlm_acc"]):
        change = {**{k: v for k, v in r["train"].items() if BASE.get(k, v) != v and k != "warmup_fraction"},
                  **({"warmup_fraction": r["train"]["warmup_fraction"]} if r["train"]["warmup_fraction"] != 0.06 else {}),
                  **r["model"]}
        text = ", ".join(f"{k}={v}" for k, v in change.items()) or "-"
        print(f"| {r['arm']} | {text} | {r['probe_s_per_step']:.3f} | {r['steps']} | {r['tokens'] / 1e6:.2f} | "
              f"{r['mlm_acc']:.4f} | {r['sbo_acc']:.4f} | {r['mlm_acc'] / base['mlm_acc']:.2f}x |")


def _probe_seconds_per_step(cfg, runs, name) -> float:
    """Median seconds of steps 3-6 of a 6-step run (masking, forward, backward, AdamW)."""
    times = []
    last = [time.perf_counter()]

    def on_log(row):
        now = time.perf_counter()
        if row["split"] == "train":
            times.append(now - last[0])
        last[0] = now
    probe = dataclasses.replace(cfg, steps=6, warmup_steps=1, log_every=1, out_dir=f"{runs}/{name}-probe")
    pretrain(probe, overwrite=True, progress=False, echo=lambda *_: None, on_log=on_log)
    return statistics.median(times[2:6])


if __name__ == "__main__":
    sys.exit(main())
