"""Held-out evaluation: MLM and SBO loss and accuracy, overall, by position inside the span and
by span length. The masks are drawn from a fixed seed, so two evaluations of the same model on
the same examples see the same masks and give the same numbers.
"""
from __future__ import annotations

from collections import defaultdict

import torch

from .batch import IGNORE_INDEX
from .masking import masked_runs


def _top5_hits(logits, targets) -> int:
    """How many targets are among their row's five highest-scoring tokens."""
    if len(targets) == 0:
        return 0
    top = logits.topk(min(5, logits.size(-1)), dim=-1).indices           # (N, 5)
    return int((top == targets[:, None]).any(-1).sum())


def _tally(sums, head: str, logits, targets, mean_loss):
    """Add one batch of ``head`` ("mlm" or "sbo") to the running sums; returns hit or miss per target."""
    right = (logits.argmax(-1) == targets).cpu().numpy()
    sums[f"{head}_top5"] += _top5_hits(logits, targets)
    sums[f"{head}_loss"] += mean_loss.item() * len(right)
    sums[f"{head}_n"] += len(right)
    sums[f"{head}_right"] += right.sum()
    return right


@torch.no_grad()
def evaluate(model, examples, collator, batch_size: int = 16, max_batches: int | None = None,
             seed: int = 1234, device="cpu") -> dict:
    """Metrics over ``examples`` (a list of packed examples), masks seeded by ``seed``.

    Returns mlm_loss, sbo_loss, mlm_acc, sbo_acc, mlm_top5, sbo_top5 (the target among the five
    best guesses), and ``by_position`` / ``by_length``:
    {"mlm": {offset: accuracy}, "sbo": {...}} (offsets from 0, lengths in tokens).
    """
    was_training = model.training
    model.eval()
    collator.reseed([seed])
    sums = defaultdict(float)
    hits = {h: defaultdict(lambda: [0, 0]) for h in ("mlm_pos", "sbo_pos", "mlm_len", "sbo_len")}
    n_batches = 0
    for start in range(0, len(examples), batch_size):
        if max_batches is not None and n_batches >= max_batches:
            break
        batch = collator(examples[start:start + batch_size])
        batch = {k: v.to(device) for k, v in batch.items()}
        out = model(**batch)
        n_batches += 1
        mlm_right = _tally(sums, "mlm", out.mlm_logits, out.mlm_targets, out.mlm_loss)
        offsets, lengths, _ = masked_runs((batch["labels"] != IGNORE_INDEX).cpu().numpy())
        for key, values in (("mlm_pos", offsets), ("mlm_len", lengths)):
            for v, ok in zip(values, mlm_right):
                hits[key][int(v)][0] += int(ok)
                hits[key][int(v)][1] += 1
        if out.sbo_logits is not None and len(out.sbo_targets):
            sbo_right = _tally(sums, "sbo", out.sbo_logits, out.sbo_targets, out.sbo_loss)
            target = batch["span_labels"] != IGNORE_INDEX
            b, s, i = target.nonzero(as_tuple=True)
            bounds = batch["span_boundaries"][b, s]
            span_len = (bounds[:, 1] - bounds[:, 0] - 1).cpu().numpy()
            for key, values in (("sbo_pos", i.cpu().numpy()), ("sbo_len", span_len)):
                for v, ok in zip(values, sbo_right):
                    hits[key][int(v)][0] += int(ok)
                    hits[key][int(v)][1] += 1
    model.train(was_training)
    table = lambda h: {k: round(c / n, 4) for k, (c, n) in sorted(h.items())}
    return {
        "mlm_loss": sums["mlm_loss"] / max(1, sums["mlm_n"]),
        "mlm_acc": sums["mlm_right"] / max(1, sums["mlm_n"]),
        "sbo_loss": sums["sbo_loss"] / max(1, sums["sbo_n"]) if sums["sbo_n"] else None,
        "sbo_acc": sums["sbo_right"] / max(1, sums["sbo_n"]) if sums["sbo_n"] else None,
        "mlm_top5": sums["mlm_top5"] / max(1, sums["mlm_n"]),
        "sbo_top5": sums["sbo_top5"] / max(1, sums["sbo_n"]) if sums["sbo_n"] else None,
        "mlm_targets": int(sums["mlm_n"]), "sbo_targets": int(sums["sbo_n"]),
        "by_position": {"mlm": table(hits["mlm_pos"]), "sbo": table(hits["sbo_pos"])},
        "by_length": {"mlm": table(hits["mlm_len"]), "sbo": table(hits["sbo_len"])},
    }


def heldout_metrics(model, tokenizer, corpus: str = "default", *, max_length: int = 128,
                    scheme: str = "span", seed: int = 1234, batch_size: int = 32) -> dict:
    """``evaluate`` on EVERY held-out block of ``corpus`` with ``scheme``'s masks from ``seed``: the
    numbers a bundle records (``spanbert-edu export``) and ``tests/test_bundled.py`` reproduces."""
    from .collator import SpanMaskingCollator
    from .data.examples import prepare_examples
    from .masking import LINGUISTIC_MIX

    examples = prepare_examples(tokenizer, corpus, "heldout", max_length=max_length,
                                linguistic=scheme in LINGUISTIC_MIX)
    return evaluate(model, examples, SpanMaskingCollator(tokenizer, scheme=scheme),
                    batch_size=batch_size, seed=seed)
