"""Pretraining: ``pretrain(...)`` and ``python -m spanbert_edu pretrain``.

AdamW (decoupled weight decay, none on biases and LayerNorm), linear warmup then linear decay,
gradient clipping, metrics appended to ``metrics.jsonl``, held-out evaluation, atomic
safetensors checkpoints and an exact ``resume``.

Exact resume without saving random states: step ``t`` takes its examples from a permutation
seeded by ``(seed, epoch)``, its masks from ``[seed, t]`` and its dropout from ``seed + t``, so
any step can be replayed from the checkpoint alone.

Data parallel: under ``torchrun --nproc_per_node=N`` every rank masks the same GLOBAL batch (same
seed) and keeps its slice; losses are divided by the global target counts and multiplied by N,
so DDP's gradient average equals the single-process gradient on the same global batch.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ._checks import check_choice, check_int
from .checkpoint import latest_checkpoint, load_model, load_training_state, save_checkpoint
from .collator import SpanMaskingCollator
from .data import load_corpus, load_tokenizer
from .data.packing import pack_documents
from .evaluate import evaluate
from .heads import SpanBertForPreTraining
from .masking import make_proposers
from .masking.config import LINGUISTIC_MIX
from .model import SpanBertConfig


@dataclass
class TrainConfig:
    preset: str = "tiny"
    corpus: str = "default"            # "default", a folder of .txt, or "hf:<dataset>"
    hf_config: str | None = None
    max_length: int = 128
    batch_size: int = 16               # the GLOBAL batch (split across data-parallel ranks)
    steps: int = 300
    learning_rate: float = 1e-3
    warmup_steps: int = 30
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    scheme: str = "span"
    sbo_weight: float = 1.0
    pair_objective: str = "none"       # "none", "nsp" or "sop"
    log_every: int = 10
    eval_every: int = 100
    eval_batches: int = 8
    save_every: int = 100
    keep_checkpoints: int = 2
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"            # "auto" (bf16 autocast on CUDA), "fp32", "bf16"
    compile: bool = False
    out_dir: str = "runs/pretrain"
    model_overrides: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("max_length", "batch_size", "steps", "log_every", "eval_every", "save_every",
                     "keep_checkpoints", "eval_batches"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("warmup_steps", self.warmup_steps, minimum=0)
        check_int("seed", self.seed, minimum=0)
        check_choice("precision", self.precision, ("auto", "fp32", "bf16"))
        check_choice("pair_objective", self.pair_objective, ("none", "nsp", "sop"))
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _distributed():
    """(rank, world_size), initialising torch.distributed under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return (torch.distributed.get_rank() if world > 1 else 0), world


def _optimizer(model, cfg: TrainConfig, device):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "LayerNorm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=cfg.learning_rate, fused=device.type == "cuda")
    warm, total = cfg.warmup_steps, cfg.steps
    schedule = lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm))
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedule)


def prepare_examples(cfg: TrainConfig, tokenizer, split: str):
    """Packed examples for ``cfg`` (cached per process for the bundled tokenizer: the ablation
    runs many arms on the same data). Treat the returned list as read-only."""
    linguistic = cfg.scheme in LINGUISTIC_MIX
    key = (cfg.corpus, cfg.hf_config, split, cfg.max_length, linguistic, cfg.pair_objective,
           cfg.seed if cfg.pair_objective != "none" else 0, len(tokenizer))
    if key not in _EXAMPLES:
        docs = load_corpus(cfg.corpus, split, hf_config=cfg.hf_config)
        proposers = make_proposers("heuristic") if linguistic else None
        if cfg.pair_objective != "none":
            from .data.pairs import pack_pairs

            _EXAMPLES[key] = pack_pairs(docs, tokenizer, cfg.max_length, cfg.pair_objective,
                                        seed=cfg.seed, proposers=proposers)
        else:
            _EXAMPLES[key] = pack_documents(docs, tokenizer, max_length=cfg.max_length, proposers=proposers)
    return _EXAMPLES[key]


_EXAMPLES: dict = {}


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


def _append_jsonl(path: Path, row: dict, on_log=None) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
    if on_log is not None:
        on_log(row)


def _truncate_log(path: Path, step: int) -> None:
    """Drop rows an interrupted run wrote after the checkpoint it is resumed from."""
    if path.exists():
        rows = [ln for ln in path.read_text().splitlines() if ln and json.loads(ln)["step"] <= step]
        path.write_text("".join(r + "\n" for r in rows))


