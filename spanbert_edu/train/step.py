"""One optimisation step, and what it needs: the optimiser and its schedule, the step's
batch, data-parallel loss shares, and the checks that stop a run going bad.

Exact resume without saving random states: step ``t`` takes its examples from a permutation
seeded by ``(seed, epoch)``, its masks from ``[seed, t]`` and its dropout from ``seed + t``, so
any step can be replayed from the checkpoint alone.

Data parallel: under ``torchrun --nproc_per_node=N`` every rank masks the same GLOBAL batch (same
seed) and keeps its slice; each rank's mean losses are reweighted by its share of the global
targets and multiplied by N (``_global_batch_loss``), so DDP's gradient average equals the
single-process gradient on the same global batch. The model itself only ever sees its own batch.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from ..batch import IGNORE_INDEX
from ..devices import resolve_device
from .config import TrainConfig


def fused_adamw(device) -> bool:
    """Whether torch has the fused AdamW kernel for ``device``: CUDA, and the CPU from torch 2.4."""
    return device.type == "cuda" or (device.type == "cpu" and torch.torch_version.TorchVersion(torch.__version__) >= "2.4")


def make_optimizer(model, cfg: TrainConfig, device):
    """AdamW (no weight decay on biases and LayerNorm; fused) and the schedule: linear warmup
    over ``cfg.warmup_steps``, then linear decay to 0 at ``cfg.steps``. The fused kernel is 4x
    the per-tensor one on a CPU too (25 ms to 6 ms a step for ``small``); torch < 2.4 has it on
    CUDA only."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "LayerNorm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=cfg.learning_rate, fused=fused_adamw(device))
    warm, total = cfg.warmup_steps, cfg.steps
    schedule = lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm))
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedule)


def device_for(cfg: TrainConfig, rank: int, world: int) -> torch.device:
    device = resolve_device(cfg.device)
    if world > 1 and device.type == "cuda":  # one GPU per process under torchrun
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
        torch.cuda.set_device(device)
    return device


def batch_indices(step: int, batch_size: int, n: int, seed: int, cache: dict) -> list[int]:
    """Examples of a step: consecutive slots of per-epoch permutations seeded by (seed, epoch)."""
    out = []
    for pos in range((step - 1) * batch_size, step * batch_size):
        epoch = pos // n
        if epoch not in cache:
            cache.clear()
            cache[epoch] = np.random.default_rng([seed, epoch]).permutation(n)
        out.append(int(cache[epoch][pos % n]))
    return out


def global_batch(step: int, cfg: TrainConfig, collator, examples, cache: dict):
    """Step ``step``'s whole global batch (the same on every rank) and its target counts."""
    collator.reseed([cfg.seed, step])
    batch = collator([examples[i] for i in batch_indices(step, cfg.batch_size, len(examples), cfg.seed, cache)])
    counts = {"mlm": (batch["labels"] != IGNORE_INDEX).sum().item(),
              "sbo": (batch["span_labels"] != IGNORE_INDEX).sum().item(), "pair": cfg.batch_size}
    return batch, counts


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


def train_step(train_model, model, batch, counts, optimizer, scheduler, cfg: TrainConfig, step: int,
                rank: int, world: int, use_bf16: bool):
    """Forward, backward, clip, step. Dropout is seeded by the step, so a resume replays it."""
    torch.manual_seed(cfg.seed * 1_000_003 + step * 101 + rank)
    with torch.autocast(batch["input_ids"].device.type, dtype=torch.bfloat16, enabled=use_bf16):
        output = train_model(**batch)
    loss = _global_batch_loss(output, counts, cfg.sbo_weight, cfg.batch_size // world) if world > 1 else output.loss
    if not torch.isfinite(loss):
        raise FloatingPointError(f"loss became {loss.item()} at step {step} (mlm "
                                 f"{output.mlm_loss.item()}, sbo {output.sbo_loss.item()}); "
                                 f"try a lower learning_rate than {cfg.learning_rate}")
    (loss * world).backward()  # DDP averages over ranks; each loss is a share of the global mean
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return output


def check_finite_weights(model, step: int, cfg: TrainConfig) -> None:
    bad = [name for name, p in model.named_parameters() if not torch.isfinite(p).all()]
    if bad:
        raise FloatingPointError(f"weights became non-finite at step {step} ({', '.join(bad[:3])}"
                                 f"{', ...' if len(bad) > 3 else ''}); nothing was saved for this step. "
                                 f"Check learning_rate ({cfg.learning_rate}) and weight_decay "
                                 f"({cfg.weight_decay})")


def train_row(step: int, output, lr: float, tokens_per_s: float) -> dict:
    accuracy = lambda logits, targets: (logits.argmax(-1) == targets).float().mean().item()
    has_sbo = output.sbo_logits is not None and len(output.sbo_targets)
    return {"step": step, "split": "train", "lr": lr, "loss": output.loss.item(),
            "mlm_loss": output.mlm_loss.item(), "sbo_loss": output.sbo_loss.item(),
            "mlm_acc": accuracy(output.mlm_logits, output.mlm_targets),
            "sbo_acc": accuracy(output.sbo_logits, output.sbo_targets) if has_sbo else None,
            "tokens_per_s": tokens_per_s}


def heldout_row(step: int, metrics: dict, sbo_weight: float) -> dict:
    loss = metrics["mlm_loss"] + sbo_weight * (metrics["sbo_loss"] or 0.0)
    return {"step": step, "split": "heldout", "loss": loss,
            **{k: v for k, v in metrics.items() if not k.startswith("by_")}}


def ranks_agree(model, world: int, rank: int, out: Path) -> float:
    """Data parallel: every rank must end with the same weights; the largest difference is
    written to ``ddp.json``."""
    flat = torch.cat([p.detach().flatten().float() for p in model.parameters()])
    gathered = [torch.empty_like(flat) for _ in range(world)]
    torch.distributed.all_gather(gathered, flat)
    diff = max(float((g - flat).abs().max()) for g in gathered)
    if rank == 0:
        (out / "ddp.json").write_text(json.dumps({"world_size": world, "max_weight_diff_across_ranks": diff}))
    return diff
