"""Checkpoints: safetensors weights + JSON config, written atomically; never a pickle load.

A checkpoint is a folder::

    step-000200/
        model.safetensors     the weights (fp32, or fp16 for the bundled model)
        config.json           {"model": SpanBertConfig, "train": ..., "step": 200}
        vocab.txt             the tokenizer's vocabulary
        training_state.pt     optimizer + scheduler (training checkpoints only; read with
                              torch.load(weights_only=True), which refuses arbitrary objects)

It is written into ``.tmp-step-000200`` and renamed into place, so a crash mid-write never
leaves a half checkpoint where a resume would find it.

What a save may delete: only an earlier checkpoint of this project at the same path (a folder
holding nothing but the files above, with our ``config.json``). An existing folder holding
anything else is refused, unless ``overwrite=True``, and even then only the checkpoint's own
file names are replaced; nothing else in the folder is touched.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import torch

from ._checks import BAD_JSON, sha256_file
from .heads import SpanBertForPreTraining
from .model import SpanBertConfig

BUNDLED = Path(__file__).resolve().parent / "assets" / "spanbert-small"  # loaded by interop.pretrained
OWN_FILES = frozenset({"model.safetensors", "config.json", "vocab.txt", "training_state.pt", "metrics.jsonl"})


PRETRAINING = "pretraining"  # the head a checkpoint holds when its config.json names none


def is_checkpoint(directory) -> bool:
    """True for a folder this project wrote: only our file names, and our config.json."""
    directory = Path(directory)
    if not directory.is_dir() or directory.is_symlink():
        return False
    names = {p.name for p in directory.iterdir()}
    if not names or not names <= OWN_FILES or "config.json" not in names:
        return False
    try:
        meta = json.loads((directory / "config.json").read_text())
    except (OSError, *BAD_JSON):
        return False
    return isinstance(meta, dict) and "format" in meta and "model" in meta


def save_checkpoint(directory, model, *, tokenizer=None, step: int = 0, train_config: dict | None = None,
                    optimizer=None, scheduler=None, half: bool = False, metrics: dict | None = None,
                    overwrite: bool = False) -> Path:
    """Write a checkpoint folder atomically (temp folder + rename); returns its path. Never
    deletes anything but an earlier checkpoint of ours at ``directory`` (see the module docstring)."""
    from safetensors.torch import save_file

    directory = Path(directory)
    replace_files_only = False
    if directory.exists() and not (directory.is_dir() and (is_checkpoint(directory) or not any(directory.iterdir()))):
        if not overwrite or not directory.is_dir():
            raise ValueError(f"{directory} exists and is not a spanbert_edu checkpoint "
                             f"({'a file' if not directory.is_dir() else 'it holds other files'}); "
                             "refusing to replace it. Choose a new or empty folder, or pass "
                             "overwrite=True (--overwrite) to write the checkpoint's files into it, "
                             "leaving every other file in place")
        replace_files_only = True
    tmp = directory.parent / f".tmp-{directory.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    module = getattr(model, "module", model)  # unwrap DistributedDataParallel / compile
    module = getattr(module, "_orig_mod", module)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in module.state_dict().items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:  # never write a checkpoint that would load as garbage (fp16 can also overflow to inf)
        raise FloatingPointError(f"refusing to save {directory}: non-finite values in {bad[:3]}")
    try:
        save_file(state, str(tmp / "model.safetensors"))
    except (OSError, RuntimeError) as err:  # safetensors reports a full disk as a bare I/O error
        shutil.rmtree(tmp, ignore_errors=True)
        free = shutil.disk_usage(tmp.parent).free / 1e6
        raise OSError(f"could not write {directory} ({err}); {free:.0f} MB free on that disk") from None
    meta = {"format": 1, "step": step, "model": module.config.to_dict(), "train": train_config or {},
            "sha256": {"model.safetensors": sha256_file(tmp / "model.safetensors"),
                       "model": model_settings_digest(module.config.to_dict())}}
    if getattr(module, "HEAD", PRETRAINING) != PRETRAINING:  # a fine-tuned model says which head it has
        meta["head"] = module.HEAD
    if metrics is not None:
        meta["metrics"] = metrics
    (tmp / "config.json").write_text(json.dumps(meta, indent=2))
    if tokenizer is not None:
        vocab = tokenizer.get_vocab()
        (tmp / "vocab.txt").write_text("\n".join(sorted(vocab, key=vocab.get)) + "\n", encoding="utf-8")
    if optimizer is not None:
        torch.save({"optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None},
                   tmp / "training_state.pt")
    if replace_files_only:                     # a user's folder: swap in our files one by one
        for f in sorted(tmp.iterdir()):
            os.replace(f, directory / f.name)
        tmp.rmdir()
    elif directory.exists():                   # our own checkpoint (or an empty folder): swap folders
        old = directory.parent / f".old-{directory.name}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old)
    else:
        os.replace(tmp, directory)
    return directory


def model_settings_digest(model: dict) -> str:
    """SHA-256 of the model settings (key order does not matter), recorded in config.json beside the
    weights' own, so that an edit of what defines the model is caught when it is loaded."""
    return hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()


