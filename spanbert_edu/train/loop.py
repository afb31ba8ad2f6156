"""``pretrain``: the training loop, to be read top to bottom.

Set up (data, model, run folder, optimiser, collator), then for each step: the global batch,
one optimisation step (:mod:`.step`), and on schedule a log row, a held-out evaluation and a
checkpoint (:mod:`.run_folder`). AdamW (no weight decay on biases and LayerNorm), linear warmup
then linear decay, gradient clipping, atomic safetensors checkpoints and an exact ``resume``.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch

from ..checkpoint import latest_checkpoint, load_model, load_training_state
from ..collator import SpanMaskingCollator
from ..data import load_tokenizer
from ..data.examples import prepare_examples
from ..devices import _distributed
from ..evaluate import evaluate
from ..heads import SpanBertForPreTraining
from ..masking import LINGUISTIC_MIX
from ..model import SpanBertConfig
from .config import TrainConfig
from .memory import keep_freed_memory
from .run_folder import append_jsonl, check_resume, open_run, save_and_prune, start_log
from .speed import resolve_speed
from .step import (check_finite_weights, device_for, global_batch, heldout_row, make_optimizer,
                   ranks_agree, train_row, train_step)


def examples_for(cfg: TrainConfig, tokenizer, split: str):
    """``cfg``'s packed examples for ``split`` ("heldout" reads ``eval_corpus`` when it is set)."""
    corpus = cfg.eval_corpus if split == "heldout" and cfg.eval_corpus else cfg.corpus
    return prepare_examples(tokenizer, corpus, split, max_length=cfg.max_length,
                            linguistic=cfg.scheme in LINGUISTIC_MIX, pair_objective=cfg.pair_objective,
                            seed=cfg.seed, hf_config=cfg.hf_config, docs_path=cfg.docs_path)


def model_config_for(cfg: TrainConfig, tokenizer) -> SpanBertConfig:
    """The model's config: the preset, the tokenizer's sizes, the run's loss knobs and
    ``model_overrides``; refused where it would disagree with what the run feeds it."""
    owned = sorted({"sbo_weight", "pair_objective", "pad_token_id"} & set(cfg.model_overrides))
    if owned:
        raise ValueError(f"model_overrides may not set {', '.join(owned)}: the TrainConfig field of the "
                         f"same name sets it (pad_token_id: the tokenizer's)")
    model_cfg = SpanBertConfig.preset(cfg.preset, **{
        "vocab_size": len(tokenizer), "sbo_weight": cfg.sbo_weight, "pair_objective": cfg.pair_objective,
        "pad_token_id": tokenizer.pad_token_id, "max_span_targets": cfg.max_span_targets,
        **cfg.model_overrides})
    if model_cfg.vocab_size < len(tokenizer):
        raise ValueError(f"model_overrides vocab_size ({model_cfg.vocab_size}) is smaller than the "
                         f"tokenizer's {len(tokenizer)} tokens: every token id must have an embedding")
    if model_cfg.max_span_targets != cfg.max_span_targets:
        raise ValueError(f"max_span_targets: the model's SBO position table has "
                         f"{model_cfg.max_span_targets} rows (model_overrides) but the collator "
                         f"gives {cfg.max_span_targets} targets per span (max_span_targets); "
                         f"they must agree: set max_span_targets only")
    if cfg.max_length > model_cfg.max_position_embeddings:
        raise ValueError(f"max_length ({cfg.max_length}) is longer than the position table "
                         f"(max_position_embeddings={model_cfg.max_position_embeddings})")
    return model_cfg


def _model_and_optimizer(model_cfg: SpanBertConfig, cfg: TrainConfig, latest, device):
    """A fresh model (weights from ``cfg.seed``) or the checkpoint's, with its optimiser state."""
    torch.manual_seed(cfg.seed)
    model = load_model(latest, expected_config=model_cfg) if latest else SpanBertForPreTraining(model_cfg)
    model.to(device).train()
    optimizer, scheduler = make_optimizer(model, cfg, device)
    if latest:
        load_training_state(latest, optimizer, scheduler)
    return model, optimizer, scheduler


def _wrapped(model, cfg: TrainConfig, world: int, device):
    """What the step calls: the model itself, or it under DDP and/or ``torch.compile``."""
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    return torch.compile(model) if cfg.compile else model


