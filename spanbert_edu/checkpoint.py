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
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from .heads import SpanBertForPreTraining
from .model import SpanBertConfig

BUNDLED = Path(__file__).resolve().parent / "assets" / "spanbert-small"


def save_checkpoint(directory, model, *, tokenizer=None, step: int = 0, train_config: dict | None = None,
                    optimizer=None, scheduler=None, half: bool = False, metrics: dict | None = None) -> Path:
    """Write a checkpoint folder atomically (temp folder + rename); returns its path."""
    from safetensors.torch import save_file

    directory = Path(directory)
    tmp = directory.parent / f".tmp-{directory.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    module = getattr(model, "module", model)  # unwrap DistributedDataParallel / compile
    module = getattr(module, "_orig_mod", module)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in module.state_dict().items()}
    save_file(state, str(tmp / "model.safetensors"))
    meta = {"format": 1, "step": step, "model": module.config.to_dict(), "train": train_config or {}}
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
    if directory.exists():
        shutil.rmtree(directory)
    os.replace(tmp, directory)
    return directory


def latest_checkpoint(root) -> Path | None:
    """The highest ``step-*`` folder under ``root`` (complete by construction), or None."""
    root = Path(root)
    steps = sorted(root.glob("step-*")) if root.is_dir() else []
    return steps[-1] if steps else None


def read_config(directory) -> dict:
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise ValueError(f"{directory} is not a checkpoint folder (no config.json)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is corrupt: {err}") from err


def load_model(directory, expected_config: SpanBertConfig | None = None,
               map_location="cpu") -> SpanBertForPreTraining:
    """Rebuild the model from a checkpoint folder; clear errors for mismatches and corruption."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    meta = read_config(directory)
    config = SpanBertConfig.from_dict(meta["model"])
    if expected_config is not None and expected_config.to_dict() != config.to_dict():
        diff = {k: (v, config.to_dict()[k]) for k, v in expected_config.to_dict().items()
                if config.to_dict()[k] != v}
        raise ValueError(f"checkpoint {directory} has another config: (expected, found) {diff}")
    try:
        state = load_file(str(Path(directory) / "model.safetensors"), device=str(map_location))
    except (SafetensorError, OSError, RuntimeError) as err:
        raise ValueError(f"{directory}/model.safetensors is missing or corrupt: {err}") from err
    model = SpanBertForPreTraining(config)
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
    path = Path(directory) / "training_state.pt"
    state = torch.load(path, map_location="cpu", weights_only=True)  # no arbitrary unpickling
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])


def load_pretrained(directory=None):
    """``(model, tokenizer)`` from a checkpoint folder; default: the bundled ``small`` model."""
    from .data import load_tokenizer

    directory = Path(directory) if directory is not None else BUNDLED
    model = load_model(directory).eval()
    tokenizer = load_tokenizer(directory / "vocab.txt")
    if len(tokenizer) != model.config.vocab_size:
        raise ValueError(f"vocabulary of {directory} has {len(tokenizer)} tokens, the model "
                         f"expects vocab_size={model.config.vocab_size}")
    return model, tokenizer