def clean_stale_temporaries(root) -> list[Path]:
    """Remove ``.tmp-*`` / ``.old-*`` folders an interrupted save left under ``root`` (only if
    they hold nothing but checkpoint files); returns what was removed."""
    removed = []
    for stale in sorted(Path(root).glob(".tmp-*")) + sorted(Path(root).glob(".old-*")):
        if stale.is_dir() and not stale.is_symlink() and {p.name for p in stale.iterdir()} <= OWN_FILES:
            shutil.rmtree(stale)
            removed.append(stale)
    return removed


def checkpoints_by_step(root) -> list[Path]:
    """The ``step-N`` folders under ``root``, oldest first, ordered by N as a number: names are
    zero-padded to 6 digits, so ``step-1000000`` sorts before ``step-999999`` as text."""
    root = Path(root)
    found = [p for p in root.glob("step-*") if p.name[5:].isdigit()] if root.is_dir() else []
    return sorted(found, key=lambda p: int(p.name[5:]))


def latest_checkpoint(root) -> Path | None:
    """The highest ``step-N`` folder under ``root`` (complete by construction), or None."""
    steps = checkpoints_by_step(root)
    return steps[-1] if steps else None


def read_config(directory) -> dict:
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise ValueError(f"{directory} is not a checkpoint folder (no config.json)")
    try:
        meta = json.loads(path.read_text())
    except BAD_JSON as err:
        raise ValueError(f"{path} is corrupt: {err}") from err
    if not isinstance(meta, dict) or not isinstance(meta.get("model"), dict):
        raise ValueError(f"{path} is not a spanbert_edu checkpoint config: it needs a \"model\" "
                         "object with the SpanBertConfig fields")
    if not isinstance(meta.get("sha256") or {}, dict):  # "sha256": 5 was an AttributeError in load_model
        raise ValueError(f"{path}: \"sha256\" must be an object of file -> digest, got {meta['sha256']!r}")
    return meta


