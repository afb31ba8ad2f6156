"""``finetune``: train a start/end pointer on a span-selection task, then answer and score.

Read it like ``pretrain``: set up (questions, windows, the model from ``init``, run folder,
optimiser), then for each step a batch of windows and one optimisation step; at the end every
evaluation window is scored, decoded into answer text (:mod:`.decode`) and marked with SQuAD's
exact match and F1 (:mod:`.metrics`). ``DIR/predictions.json`` is SQuAD's format (question id ->
answer text, "" for no answer) and ``DIR/eval.json`` holds the scores.

Exact resume, as in pretraining: step ``t``'s windows come from a permutation seeded by
``(seed, epoch)`` and its dropout from the step, so any step replays from the checkpoint alone.
Under ``torchrun`` each rank takes its slice of the same global batch; every window has one
start and one end target, so DDP's average of the ranks' mean losses is the global mean.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import latest_checkpoint, load_model, load_training_state
from ..data import load_tokenizer
from ..devices import _distributed
from ..model import SpanBertConfig
from ..train.run_folder import append_jsonl, check_resume, open_run, save_and_prune, start_log
from ..train.memory import keep_freed_memory
from ..train.speed import resolve_speed
from ..train.step import batch_indices, check_finite_weights, device_for, make_optimizer, ranks_agree
from .config import FinetuneConfig
from .data import load_qa
from .decode import decode
from .features import make_features
from .metrics import squad_metrics
from .model import SpanBertForQuestionAnswering


def initial_model(cfg: FinetuneConfig):
    """(model, tokenizer) for ``cfg.init``: the bundled model, a random one, a checkpoint folder
    of ours (with its vocabulary), or ``hf:NAME``, a Hugging Face BERT (online, or a local folder)."""
    init = cfg.init
    torch.manual_seed(cfg.seed)  # the fresh start/end layer (and a scratch encoder) from the seed
    if init.startswith("hf:"):
        from transformers import AutoTokenizer

        from ..interop.hf import from_hf_bert

        return SpanBertForQuestionAnswering.from_pretraining(from_hf_bert(init[3:])), AutoTokenizer.from_pretrained(init[3:])
    tokenizer = load_tokenizer()
    if init == "scratch":
        config = SpanBertConfig.preset(cfg.preset, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
        return SpanBertForQuestionAnswering(config), tokenizer
    if init == "bundled":
        return SpanBertForQuestionAnswering.from_bundled(), tokenizer
    if not Path(init).is_dir():
        raise ValueError(f"init must be 'bundled', 'scratch', a checkpoint folder or hf:<name>, got {init!r}")
    if (Path(init) / "vocab.txt").is_file():
        tokenizer = load_tokenizer(Path(init) / "vocab.txt")
    return SpanBertForQuestionAnswering.from_checkpoint(init), tokenizer


def questions(cfg: FinetuneConfig):
    """(training questions, evaluation questions); ``labels`` keeps a seeded sample of the former."""
    if cfg.train_file is not None:
        train = load_qa(cfg.train_file, "train")
        # an hf: source is scored on its validation split; a SQuAD .json file is one split already
        evaluation = load_qa(cfg.eval_file or cfg.train_file, "validation")
    else:
        train, evaluation = load_qa(cfg.task, "train"), load_qa(cfg.task, "heldout")
    if cfg.labels is not None:
        if cfg.labels > len(train):
            raise ValueError(f"labels ({cfg.labels}) is more than the {len(train)} training questions")
        keep = np.random.default_rng([cfg.seed, 7]).permutation(len(train))[:cfg.labels]
        train = [train[i] for i in sorted(keep)]
    return train, evaluation


def _with_dropout(model, p):
    """Set every dropout of the encoder to ``p`` (the config records it, so a resume agrees)."""
    model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = p
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = p
        if hasattr(m, "dropout_p"):
            m.dropout_p = p
    return model


@torch.no_grad()
def predict(model, features, batch_size: int = 64, device="cpu"):
    """Start and end logits (N, L) of every window, in eval mode, as numpy arrays."""
    was_training = model.training
    model.eval()
    starts, ends = [], []
    for lo in range(0, len(features), batch_size):
        batch = {k: v.to(device) for k, v in features.batch(list(range(lo, min(lo + batch_size, len(features))))).items()
                 if k in ("input_ids", "attention_mask", "token_type_ids")}
        out = model(**batch)
        starts.append(out.start_logits.float().cpu().numpy())
        ends.append(out.end_logits.float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(starts), np.concatenate(ends)


def answer_and_score(model, examples, tokenizer, cfg: FinetuneConfig, device="cpu") -> tuple[dict, dict]:
    """(predictions {id: text}, scores): decode every evaluation question and score it."""
    features = make_features(examples, tokenizer, cfg.max_length, cfg.doc_stride, cfg.max_question_length, train=False)
    start, end = predict(model, features, cfg.eval_batch_size, device)
    version_2 = any(e.is_impossible for e in examples)
    predictions, _ = decode(examples, features, start, end, n_best=cfg.n_best,
                            max_answer_length=cfg.max_answer_length, version_2=version_2)
    return predictions, squad_metrics(predictions, examples)


def _step(train_model, model, batch, optimizer, scheduler, cfg: FinetuneConfig, step: int, rank: int,
          use_bf16: bool):
    """One optimisation step on a batch of windows; returns the loss. Dropout is seeded by the
    step, so a resume replays it."""
    torch.manual_seed(cfg.seed * 1_000_003 + step * 101 + rank)
    with torch.autocast(batch["input_ids"].device.type, dtype=torch.bfloat16, enabled=use_bf16):
        loss = train_model(**batch).loss
    if not torch.isfinite(loss):
        raise FloatingPointError(f"loss became {loss.item()} at step {step}; try a lower "
                                 f"learning_rate than {cfg.learning_rate}")
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return loss


def _write_json(path: Path, value) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(value, indent=1))
    os.replace(tmp, path)  # a finished file or none


def finetune(config: FinetuneConfig | None = None, *, resume: bool = False, overwrite: bool = False,
             progress: bool = True, echo=print, **overrides) -> dict:
    """Fine-tune and evaluate; returns {"step", "out_dir", "checkpoint", "eval", "model",
    "predictions"}. Keyword overrides set ``FinetuneConfig`` fields. ``out_dir`` holding a run:
    ``resume=True`` continues it, ``overwrite=True`` replaces it (as in ``pretrain``)."""
    if config is not None and not isinstance(config, FinetuneConfig):  # was "replace() should be called on ..."
        raise TypeError(f"config must be a FinetuneConfig or None, got {type(config).__name__}")
    cfg = dataclasses.replace(config or FinetuneConfig(), **overrides)
    rank, world = _distributed()
    if cfg.batch_size % world:
        raise ValueError(f"batch_size ({cfg.batch_size}) must be divisible by the number of ranks ({world})")
    device, main, out = device_for(cfg, rank, world), rank == 0, Path(cfg.out_dir)
    ckpt_root, log_path = out / "checkpoints", out / "metrics.jsonl"
    model, tokenizer = initial_model(cfg)
    if cfg.dropout is not None:
        _with_dropout(model, cfg.dropout)
    if cfg.max_length > model.config.max_position_embeddings:
        raise ValueError(f"max_length ({cfg.max_length}) is longer than the position table "
                         f"(max_position_embeddings={model.config.max_position_embeddings})")
    train_examples, eval_examples = questions(cfg)
    features = make_features(train_examples, tokenizer, cfg.max_length, cfg.doc_stride, cfg.max_question_length, train=True)
    latest = open_run(out, resume=resume, overwrite=overwrite, is_main=main, kind="finetune")
    start_step, stored = check_resume(latest, out, cfg.resume_differences) if latest else (0, {})
    if resume and latest is None and main:
        echo(f"resume: {out} holds no checkpoint yet; starting a new run there")
    if latest:
        model = load_model(latest, expected_config=model.config, model_class=SpanBertForQuestionAnswering)
    model.to(device).train()
    optimizer, scheduler = make_optimizer(model, cfg, device)
    if latest:
        load_training_state(latest, optimizer, scheduler)
    if main:
        start_log(log_path, start_step if latest else None)
        echo(f"fine-tuning {cfg.init} ({model.num_parameters() / 1e6:.2f} M parameters) on "
             f"{len(train_examples)} questions ({len(features)} windows of <= {cfg.max_length} tokens); "
             f"evaluating on {len(eval_examples)}" + (f"; resuming from {latest}" if latest else ""))
    shard, cache = cfg.batch_size // world, {}
    local = lambda step: batch_indices(step, cfg.batch_size, len(features), cfg.seed, cache)[rank * shard:(rank + 1) * shard]
    first = ({k: v.to(device) for k, v in features.batch(local(start_step + 1)).items()}
             if start_step < cfg.steps else None)
    keep_freed_memory()  # before the speed is measured: steps then reuse freed blocks
    # "auto": measured on the first batch (or the stored run's); cfg is what checkpoints store
    cfg.precision, cfg.attention = resolve_speed(cfg.precision, cfg.attention, device, model, first, stored,
                                                 echo if main else None, world)
    use_bf16 = cfg.precision == "bf16"
    train_model = model
    if world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    bar = None
    if progress and main:
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.steps, initial=start_step, desc="finetune", unit="step")
    for step in range(start_step + 1, cfg.steps + 1):
        batch = {k: v.to(device) for k, v in features.batch(local(step)).items()}
        loss = _step(train_model, model, batch, optimizer, scheduler, cfg, step, rank, use_bf16)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if main and (step % cfg.log_every == 0 or step == cfg.steps):
            append_jsonl(log_path, {"step": step, "split": "train", "lr": scheduler.get_last_lr()[0], "loss": loss.item()})
        if main and (step % cfg.save_every == 0 or step == cfg.steps):
            check_finite_weights(model, step, cfg)
            save_and_prune(ckpt_root, step, model, cfg, tokenizer=tokenizer, optimizer=optimizer, scheduler=scheduler)
        if world > 1:
            torch.distributed.barrier()
    if bar is not None:
        bar.close()
    if world > 1:
        ranks_agree(model, world, rank, out)  # every rank must end with the same weights: ddp.json
    predictions = scores = None
    if main:
        predictions, scores = answer_and_score(model, eval_examples, tokenizer, cfg, device)
        _write_json(out / "predictions.json", predictions)
        _write_json(out / "eval.json", scores)
        append_jsonl(log_path, {"step": cfg.steps, "split": "eval", **scores})
    return {"step": cfg.steps, "out_dir": str(out), "eval": scores, "model": model, "predictions": predictions,
            "checkpoint": str(latest_checkpoint(ckpt_root)) if main else None}
