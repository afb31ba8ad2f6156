"""Held-out evaluation: MLM and SBO loss and accuracy, overall, by position inside the span and
by span length. The masks are drawn from a fixed seed, so two evaluations of the same model on
the same examples see the same masks and give the same numbers.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from .batch import IGNORE_INDEX
from .masking import masked_runs


class AccuracyTable:
    """Hits and totals per key (a span length, an offset inside the span): add one batch of
    predictions at a time, then read the accuracy per key. The one place that computes
    "accuracy by span length" (:func:`evaluate`, the ablation, the toy world)."""

    def __init__(self, cap: int | None = None):
        self.cap = cap                                   # keys above it count as ``cap``: "cap or more"
        self.counts = defaultdict(lambda: [0, 0])        # key -> [right, total]

    def add(self, keys, right) -> "AccuracyTable":
        """One prediction per entry: ``keys`` (N,) ints, ``right`` (N,) whether it was right."""
        keys, right = np.asarray(keys, dtype=np.int64).reshape(-1), np.asarray(right).reshape(-1)
        if self.cap is not None:
            keys = np.minimum(keys, self.cap)
        for key in np.unique(keys):
            chosen = keys == key
            self.counts[int(key)][0] += int(right[chosen].sum())
            self.counts[int(key)][1] += int(chosen.sum())
        return self

    def overall(self) -> float:
        """Accuracy over every prediction added (0 when there is none)."""
        return sum(c for c, _ in self.counts.values()) / max(1, sum(n for _, n in self.counts.values()))

    def totals(self) -> dict:
        """{key: number of predictions}, keys in increasing order."""
        return {k: n for k, (_, n) in sorted(self.counts.items())}

    def table(self, digits: int | None = 4) -> dict:
        """{key: accuracy}, keys in increasing order, rounded to ``digits`` (None: not rounded)."""
        return {k: c / n if digits is None else round(c / n, digits) for k, (c, n) in sorted(self.counts.items())}


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
    hits = {h: AccuracyTable() for h in ("mlm_pos", "sbo_pos", "mlm_len", "sbo_len")}
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
        hits["mlm_pos"].add(offsets, mlm_right)
        hits["mlm_len"].add(lengths, mlm_right)
        if out.sbo_logits is not None and len(out.sbo_targets):
            sbo_right = _tally(sums, "sbo", out.sbo_logits, out.sbo_targets, out.sbo_loss)
            target = batch["span_labels"] != IGNORE_INDEX
            b, s, i = target.nonzero(as_tuple=True)
            bounds = batch["span_boundaries"][b, s]
            span_len = (bounds[:, 1] - bounds[:, 0] - 1).cpu().numpy()
            hits["sbo_pos"].add(i.cpu().numpy(), sbo_right)
            hits["sbo_len"].add(span_len, sbo_right)
    model.train(was_training)
    return {
        "mlm_loss": sums["mlm_loss"] / max(1, sums["mlm_n"]),
        "mlm_acc": sums["mlm_right"] / max(1, sums["mlm_n"]),
        "sbo_loss": sums["sbo_loss"] / max(1, sums["sbo_n"]) if sums["sbo_n"] else None,
        "sbo_acc": sums["sbo_right"] / max(1, sums["sbo_n"]) if sums["sbo_n"] else None,
        "mlm_top5": sums["mlm_top5"] / max(1, sums["mlm_n"]),
        "sbo_top5": sums["sbo_top5"] / max(1, sums["sbo_n"]) if sums["sbo_n"] else None,
        "mlm_targets": int(sums["mlm_n"]), "sbo_targets": int(sums["sbo_n"]),
        "by_position": {"mlm": hits["mlm_pos"].table(), "sbo": hits["sbo_pos"].table()},
        "by_length": {"mlm": hits["mlm_len"].table(), "sbo": hits["sbo_len"].table()},
        # how many targets each accuracy above rests on (for error bars)
        "by_position_n": {"mlm": hits["mlm_pos"].totals(), "sbo": hits["sbo_pos"].totals()},
        "by_length_n": {"mlm": hits["mlm_len"].totals(), "sbo": hits["sbo_len"].totals()},
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


@torch.no_grad()
def plateau_check(model, tokenizer, corpus: str = "default", *, max_length: int = 128, seed: int = 1234,
                  batch_size: int = 32, max_batches: int | None = 8, top: int = 5) -> dict:
    """Is ``model`` on BERT's early plateau? Over held-out span masks from ``seed``: the share of
    the MLM head's answers taken by its ``top`` most frequent answers, and the accuracy of the
    frequency baseline, a "model" that answers every masked token with the training corpus'
    most frequent token. Early in training a model answers almost everything with a few
    frequent tokens, and its accuracy sits near that baseline."""
    from .collator import SpanMaskingCollator
    from .data.examples import prepare_examples
    from .data.tokenizer import bundled_unigram_counts

    counts = bundled_unigram_counts().astype(float)
    counts[list(tokenizer.all_special_ids)] = 0                 # never a masked token's answer
    most_frequent = int(counts.argmax())
    examples = prepare_examples(tokenizer, corpus, "heldout", max_length=max_length)
    collator = SpanMaskingCollator(tokenizer, scheme="span")
    collator.reseed([seed])
    was_training, answers, targets = model.training, [], []
    model.eval()
    for k, start in enumerate(range(0, len(examples), batch_size)):
        if max_batches is not None and k >= max_batches:
            break
        out = model(**collator(examples[start:start + batch_size]))
        answers.append(out.mlm_logits.argmax(-1))
        targets.append(out.mlm_targets)
    model.train(was_training)
    answers, targets = torch.cat(answers), torch.cat(targets)
    ids, n = answers.unique(return_counts=True)
    best = n.argsort(descending=True)[:top]
    return {"top_answers": [(tokenizer.convert_ids_to_tokens([int(ids[j])])[0], float(n[j]) / len(answers))
                            for j in best],
            "top_share": float(n[best].sum()) / len(answers),
            "accuracy": float((answers == targets).float().mean()),
            "baseline_token": tokenizer.convert_ids_to_tokens([most_frequent])[0],
            "baseline_accuracy": float((targets == most_frequent).float().mean()), "targets": len(targets)}