def load_model(directory, expected_config: SpanBertConfig | None = None,
               map_location="cpu", model_class=SpanBertForPreTraining):
    """Rebuild the model from a checkpoint folder; clear errors for mismatches and corruption.
    ``model_class``: the model the checkpoint holds (a fine-tuned one names its head)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    meta = read_config(directory)
    head, wanted = meta.get("head", PRETRAINING), getattr(model_class, "HEAD", PRETRAINING)
    if head != wanted:
        raise ValueError(f"checkpoint {directory} holds a {head} model, not a {wanted} one"
                         + ("; load it with SpanBertForQuestionAnswering.from_checkpoint"
                            if head == "question_answering" else ""))
    recorded = (meta.get("sha256") or {}).get("model")
    if recorded is not None and model_settings_digest(meta["model"]) != recorded:
        # e.g. num_attention_heads 4 -> 8: the weights still load, into a model that computes something else
        raise ValueError(f"{directory}/config.json: its \"model\" settings do not match the SHA-256 recorded "
                         "for them when it was saved: they were edited afterwards, so the weights would load "
                         "into a different model")
    config = SpanBertConfig.from_dict(meta["model"])
    if expected_config is not None and expected_config.to_dict() != config.to_dict():
        diff = {k: (v, config.to_dict()[k]) for k, v in expected_config.to_dict().items()
                if config.to_dict()[k] != v}
        raise ValueError(f"checkpoint {directory} has another config: (expected, found) {diff}")
    weights = Path(directory) / "model.safetensors"
    expected_sha = (meta.get("sha256") or {}).get("model.safetensors")
    if expected_sha is not None and weights.is_file() and sha256_file(weights) != expected_sha:
        raise ValueError(f"{weights} does not match the SHA-256 recorded in its config.json: the file "
                         "was modified or corrupted after it was saved")
    try:
        state = load_file(str(weights), device=str(map_location))
    except (SafetensorError, OSError, RuntimeError) as err:
        raise ValueError(f"{directory}/model.safetensors is missing or corrupt: {err}") from err
    model = model_class(config)
    expected = model.state_dict()
    wrong = [(k, tuple(state[k].shape), tuple(v.shape)) for k, v in expected.items()
             if k in state and state[k].shape != v.shape]
    if wrong or set(state) != set(expected):
        raise ValueError(f"checkpoint {directory} does not fit its config: shape mismatches "
                         f"(name, found, expected) {wrong[:3]}, missing "
                         f"{sorted(set(expected) - set(state))[:3]}, unexpected {sorted(set(state) - set(expected))[:3]}")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model


def load_training_state(directory, optimizer, scheduler=None) -> None:
    """Restore the optimizer (and scheduler) of a resumed run; a file that is truncated, holds
    anything but tensors and plain data, or belongs to another model is a ValueError naming it."""
    path = Path(directory) / "training_state.pt"
    if not path.is_file():
        raise ValueError(f"{path} is missing: the checkpoint cannot be resumed")
    try:
        # no arbitrary unpickling; on damaged bytes the unpickler can raise anything (EOFError,
        # UnpicklingError, even IndexError), so every failure here means "unreadable"
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or "optimizer" not in state:
            raise ValueError("it holds no optimizer state")
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path} cannot be resumed from: {first[:200]} (truncated, not written by "
                         "spanbert_edu, or from another model)") from None


def export_bundle(checkpoint, out, *, half: bool = False, eval_corpus: str = "default",
                  eval_seed: int = 1234, overwrite: bool = False) -> tuple[Path, dict]:
    """A training checkpoint as an inference bundle: weights (fp16 with ``half``), vocabulary,
    config and the run's ``metrics.jsonl``, plus held-out metrics measured on what was written
    (so fp16 rounding is included) and stored in its config.json. Returns (folder, metrics).
    The held-out corpus is the caller's choice, never read from the checkpoint's metadata."""
    import sys

    from .data import load_tokenizer
    from .evaluate import heldout_metrics

    source, target = Path(checkpoint).resolve(), Path(out).resolve()
    if not is_checkpoint(source):
        raise ValueError(f"checkpoint {str(checkpoint)!r} is not a spanbert_edu checkpoint folder "
                         "(runs/.../checkpoints/step-N)")
    if target == source or target in source.parents or source in target.parents:
        raise ValueError(f"out {str(out)!r} is the checkpoint itself, a folder holding it (such as its "
                         "run folder) or a folder inside it; choose a folder outside the run")
    meta = read_config(source)
    tokenizer = load_tokenizer(source / "vocab.txt")
    target = save_checkpoint(target, load_model(source), tokenizer=tokenizer, step=meta["step"],
                             train_config=meta["train"], half=half, overwrite=overwrite)
    run_log = source.parent.parent / "metrics.jsonl"
    if run_log.exists():  # the run's curves travel with the bundle (figures/, notebooks)
        shutil.copyfile(run_log, target / "metrics.jsonl")
    train = meta.get("train") or {}
    metrics = heldout_metrics(load_model(target).eval(), tokenizer, eval_corpus,
                              max_length=train.get("max_length", 128), scheme=train.get("scheme", "span"),
                              seed=eval_seed)
    metrics.update(eval_seed=eval_seed, eval_corpus=eval_corpus,
                   python=f"{sys.version_info.major}.{sys.version_info.minor}")  # the corpus depends on it
    meta = read_config(target)
    meta["metrics"] = metrics
    tmp = target / ".config.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, target / "config.json")
    return target, metrics
