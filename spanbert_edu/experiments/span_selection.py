"""What span masking and SBO buy downstream: pretraining arms fine-tuned for span selection.

    python -m spanbert_edu span-selection --budget smoke|laptop [--out runs/span_selection]

Five arms share everything but the pretraining objective: the preset, the corpus (the bundled
corpus's training documents), the optimiser, the steps and the token budget.

* ``subword``: BERT's MLM on random subword tokens;
* ``whole_word``: MLM on whole words;
* ``span``: MLM on geometric spans of whole words;
* ``span_sbo``: span MLM + the span boundary objective (SpanBERT);
* ``scratch``: no pretraining, a randomly initialised encoder (a "step 0" checkpoint).

Every arm is then fine-tuned with the same :class:`~spanbert_edu.qa.FinetuneConfig` on the
built-in ``cloze`` task (:func:`spanbert_edu.qa.data.cloze_task`) at several labelled-set sizes
(a learning curve) and scored on its held-out questions with SQuAD's exact match and F1. Seeds:
each pretraining seed is fine-tuned with each fine-tuning seed; the scratch arm's "pretraining
seed" is the seed of its random encoder.

Statistics (:func:`arm_difference`): the unit of replication is the pretraining seed (its
fine-tuning seeds are averaged first), so a difference between two arms is judged against the
spread of whole pretraining runs, the noise that matters when one asks "which objective".
"""
from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path

import torch

from ..checkpoint import latest_checkpoint, read_config, save_checkpoint
from ..data import load_tokenizer
from ..heads import SpanBertForPreTraining
from ..model import SpanBertConfig
from ..qa.config import FinetuneConfig
from ..qa.loop import finetune
from ..train import TrainConfig, pretrain
from .stats import format_mean_sd, mean_sd, t_quantile

# arm -> TrainConfig overrides (None: no pretraining). Each is MLM on one long sequence (no NSP).
ARMS = {
    "scratch": None,
    "subword": dict(scheme="subword", sbo_weight=0.0),
    "whole_word": dict(scheme="whole_word", sbo_weight=0.0),
    "span": dict(scheme="span", sbo_weight=0.0),
    "span_sbo": dict(scheme="span", sbo_weight=1.0),
}

# Reference rows, not arms: the bundled `small` checkpoint, whose pretraining had far more compute
# than an arm's (4x wider, 16,000 steps, 1.7x more text), and its own architecture untrained
# (FinetuneConfig's preset for "scratch" is `small`), fine-tuned the same way.
REFERENCES = {"bundled (reference)": "bundled", "scratch small (reference)": "scratch"}

