"""Pretraining: ``pretrain(...)`` and ``python -m spanbert_edu pretrain``.

AdamW (decoupled weight decay, none on biases and LayerNorm), linear warmup then linear decay,
gradient clipping, metrics appended to ``metrics.jsonl``, held-out evaluation, atomic
safetensors checkpoints and an exact ``resume``.

Exact resume without saving random states: step ``t`` takes its examples from a permutation
seeded by ``(seed, epoch)``, its masks from ``[seed, t]`` and its dropout from ``seed + t``, so
any step can be replayed from the checkpoint alone.

Data parallel: under ``torchrun --nproc_per_node=N`` every rank masks the same GLOBAL batch (same
seed) and keeps its slice; the loop reweights each rank's mean losses by its share of the global
targets and multiplies by N (``_global_batch_loss``), so DDP's gradient average equals the
single-process gradient on the same global batch. The model itself only ever sees its own batch.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ._checks import check_choice, check_int, check_real
from .checkpoint import clean_stale_temporaries, is_checkpoint, latest_checkpoint, load_model, load_training_state, save_checkpoint
from .collator import SpanMaskingCollator
from .data import load_tokenizer
from .data.examples import prepare_examples
from .devices import _distributed, resolve_device, resolve_precision
from .runs import append_jsonl, truncate_log
from .evaluate import evaluate
from .batch import IGNORE_INDEX
from .heads import SpanBertForPreTraining
from .masking import LINGUISTIC_MIX, SCHEMES
from .model import SpanBertConfig


def _opt(default, help: str = "", choices=None):
    """A field with its command-line help (and choices): ``spanbert-edu pretrain`` builds its
    flags from these fields, so a default or a help text is written only here."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class TrainConfig:
    """Everything a pretraining run depends on; each field is also a ``pretrain`` flag
    (``learning_rate`` is ``--lr``, ``warmup_steps`` ``--warmup``, ``out_dir`` ``--out``)."""

    preset: str = _opt("tiny", "model size", tuple(SpanBertConfig.PRESETS))
    corpus: str = _opt("default", "'default', 'python-docs', a folder of .txt files, or hf:<dataset>; "
                       "'a+b' mixes corpora")
    hf_config: str | None = _opt(None, "config name of a Hugging Face dataset")
    eval_corpus: str | None = _opt(None, "evaluate on this corpus's held-out split (default: --corpus's "
                                   "own), e.g. 'default' when training on 'default+python-docs'")
    docs_path: str | None = _opt(None, "folder of CPython .rst sources for 'python-docs' "
                                 "(default: Debian's python3.X-doc)")
    max_length: int = _opt(128, "tokens per block, [CLS] and [SEP] included")
    batch_size: int = _opt(16, "global batch (split across data-parallel ranks)")
    steps: int = _opt(300, "optimizer steps")
    learning_rate: float = _opt(1e-3, "peak learning rate (linear warmup, then linear decay to 0)")
    warmup_steps: int = _opt(30, "warmup steps")
    weight_decay: float = _opt(0.01, "AdamW weight decay (none on biases and LayerNorm)")
    max_grad_norm: float = _opt(1.0, "gradient clipping norm (inf: no clipping)")
    scheme: str = _opt("span", "masking scheme", SCHEMES)
    sbo_weight: float = _opt(1.0, "weight of the SBO loss; 0 trains MLM only")
    pair_objective: str = _opt("none", "two segments with NSP or SOP instead of one sequence",
                               ("none", "nsp", "sop"))
    log_every: int = _opt(10, "steps between training-log rows")
    eval_every: int = _opt(100, "steps between held-out evaluations")
    eval_batches: int = _opt(8, "held-out batches per evaluation")
    save_every: int = _opt(100, "steps between checkpoints")
    keep_checkpoints: int = _opt(2, "checkpoints kept (older ones are deleted)")
    seed: int = _opt(0, "seed of the weights, the data order, the masks and dropout")
    device: str = _opt("auto", "'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N'")
    precision: str = _opt("auto", "'auto': bf16 autocast on CUDA or a bf16-capable CPU, else fp32",
                          ("auto", "fp32", "bf16"))
    compile: bool = _opt(False, "torch.compile the model (opt-in)")
    out_dir: str = _opt("runs/pretrain", "run folder: checkpoints and metrics.jsonl")
    model_overrides: dict = field(default_factory=dict)  # SpanBertConfig fields (the CLI: --dropout)

    def __post_init__(self):
        for name in ("max_length", "batch_size", "steps", "log_every", "eval_every", "save_every",
                     "keep_checkpoints", "eval_batches"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("warmup_steps", self.warmup_steps, minimum=0)
        check_int("seed", self.seed, minimum=0)
        check_choice("precision", self.precision, ("auto", "fp32", "bf16"))
        check_choice("pair_objective", self.pair_objective, ("none", "nsp", "sop"))
        check_choice("preset", self.preset, tuple(SpanBertConfig.PRESETS))
        check_choice("scheme", self.scheme, SCHEMES)
        for name, low, allow_inf in (("learning_rate", 0.0, False), ("weight_decay", None, False),
                                     ("max_grad_norm", 0.0, True), ("sbo_weight", None, False)):
            value = check_real(name, getattr(self, name))
            ok = (math.isfinite(value) or (allow_inf and value == math.inf)) and (
                value > low if low is not None else value >= 0)
            if not ok:
                rule = "a number > 0" if low is not None else "a finite number >= 0"
                raise ValueError(f"{name} must be {rule}{' (inf: no clipping)' if allow_inf else ''}, "
                                 f"got {getattr(self, name)!r}")
        if not isinstance(self.model_overrides, dict):
            raise TypeError(f"model_overrides must be a dict, got {self.model_overrides!r}")

    def resume_differences(self, stored: dict) -> dict:
        """The settings that differ from a stored run's (those a resume may not change)."""
        mine, defaults = dataclasses.asdict(self), dataclasses.asdict(TrainConfig())
        return {k: (stored.get(k, defaults[k]), v) for k, v in mine.items()
                if k not in RESUME_MAY_CHANGE and stored.get(k, defaults[k]) != v}


# Settings a resumed run may change: they do not alter what is trained, only how it is watched
# or where it runs. Everything else (lr, seed, schedule, data, model) must match exactly.
RESUME_MAY_CHANGE = {"log_every", "eval_every", "eval_batches", "save_every", "keep_checkpoints",
                     "device", "precision", "compile", "out_dir", "docs_path"}


def make_optimizer(model, cfg: TrainConfig, device):
    """AdamW (no weight decay on biases and LayerNorm; fused on CUDA) and the schedule: linear
    warmup over ``cfg.warmup_steps``, then linear decay to 0 at ``cfg.steps``."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "LayerNorm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=cfg.learning_rate, fused=device.type == "cuda")
    warm, total = cfg.warmup_steps, cfg.steps
    schedule = lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm))
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedule)


def examples_for(cfg: TrainConfig, tokenizer, split: str):
    """``cfg``'s packed examples for ``split`` ("heldout" reads ``eval_corpus`` when it is set)."""
    corpus = cfg.eval_corpus if split == "heldout" and cfg.eval_corpus else cfg.corpus
    return prepare_examples(tokenizer, corpus, split, max_length=cfg.max_length,
                            linguistic=cfg.scheme in LINGUISTIC_MIX, pair_objective=cfg.pair_objective,
                            seed=cfg.seed, hf_config=cfg.hf_config, docs_path=cfg.docs_path)


def _batch_indices(step: int, batch_size: int, n: int, seed: int, cache: dict) -> list[int]:
    """Examples of a step: consecutive slots of per-epoch permutations seeded by (seed, epoch)."""
    out = []
    for pos in range((step - 1) * batch_size, step * batch_size):
        epoch = pos // n
        if epoch not in cache:
            cache.clear()
            cache[epoch] = np.random.default_rng([seed, epoch]).permutation(n)
        out.append(int(cache[epoch][pos % n]))
    return out


def _global_batch_loss(output, counts: dict, sbo_weight: float, shard: int):
    """Data parallel: this rank's share of the GLOBAL batch's mean loss. Each of the model's
    means (over this rank's targets) is reweighted by local targets / global targets, so that
    ``(loss * world).backward()`` and DDP's average over ranks give exactly the gradient of the
    single-process loss on the whole batch."""
    share = lambda local, name: local / counts[name] if counts[name] else 0.0
    loss = output.mlm_loss * share(len(output.mlm_targets), "mlm")
    if output.sbo_logits is not None:
        loss = loss + sbo_weight * output.sbo_loss * share(len(output.sbo_targets), "sbo")
    if output.pair_loss is not None:
        loss = loss + output.pair_loss * share(shard, "pair")
    return loss


def _check_finite_weights(model, step: int, cfg: TrainConfig) -> None:
    bad = [name for name, p in model.named_parameters() if not torch.isfinite(p).all()]
    if bad:
        raise FloatingPointError(f"weights became non-finite at step {step} ({', '.join(bad[:3])}"
                                 f"{', ...' if len(bad) > 3 else ''}); nothing was saved for this step. "
                                 f"Check learning_rate ({cfg.learning_rate}) and weight_decay "
                                 f"({cfg.weight_decay})")


def pretrain(config: TrainConfig | None = None, *, resume: bool = False, overwrite: bool = False,
             progress: bool = True, echo=print, on_log=None, **overrides) -> dict:
    """Train; returns {"step", "out_dir", "checkpoint", "eval", "model"}. Keyword overrides set
    ``TrainConfig`` fields, e.g. ``pretrain(preset="tiny", steps=50)``. ``on_log(row)`` is called
    with every row written to metrics.jsonl (the notebooks draw live curves with it).

    ``out_dir`` already holding checkpoints: ``resume=True`` continues that run (its settings
    must match, see ``TrainConfig.resume_differences``); ``overwrite=True`` deletes its
    checkpoints and log and starts afresh; neither is an error."""
    cfg = dataclasses.replace(config or TrainConfig(), **overrides)
    rank, world = _distributed()
    if cfg.batch_size % world:
        raise ValueError(f"batch_size ({cfg.batch_size}) must be divisible by the number of ranks ({world})")
    device = resolve_device(cfg.device)
    if world > 1 and device.type == "cuda":  # one GPU per process under torchrun
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
        torch.cuda.set_device(device)
    out = Path(cfg.out_dir)
    ckpt_root, log_path = out / "checkpoints", out / "metrics.jsonl"
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)

    tokenizer = load_tokenizer()
    train_examples = examples_for(cfg, tokenizer, "train")
    eval_examples = examples_for(cfg, tokenizer, "heldout")
    model_cfg = SpanBertConfig.preset(cfg.preset, **{
        "vocab_size": len(tokenizer), "sbo_weight": cfg.sbo_weight, "pair_objective": cfg.pair_objective,
        "pad_token_id": tokenizer.pad_token_id, **cfg.model_overrides})
    if cfg.max_length > model_cfg.max_position_embeddings:
        raise ValueError(f"max_length ({cfg.max_length}) is longer than the position table "
                         f"(max_position_embeddings={model_cfg.max_position_embeddings})")
    if rank == 0 and ckpt_root.is_dir():
        clean_stale_temporaries(ckpt_root)  # what an interrupted save left behind
    existing = latest_checkpoint(ckpt_root)
    if existing is not None and not resume:
        if not overwrite:
            raise ValueError(f"{out} already holds a run (checkpoint {existing.name}); pass resume=True "
                             "(--resume) to continue it, overwrite=True (--overwrite) to replace it, "
                             "or choose another out_dir (--out)")
        if rank == 0:
            for old in ckpt_root.glob("step-*"):
                if is_checkpoint(old):
                    shutil.rmtree(old)
        existing = None
    start_step, latest = 0, existing if resume else None
    if latest:
        stored = json.loads((latest / "config.json").read_text()).get("train") or {}
        diff = cfg.resume_differences(stored)
        if diff:
            raise ValueError(f"resume: {out} was trained with other settings; (stored, given): "
                             + ", ".join(f"{k}: {a!r} vs {b!r}" for k, a, b in
                                         ((k, *v) for k, v in sorted(diff.items())))
                             + ". Resume with the same settings, or start a new run with --out")
    torch.manual_seed(cfg.seed)
    model = load_model(latest, expected_config=model_cfg) if latest else SpanBertForPreTraining(model_cfg)
    model.to(device).train()
    optimizer, scheduler = make_optimizer(model, cfg, device)
    if latest:
        load_training_state(latest, optimizer, scheduler)
        start_step = json.loads((latest / "config.json").read_text())["step"]
        if rank == 0:
            truncate_log(log_path, start_step)
            echo(f"resuming from {latest} (step {start_step})")
    elif rank == 0 and log_path.exists():
        log_path.unlink()  # a fresh run starts a fresh log
    train_model = model
    if world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if cfg.compile:
        train_model = torch.compile(train_model)
    use_bf16 = resolve_precision(cfg.precision, device) == "bf16"
    collator = SpanMaskingCollator(tokenizer, scheme=cfg.scheme, seed=cfg.seed)
    eval_collator = SpanMaskingCollator(tokenizer, scheme=cfg.scheme, seed=cfg.seed)
    shard = cfg.batch_size // world
    perm_cache, t_last, tokens_since = {}, time.perf_counter(), 0
    bar = None
    if progress and rank == 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.steps, initial=start_step, desc=f"pretrain {cfg.preset}", unit="step")
    if rank == 0:
        echo(f"model: {model.num_parameters() / 1e6:.2f} M parameters, preset {cfg.preset!r}; "
             f"{len(train_examples)} training blocks of <= {cfg.max_length} tokens; device {device}, "
             f"{'bf16 autocast' if use_bf16 else 'fp32'}")
    result_eval = None
    if start_step >= cfg.steps and rank == 0:
        echo(f"{out} is already complete (step {start_step} of {cfg.steps}); nothing to train")
        result_eval = evaluate(model, eval_examples, eval_collator, batch_size=shard,
                               max_batches=cfg.eval_batches, seed=cfg.seed + 1, device=device)
    for step in range(start_step + 1, cfg.steps + 1):
        idx = _batch_indices(step, cfg.batch_size, len(train_examples), cfg.seed, perm_cache)
        collator.reseed([cfg.seed, step])
        batch = collator([train_examples[i] for i in idx])  # the whole global batch, same on every rank
        counts = {"mlm": (batch["labels"] != IGNORE_INDEX).sum().item(),  # over the GLOBAL batch
                  "sbo": (batch["span_labels"] != IGNORE_INDEX).sum().item(), "pair": cfg.batch_size}
        batch = {k: v[rank * shard:(rank + 1) * shard].to(device) for k, v in batch.items()}
        torch.manual_seed(cfg.seed * 1_000_003 + step * 101 + rank)  # dropout, replayable
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            output = train_model(**batch)
        loss = _global_batch_loss(output, counts, cfg.sbo_weight, shard) if world > 1 else output.loss
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {step} (mlm "
                                     f"{output.mlm_loss.item()}, sbo {output.sbo_loss.item()}); "
                                     f"try a lower learning_rate than {cfg.learning_rate}")
        (loss * world).backward()  # DDP averages over ranks; each loss is a share of the global mean
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if step % cfg.log_every == 0 or step % cfg.save_every == 0 or step == cfg.steps:
            _check_finite_weights(model, step, cfg)  # e.g. a NaN weight decay spoils weights, not the loss
        tokens_since += int(batch["attention_mask"].sum()) * world
        if bar is not None:
            bar.update(1)
        if rank == 0 and (step % cfg.log_every == 0 or step == cfg.steps):
            now = time.perf_counter()
            row = {"step": step, "split": "train", "lr": scheduler.get_last_lr()[0],
                   "loss": output.loss.item(), "mlm_loss": output.mlm_loss.item(),
                   "sbo_loss": output.sbo_loss.item(),
                   "mlm_acc": (output.mlm_logits.argmax(-1) == output.mlm_targets).float().mean().item(),
                   "sbo_acc": ((output.sbo_logits.argmax(-1) == output.sbo_targets).float().mean().item()
                               if output.sbo_logits is not None and len(output.sbo_targets) else None),
                   "tokens_per_s": tokens_since / (now - t_last)}
            append_jsonl(log_path, row, on_log)
            t_last, tokens_since = now, 0
            if bar is not None:
                bar.set_postfix(loss=f"{row['loss']:.3f}", mlm_acc=f"{row['mlm_acc']:.2f}")
        if rank == 0 and (step % cfg.eval_every == 0 or step == cfg.steps):
            result_eval = evaluate(model, eval_examples, eval_collator, batch_size=shard,
                                   max_batches=cfg.eval_batches, seed=cfg.seed + 1, device=device)
            heldout_loss = result_eval["mlm_loss"] + cfg.sbo_weight * (result_eval["sbo_loss"] or 0.0)
            append_jsonl(log_path, {"step": step, "split": "heldout", "loss": heldout_loss,
                                     **{k: v for k, v in result_eval.items() if not k.startswith("by_")}},
                          on_log)
        if rank == 0 and (step % cfg.save_every == 0 or step == cfg.steps):
            save_checkpoint(ckpt_root / f"step-{step:06d}", model, tokenizer=tokenizer, step=step,
                            train_config=dataclasses.asdict(cfg), optimizer=optimizer, scheduler=scheduler)
            for old in sorted(ckpt_root.glob("step-*"))[:-cfg.keep_checkpoints]:
                if is_checkpoint(old):
                    shutil.rmtree(old)
        if world > 1:
            torch.distributed.barrier()
    if bar is not None:
        bar.close()
    ddp_diff = None
    if world > 1:  # every rank must end with the same weights: check, and report it
        flat = torch.cat([p.detach().flatten().float() for p in model.parameters()])
        gathered = [torch.empty_like(flat) for _ in range(world)]
        torch.distributed.all_gather(gathered, flat)
        ddp_diff = max(float((g - flat).abs().max()) for g in gathered)
        if rank == 0:
            (out / "ddp.json").write_text(json.dumps({"world_size": world, "max_weight_diff_across_ranks": ddp_diff}))
    return {"step": cfg.steps, "out_dir": str(out), "eval": result_eval,
            "checkpoint": str(latest_checkpoint(ckpt_root)) if rank == 0 else None, "model": model}