def _progress_bar(cfg: TrainConfig, start_step: int):
    from tqdm.auto import tqdm

    return tqdm(total=cfg.steps, initial=start_step, desc=f"pretrain {cfg.preset}", unit="step")


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
    device, main = device_for(cfg, rank, world), rank == 0
    out = Path(cfg.out_dir)
    ckpt_root, log_path = out / "checkpoints", out / "metrics.jsonl"
    tokenizer = load_tokenizer()
    train_examples, eval_examples = examples_for(cfg, tokenizer, "train"), examples_for(cfg, tokenizer, "heldout")
    model_cfg = model_config_for(cfg, tokenizer)
    latest = open_run(out, resume=resume, overwrite=overwrite, is_main=main)
    start_step, stored = check_resume(latest, out, cfg.resume_differences) if latest else (0, {})
    if resume and latest is None and main:
        echo(f"resume: {out} holds no checkpoint yet; starting a new run there")

    model, optimizer, scheduler = _model_and_optimizer(model_cfg, cfg, latest, device)
    if main:
        start_log(log_path, start_step if latest else None)
        if latest:
            echo(f"resuming from {latest} (step {start_step})")
    collator = SpanMaskingCollator.from_config(tokenizer, cfg.masking, seed=cfg.seed)
    eval_collator = SpanMaskingCollator.from_config(tokenizer, cfg.masking, seed=cfg.seed)
    shard, perm_cache = cfg.batch_size // world, {}
    local = lambda batch: {k: v[rank * shard:(rank + 1) * shard].to(device) for k, v in batch.items()}
    keep_freed_memory()  # before the speed is measured: steps then reuse freed blocks (.memory)
    # "auto" precision and attention: measured on the first batch (or the stored run's), and
    # recorded in cfg, which every checkpoint stores
    first = local(global_batch(start_step + 1, cfg, collator, train_examples, perm_cache)[0]) if start_step < cfg.steps else None
    cfg.precision, cfg.attention = resolve_speed(cfg.precision, cfg.attention, device, model, first, stored,
                                                 echo if main else None, world)
    use_bf16, train_model = cfg.precision == "bf16", _wrapped(model, cfg, world, device)
    # a corpus too small to hold documents out has no held-out score: None, never a 0.000
    heldout = lambda: evaluate(model, eval_examples, eval_collator, batch_size=shard, max_batches=cfg.eval_batches,
                               seed=cfg.seed + 1, device=device) if eval_examples else None
    due = lambda step, every: step % every == 0 or step == cfg.steps
    bar = _progress_bar(cfg, start_step) if progress and main else None
    if main:
        echo(f"model: {model.num_parameters() / 1e6:.2f} M parameters, preset {cfg.preset!r}; "
             f"{len(train_examples)} training blocks of <= {cfg.max_length} tokens; device {device}, "
             f"{'bf16 autocast' if use_bf16 else 'fp32'}, {cfg.attention} attention")
        if not eval_examples:
            echo(f"note: corpus {cfg.eval_corpus or cfg.corpus!r} has no held-out documents (too few to hold "
                 "5% out), so there is no held-out evaluation")
    result_eval, t_last, tokens_since = None, time.perf_counter(), 0
    if start_step >= cfg.steps and main:
        echo(f"{out} is already complete (step {start_step} of {cfg.steps}); nothing to train")
        result_eval = heldout()
    for step in range(start_step + 1, cfg.steps + 1):
        batch, counts = global_batch(step, cfg, collator, train_examples, perm_cache)
        batch = local(batch)
        output = train_step(train_model, model, batch, counts, optimizer, scheduler, cfg, step, rank, world, use_bf16)
        if step % cfg.log_every == 0 or due(step, cfg.save_every):
            check_finite_weights(model, step, cfg)  # e.g. a NaN weight decay spoils weights, not the loss
        tokens_since += int(batch["attention_mask"].sum()) * world
        if bar is not None:
            bar.update(1)
        if main and due(step, cfg.log_every):
            now = time.perf_counter()
            row = train_row(step, output, scheduler.get_last_lr()[0], tokens_since / (now - t_last))
            append_jsonl(log_path, row, on_log)
            t_last, tokens_since = now, 0
            if bar is not None:
                bar.set_postfix(loss=f"{row['loss']:.3f}", mlm_acc=f"{row['mlm_acc']:.2f}")
        if main and due(step, cfg.eval_every) and eval_examples:
            result_eval = heldout()
            append_jsonl(log_path, heldout_row(step, result_eval, cfg.sbo_weight), on_log)
        if main and due(step, cfg.save_every):
            save_and_prune(ckpt_root, step, model, cfg, tokenizer=tokenizer, optimizer=optimizer, scheduler=scheduler)
        if world > 1:
            torch.distributed.barrier()
    if bar is not None:
        bar.close()
    if world > 1:
        ranks_agree(model, world, rank, out)
    return {"step": cfg.steps, "out_dir": str(out), "eval": result_eval,
            "checkpoint": str(latest_checkpoint(ckpt_root)) if main else None, "model": model}