# laptop: each pretraining arm is exactly `make pretrain` (the tiny recipe, about 5-8 CPU minutes)
# with its own scheme and SBO weight.
BUDGETS = {
    "smoke": dict(pretrain=dict(preset="tiny", steps=4, batch_size=4, max_length=64, warmup_steps=1,
                                eval_every=4, eval_batches=1, save_every=4),
                  finetune=dict(steps=3, batch_size=4, max_length=128, max_question_length=48, doc_stride=32,
                                warmup_steps=1, eval_batch_size=32),
                  labels=(8, 16), pretrain_seeds=(0,), finetune_seeds=(0,), references=()),
    "laptop": dict(pretrain=dict(preset="tiny", steps=3000, batch_size=32, max_length=128, learning_rate=2e-3,
                                 warmup_steps=100, eval_every=1000, save_every=1000,
                                 model_overrides={"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}),
                   # windows as long as the pretraining blocks (128): longer ones would reach position
                   # embeddings that pretraining never trained
                   finetune=dict(steps=400, batch_size=16, max_length=128, max_question_length=48, doc_stride=32,
                                 learning_rate=5e-4, warmup_steps=40, save_every=400),
                   # a reference row has no pretraining seeds of ours, so three fine-tuning seeds
                   labels=(250, 4000), pretrain_seeds=(0, 1, 2), finetune_seeds=(0, 1), references=(0, 1, 2)),
}


def pretrained_checkpoint(arm: str, seed: int, budget: str, root, echo=print) -> str:
    """The checkpoint folder of ``arm`` pretrained with ``seed`` under ``root/<budget>/pretrain/``: trained
    (or resumed, or found finished) here. The scratch arm's is its random initial weights."""
    out = Path(root) / budget / "pretrain" / f"{arm}-seed{seed}"  # budgets never share a folder
    spec = BUDGETS[budget]["pretrain"]
    if ARMS[arm] is None:
        done = latest_checkpoint(out / "checkpoints")
        if done is not None:
            return str(done)
        tokenizer = load_tokenizer()
        torch.manual_seed(seed)
        config = SpanBertConfig.preset(spec["preset"], vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                                       **spec.get("model_overrides", {}))
        target = out / "checkpoints" / "step-000000"
        save_checkpoint(target, SpanBertForPreTraining(config), step=0, tokenizer=tokenizer)
        return str(target)
    cfg = TrainConfig(**{**spec, **ARMS[arm]}, seed=seed, out_dir=str(out))
    done = latest_checkpoint(out / "checkpoints")
    if done is not None and read_config(done)["step"] == cfg.steps:  # finished before
        return str(done)
    result = pretrain(cfg, resume=True, progress=False, echo=lambda *a: None)
    echo(f"pretrained {arm} seed {seed}: held-out MLM accuracy {result['eval']['mlm_acc']:.3f}")
    return result["checkpoint"]


def finetune_row(arm: str, pretrain_seed: int, finetune_seed: int, n_labels: int, init: str, budget: str,
                 root) -> dict:
    """Fine-tune ``init`` on ``n_labels`` cloze questions; the result row (also written as JSON)."""
    name = arm.replace(" (reference)", "").replace(" ", "_")
    out = Path(root) / budget / "finetune" / f"{name}-p{pretrain_seed}-f{finetune_seed}-n{n_labels}"
    row_path = out / "row.json"
    if row_path.is_file():  # finished before: a rerun of the experiment continues where it stopped
        return json.loads(row_path.read_text())
    t0 = time.perf_counter()
    cfg = FinetuneConfig(task="cloze", init=init, labels=n_labels, seed=finetune_seed, out_dir=str(out),
                         **BUDGETS[budget]["finetune"])
    scores = finetune(cfg, overwrite=True, progress=False, echo=lambda *a: None)["eval"]
    row = {"arm": arm, "pretrain_seed": pretrain_seed, "finetune_seed": finetune_seed, "n_labels": n_labels,
           "exact_match": scores["exact_match"], "f1": scores["f1"], "n": scores["n"], "budget": budget,
           "finetune_seconds": round(time.perf_counter() - t0, 1)}
    row_path.write_text(json.dumps(row, indent=1))
    return row


def run_span_selection(budget: str = "smoke", out_dir="runs/span_selection", arms=None, pretrain_seeds=None,
                       finetune_seeds=None, labels=None, echo=print) -> list[dict]:
    """Every arm x pretraining seed x labelled-set size x fine-tuning seed, then (when ``arms``
    is not given) the reference rows with the budget's ``references`` fine-tuning seeds; returns the rows. ``<out_dir>/span_selection_<budget>.json`` gets them with the
    settings: ``{"budget", "task", "pretrain", "finetune", "rows"}``."""
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {sorted(BUDGETS)}, got {budget!r}")
    unknown = sorted(set(arms or ()) - set(ARMS))
    if unknown:
        raise ValueError(f"unknown arms {unknown}; arms: {sorted(ARMS)}")
    spec, rows = BUDGETS[budget], []
    for seed in pretrain_seeds or spec["pretrain_seeds"]:
        for arm in arms or ARMS:
            init = pretrained_checkpoint(arm, seed, budget, out_dir, echo)
            for n_labels in labels or spec["labels"]:
                for fseed in finetune_seeds or spec["finetune_seeds"]:
                    rows.append(finetune_row(arm, seed, fseed, n_labels, init, budget, out_dir))
                    echo(f"{arm:>10} pretrain seed {seed} fine-tune seed {fseed} {n_labels:>5} labels: "
                         f"EM {rows[-1]['exact_match']:5.1f} F1 {rows[-1]['f1']:5.1f}")
    for name, init in (REFERENCES.items() if arms is None else ()):
        for n_labels in labels or spec["labels"]:
            for fseed in spec["references"]:
                rows.append(finetune_row(name, None, fseed, n_labels, init, budget, out_dir))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    record = {"budget": budget, "task": "cloze", "pretrain": spec["pretrain"], "finetune": spec["finetune"],
              "rows": rows}
    (Path(out_dir) / f"span_selection_{budget}.json").write_text(json.dumps(record, indent=1))
    echo("\n" + span_selection_table(rows))
    return rows


def _by_pretrain_seed(rows, arm, n_labels, key):
    """The units of replication of ``arm`` at ``n_labels``: per pretraining seed, the mean of
    ``key`` over its fine-tuning seeds; for a reference row (``pretrain_seed`` None: its
    pretraining is not ours to repeat), one value per fine-tuning run."""
    mine = [r for r in rows if r["arm"] == arm and r["n_labels"] == n_labels]
    if all(r["pretrain_seed"] is None for r in mine):
        return [r[key] for r in mine]
    if any(r["pretrain_seed"] is None for r in mine):
        raise ValueError(f"arm {arm!r} mixes rows with and without a pretraining seed")
    seeds = sorted({r["pretrain_seed"] for r in mine})
    return [statistics.mean(r[key] for r in mine if r["pretrain_seed"] == s) for s in seeds]


def arm_difference(rows, a: str, b: str, n_labels: int, key: str = "f1", confidence: float = 0.95,
                   power: float = 0.8) -> dict:
    """``a`` minus ``b`` at ``n_labels``, over their units of replication (``_by_pretrain_seed``).

    ``half_width``: of the ``confidence`` interval of the difference (Welch's t): a difference
    inside it cannot be told from zero (``significant`` is False). ``detectable``: the smallest
    true difference the design finds with probability ``power`` at that confidence,
    (t_conf + t_power) x se, the usual planning formula; both rest on sds from a few seeds."""
    xa, xb = _by_pretrain_seed(rows, a, n_labels, key), _by_pretrain_seed(rows, b, n_labels, key)
    if len(xa) < 2 or len(xb) < 2:
        raise ValueError(f"arm_difference needs at least 2 units (seeds) per arm, got {len(xa)} and {len(xb)}")
    va, vb = statistics.variance(xa) / len(xa), statistics.variance(xb) / len(xb)
    se, diff = math.sqrt(va + vb), statistics.mean(xa) - statistics.mean(xb)
    if se == 0:  # no spread at all: no interval to judge a difference by
        half = detectable = df = math.nan
    else:  # Welch-Satterthwaite degrees of freedom
        df = (va + vb) ** 2 / (va ** 2 / (len(xa) - 1) + vb ** 2 / (len(xb) - 1))
        half = t_quantile(0.5 + confidence / 2, df) * se
        detectable = half + t_quantile(power, df) * se
    return {"a": a, "b": b, "n_labels": n_labels, "key": key, "difference": diff, "se": se, "df": df,
            "half_width": half, "detectable": detectable, "units": (len(xa), len(xb)),
            "significant": bool(abs(diff) > half)}  # False when half is nan


# the differences the table shows: the questions (span vs subword, SBO) and the sanity check
PAIRS = (("span", "subword"), ("span", "whole_word"), ("span_sbo", "span"), ("span_sbo", "scratch"),
         ("subword", "scratch"), ("bundled (reference)", "scratch small (reference)"))


def summarise(rows) -> list[dict]:
    """Per arm and labelled-set size: (mean, sample sd) of EM and F1 over pretraining seeds."""
    out = []
    for arm in dict.fromkeys(r["arm"] for r in rows):
        for n in sorted({r["n_labels"] for r in rows if r["arm"] == arm}):
            out.append({"arm": arm, "n_labels": n, "seeds": len(_by_pretrain_seed(rows, arm, n, "f1")),
                        "runs": sum(r["arm"] == arm and r["n_labels"] == n for r in rows),
                        **{k: mean_sd(_by_pretrain_seed(rows, arm, n, k)) for k in ("exact_match", "f1")}})
    return out


def span_selection_table(rows) -> str:
    """Markdown: F1 (EM) per arm and labelled-set size, then the differences the issue asks about."""
    sizes = sorted({r["n_labels"] for r in rows})
    cells = {(s["arm"], s["n_labels"]): s for s in summarise(rows)}
    seeds = max((s["seeds"] for s in cells.values() if "reference" not in s["arm"]), default=0)
    lines = [f"Cloze span selection, held-out F1 (EM); mean ± sample sd over {seeds} pretraining seeds, "
             "each the mean of its fine-tuning seeds (a reference row: over its fine-tuning seeds):", "",
             "| arm | " + " | ".join(f"{n} labels" for n in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    for arm in dict.fromkeys(r["arm"] for r in rows):
        lines.append(f"| {arm} | " + " | ".join(
            f"{format_mean_sd(cells[arm, n]['f1'], 1)} ({cells[arm, n]['exact_match'][0]:.1f})"
            if (arm, n) in cells else "-" for n in sizes) + " |")
    present = {r["arm"] for r in rows}
    units = lambda arm: min(len(_by_pretrain_seed(rows, arm, n, "f1")) for n in sizes if (arm, n) in cells)
    pairs = [(a, b) for a, b in PAIRS if {a, b} <= present and units(a) >= 2 and units(b) >= 2]
    if pairs:
        lines += ["", "F1 differences a - b: the difference ± the half-width of its 95% interval (Welch t over "
                  "pretraining seeds; for the reference rows, over fine-tuning runs), then in brackets the "
                  "smallest true difference the design finds 80% of the time:", "",
                  "| a - b | " + " | ".join(f"{n} labels" for n in sizes) + " |", "|---|" + "---:|" * len(sizes)]
        for a, b in pairs:
            d = [arm_difference(rows, a, b, n) for n in sizes]
            lines.append(f"| {a} - {b} | " + " | ".join(
                f"{x['difference']:+.1f} ± {x['half_width']:.1f}{'*' if x['significant'] else ''} "
                f"[{x['detectable']:.1f}]" for x in d) + " |")
        lines.append("\n\\* outside its 95% interval: distinguishable from zero")
    return "\n".join(lines)


def plot_span_selection(rows, key: str = "f1"):
    """The learning curve: held-out ``key`` against the labelled-set size, one line per arm
    (mean and sample sd over pretraining seeds), every single run as a faint dot."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    cells = summarise(rows)
    for k, arm in enumerate(dict.fromkeys(r["arm"] for r in rows)):
        mine = [c for c in cells if c["arm"] == arm]
        sizes = [c["n_labels"] for c in mine]
        # a small horizontal shift per arm, so that error bars at the same size do not overlap
        shift = 1 + 0.04 * (k - 2)
        ax.errorbar([n * shift for n in sizes], [c[key][0] for c in mine], yerr=[c[key][1] for c in mine],
                    marker="o", capsize=3,
                    label=f"{arm} ({mine[0]['seeds']} {'fine-tuning' if 'reference' in arm else 'pretraining'} seeds)",
                    ls=":" if "reference" in arm else "--" if arm == "scratch" else "-")
        runs = [r for r in rows if r["arm"] == arm]
        ax.scatter([r["n_labels"] * shift for r in runs], [r[key] for r in runs], s=8, alpha=0.25,
                   color=ax.lines[-1].get_color())
    ax.set_xscale("log")
    sizes = sorted({r["n_labels"] for r in rows})
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.xaxis.set_minor_locator(NullLocator())  # only the sizes that were run
    ax.set_xlabel("labelled training questions (log scale)")
    ax.set_ylabel(f"held-out cloze {'F1' if key == 'f1' else 'exact match'}")
    ax.set_title("Span selection after each pretraining objective (mean ± sd)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