def pretrain(config: TrainConfig | None = None, *, resume: bool = False, progress: bool = True,
             echo=print, on_log=None, **overrides) -> dict:
    """Train; returns {"step", "out_dir", "checkpoint", "eval", "model"}. Keyword overrides set
    ``TrainConfig`` fields, e.g. ``pretrain(preset="tiny", steps=50)``. ``on_log(row)`` is called
    with every row written to metrics.jsonl (the notebooks draw live curves with it)."""
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
    train_examples = prepare_examples(cfg, tokenizer, "train")
    eval_examples = prepare_examples(cfg, tokenizer, "heldout")
    pair = cfg.pair_objective != "none"
    model_cfg = SpanBertConfig.preset(cfg.preset, **{
        "vocab_size": len(tokenizer), "sbo_weight": cfg.sbo_weight, "pair_objective": cfg.pair_objective,
        "type_vocab_size": 2 if pair else 0, "pad_token_id": tokenizer.pad_token_id, **cfg.model_overrides})
    if cfg.max_length > model_cfg.max_position_embeddings:
        raise ValueError(f"max_length ({cfg.max_length}) is longer than the position table "
                         f"(max_position_embeddings={model_cfg.max_position_embeddings})")
    start_step, latest = 0, latest_checkpoint(ckpt_root) if resume else None
    torch.manual_seed(cfg.seed)
    model = load_model(latest, expected_config=model_cfg) if latest else SpanBertForPreTraining(model_cfg)
    model.to(device).train()
    optimizer, scheduler = _optimizer(model, cfg, device)
    if latest:
        load_training_state(latest, optimizer, scheduler)
        start_step = json.loads((latest / "config.json").read_text())["step"]
        if rank == 0:
            _truncate_log(log_path, start_step)
            echo(f"resuming from {latest} (step {start_step})")
    elif rank == 0 and log_path.exists():
        log_path.unlink()  # a fresh run starts a fresh log
    train_model = model
    if world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if cfg.compile:
        train_model = torch.compile(train_model)
    use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
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
             f"{len(train_examples)} training blocks of <= {cfg.max_length} tokens; device {device}")
    result_eval = None
    for step in range(start_step + 1, cfg.steps + 1):
        idx = _batch_indices(step, cfg.batch_size, len(train_examples), cfg.seed, perm_cache)
        collator.reseed([cfg.seed, step])
        batch = collator([train_examples[i] for i in idx])  # the whole global batch, same on every rank
        norm = {"mlm": (batch["labels"] != -100).sum().item(),
                "sbo": (batch["span_labels"] != -100).sum().item(), "pair": cfg.batch_size}
        batch = {k: v[rank * shard:(rank + 1) * shard].to(device) for k, v in batch.items()}
        torch.manual_seed(cfg.seed * 1_000_003 + step * 101 + rank)  # dropout, replayable
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            output = train_model(**batch, normalizers=norm)
        loss = output.loss
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {step} (mlm "
                                     f"{output.mlm_loss.item()}, sbo {output.sbo_loss.item()}); "
                                     f"try a lower learning_rate than {cfg.learning_rate}")
        (loss * world).backward()  # DDP averages over ranks; each loss is a share of the global mean
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        tokens_since += int(batch["attention_mask"].sum()) * world
        if bar is not None:
            bar.update(1)
        if rank == 0 and (step % cfg.log_every == 0 or step == cfg.steps):
            now = time.perf_counter()
            row = {"step": step, "split": "train", "lr": scheduler.get_last_lr()[0],
                   "loss": loss.item() * world, "mlm_loss": output.mlm_loss.item() * world,
                   "sbo_loss": output.sbo_loss.item() * world,
                   "mlm_acc": (output.mlm_logits.argmax(-1) == output.mlm_targets).float().mean().item(),
                   "sbo_acc": ((output.sbo_logits.argmax(-1) == output.sbo_targets).float().mean().item()
                               if output.sbo_logits is not None and len(output.sbo_targets) else None),
                   "tokens_per_s": tokens_since / (now - t_last)}
            _append_jsonl(log_path, row, on_log)
            t_last, tokens_since = now, 0
            if bar is not None:
                bar.set_postfix(loss=f"{row['loss']:.3f}", mlm_acc=f"{row['mlm_acc']:.2f}")
        if rank == 0 and (step % cfg.eval_every == 0 or step == cfg.steps):
            result_eval = evaluate(model, eval_examples, eval_collator, batch_size=shard,
                                   max_batches=cfg.eval_batches, seed=cfg.seed + 1, device=device)
            heldout_loss = result_eval["mlm_loss"] + cfg.sbo_weight * (result_eval["sbo_loss"] or 0.0)
            _append_jsonl(log_path, {"step": step, "split": "heldout", "loss": heldout_loss,
                                     **{k: v for k, v in result_eval.items() if not k.startswith("by_")}},
                          on_log)
        if rank == 0 and (step % cfg.save_every == 0 or step == cfg.steps):
            save_checkpoint(ckpt_root / f"step-{step:06d}", model, tokenizer=tokenizer, step=step,
                            train_config=dataclasses.asdict(cfg), optimizer=optimizer, scheduler=scheduler)
            for old in sorted(ckpt_root.glob("step-*"))[:-cfg.keep_checkpoints]:
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
