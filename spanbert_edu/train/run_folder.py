"""The run folder: its rules (resume, overwrite), its log ``metrics.jsonl``, and its checkpoints.

A run folder ``out/`` holds ``metrics.jsonl`` (one JSON row per logged or evaluated step) and
``checkpoints/step-N`` (atomic, see :mod:`.checkpoint`). The rules, in one place:

* a folder that already holds a run is continued only with ``resume``, replaced only with
  ``overwrite`` (which deletes that run's checkpoints and log, nothing else), else refused;
* a resumed run must have been trained with the same settings (``check_resume``), and its log
  is cut back to the checkpoint it resumes from (``truncate_log``), so it continues exactly;
* a run keeps its newest ``keep`` checkpoints and deletes only its own older ones.

Reading and plotting the log: :mod:`spanbert_edu.presentation.plots`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

from .._checks import BAD_JSON
from ..checkpoint import (checkpoints_by_step, clean_stale_temporaries, is_checkpoint, latest_checkpoint,
                          save_checkpoint)


def append_jsonl(path: Path, row: dict, on_log=None) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
    if on_log is not None:
        on_log(row)


def truncate_log(path: Path, step: int) -> None:
    """Drop rows an interrupted run wrote after the checkpoint it is resumed from. Every row must
    be a JSON object with an integer ``step`` (a torn last line is dropped); anything else is a
    ValueError naming the line, raised before the file is touched."""
    if not path.exists():
        return
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start}); it is not a log of ours") from None
    rows = []
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except BAD_JSON:
            if k == len(lines) - 1:
                continue  # a line torn by the interruption: drop it
            raise ValueError(f"{path} line {k + 1} is not JSON: {line[:60]!r}") from None
        row_step = row.get("step") if isinstance(row, dict) else None
        if isinstance(row_step, bool) or not isinstance(row_step, int):
            raise ValueError(f"{path} line {k + 1} is not a log row (a JSON object with an integer "
                             f"\"step\"): {line[:60]!r}")
        if row_step <= step:
            rows.append(line)
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, path)  # the old log or the new one, never half of it


def _delete_checkpoints(paths) -> None:
    """Delete the given ``step-*`` folders, but only those that are checkpoints of ours."""
    for old in paths:
        if is_checkpoint(old):
            shutil.rmtree(old)


# What a run writes at the top of its folder; "run.json" marks the folder as a run of ours.
RUN_FILES = ("run.json", "metrics.jsonl", "loss_curve.png", "ddp.json", "predictions.json", "eval.json")


def _is_our_run(out: Path) -> bool:
    ckpt_root = out / "checkpoints"
    return (out / "run.json").is_file() or any(is_checkpoint(p) for p in checkpoints_by_step(ckpt_root))


def open_run(out: Path, *, resume: bool, overwrite: bool, is_main: bool, kind: str = "pretrain") -> Path | None:
    """Apply the folder rules; returns the checkpoint to resume from, or None for a fresh run.
    A folder that is not a run of ours is written into only if none of our files would replace
    one of its own, or with ``overwrite``."""
    if resume and overwrite:
        raise ValueError("resume=True (--resume) and overwrite=True (--overwrite) contradict each "
                         "other: continue the run, or replace it, not both")
    ckpt_root = out / "checkpoints"
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir={str(out)!r} is a file, not a folder")
    clashes = [name for name in RUN_FILES if (out / name).exists()]
    if clashes and not overwrite and not _is_our_run(out):
        raise ValueError(f"{out} is not a spanbert_edu run but holds {', '.join(clashes)}, which a run "
                         "would replace; choose another out_dir (--out), or pass overwrite=True "
                         "(--overwrite) to replace them")
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
        if ckpt_root.is_dir():
            clean_stale_temporaries(ckpt_root)  # what an interrupted save left behind
    existing = latest_checkpoint(ckpt_root)
    if existing is not None and not resume:
        if not overwrite:
            raise ValueError(f"{out} already holds a run (checkpoint {existing.name}); pass resume=True "
                             "(--resume) to continue it, overwrite=True (--overwrite) to replace it, "
                             "or choose another out_dir (--out)")
        if is_main:
            _delete_checkpoints(ckpt_root.glob("step-*"))
        existing = None
    if is_main:
        (out / "run.json").write_text(json.dumps({"kind": kind}) + "\n")
    return existing


def check_resume(latest: Path, out: Path, differences) -> tuple[int, dict]:
    """Refuse a resume whose settings differ from the stored run's; returns the stored step and
    settings. ``differences(stored_train_config) -> {name: (stored, given)}``."""
    path = latest / "config.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, *BAD_JSON) as err:
        raise ValueError(f"{path} is not a readable JSON config ({type(err).__name__}: {str(err)[:120]}); "
                         "this checkpoint cannot be resumed (nothing was changed)") from None
    if not isinstance(stored, dict):
        raise ValueError(f"{path} holds a JSON {type(stored).__name__}, not a checkpoint config (an object); "
                         "this checkpoint cannot be resumed (nothing was changed)")
    step = stored.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"{path}: 'step' must be an integer >= 0, got {step!r}; "
                         "this checkpoint cannot be resumed (nothing was changed)")
    if step != int(latest.name[len("step-"):]):  # it resumed from that step, on these weights
        raise ValueError(f"{path}: 'step' is {step}, but the checkpoint is {latest.name}; "
                         "this checkpoint cannot be resumed (nothing was changed)")
    train = stored.get("train") or {}
    if not isinstance(train, dict):
        raise ValueError(f"{path}: 'train' must be an object of run settings, got a JSON {type(train).__name__}; "
                         "this checkpoint cannot be resumed (nothing was changed)")
    diff = differences(train)
    if diff:
        raise ValueError(f"resume: {out} was trained with other settings; (stored, given): "
                         + ", ".join(f"{k}: {a!r} vs {b!r}" for k, (a, b) in sorted(diff.items()))
                         + ". Resume with the same settings, or start a new run with --out")
    return step, train


def start_log(log_path: Path, resumed_step: int | None) -> None:
    """A resumed run's log is cut back to its checkpoint; a fresh run starts a fresh log."""
    if resumed_step is not None:
        truncate_log(log_path, resumed_step)
    elif log_path.exists():
        log_path.unlink()


def save_and_prune(ckpt_root: Path, step: int, model, cfg=None, *, keep: int | None = None, **save_kwargs) -> Path:
    """Save ``step-N`` atomically (with the run's settings ``cfg``, a config dataclass, to compare
    a resume against), then delete all but the newest ``keep`` (default ``cfg.keep_checkpoints``)."""
    if cfg is not None:
        save_kwargs.setdefault("train_config", dataclasses.asdict(cfg))
        keep = cfg.keep_checkpoints if keep is None else keep
    path = save_checkpoint(ckpt_root / f"step-{step:06d}", model, step=step, **save_kwargs)
    _delete_checkpoints(checkpoints_by_step(ckpt_root)[:-keep])
    return path
