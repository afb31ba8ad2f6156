"""Exercise 5: the pretraining loss, MLM + SBO, each the mean cross-entropy over its targets.

The checker computes the loss on fixed logits and, when the student's number differs, recomputes
it with each classic mistake (sums, means over positions, averaged objectives, softmax or raw
logits fed to the wrong function); the mistake that reproduces the number names the hint."""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ..batch import IGNORE_INDEX
from ._common import CheckResult, call, checker, fail


def _loss_variants(mlm_logits, labels, sbo_logits, span_labels):
    mlm_t, sbo_t = labels != IGNORE_INDEX, span_labels != IGNORE_INDEX
    mlm_sum = F.cross_entropy(mlm_logits[mlm_t], labels[mlm_t], reduction="sum")
    sbo_sum = F.cross_entropy(sbo_logits[sbo_t], span_labels[sbo_t], reduction="sum")
    n_mlm, n_sbo = int(mlm_t.sum()), int(sbo_t.sum())
    right = mlm_sum / n_mlm + sbo_sum / n_sbo
    per_seq = sum(F.cross_entropy(mlm_logits[b][mlm_t[b]], labels[b][mlm_t[b]]) for b in range(len(labels))) / len(labels)
    return right, [
        (mlm_sum / mlm_t.numel() + sbo_sum / sbo_t.numel(),
         "you divided by every POSITION (masked or not, padding included); divide each sum by its number of "
         "TARGETS: the loss must not shrink when a batch happens to hold fewer masked tokens"),
        (mlm_sum + sbo_sum, "you summed the losses; take the MEAN over targets (otherwise the loss, and the "
                            "gradient, grow with the batch and the number of spans)"),
        ((mlm_sum / n_mlm + sbo_sum / n_sbo) / 2, "you averaged the two losses; SpanBERT ADDS them: MLM + SBO"),
        (mlm_sum / n_mlm, "the SBO term is missing: loss = MLM + SBO"),
        (mlm_sum / (n_mlm + 1) + sbo_sum / (n_sbo + 1),
         "you divided by (targets + 1), as the authors' code does for SBO; this exercise (and this library) "
         "uses the plain mean over targets"),
        ((mlm_sum + sbo_sum) / (n_mlm + n_sbo), "you pooled MLM and SBO targets into one mean; each objective "
                                                "is its own mean, then the two are added"),
        (per_seq + sbo_sum / n_sbo, "you averaged per sequence, then over sequences; average over all targets "
                                    "of the batch at once (a sequence with more masked tokens counts more)"),
    ]


@checker(default_time_limit=30)
def check_sbo_loss(fn) -> CheckResult:
    """``fn(mlm_logits (B, L, V), labels (B, L), sbo_logits (B, S, T, V), span_labels (B, S, T))
    -> loss``: the mean cross-entropy over MLM targets plus the mean over SBO targets (-100: none)."""
    g = torch.Generator().manual_seed(0)
    B, L, S, T, V = 3, 10, 2, 4, 12
    mlm_logits, sbo_logits = torch.randn(B, L, V, generator=g), torch.randn(B, S, T, V, generator=g)
    labels = torch.full((B, L), IGNORE_INDEX)
    labels[0, 2:5], labels[1, 6:8], labels[2, 1:3] = torch.tensor([1, 2, 3]), torch.tensor([4, 8]), torch.tensor([5, 6])
    span_labels = torch.full((B, S, T), IGNORE_INDEX)
    span_labels[0, 0, :3], span_labels[2, 0, :2], span_labels[2, 1, :1] = torch.tensor([1, 2, 3]), torch.tensor([5, 6]), 7
    got, err = call(fn, mlm_logits, labels, sbo_logits, span_labels)
    if err is not None:
        return err
    if torch.is_tensor(got) and got.numel() == 1 and got.is_floating_point():
        if got.dtype in (torch.bfloat16, torch.float16):
            return fail(f"your loss is {got.dtype}: compute it in float32 (half precision cannot hold the "
                        "1e-5 the checker compares to)")
        value = float(got)
    elif isinstance(got, numbers.Real) and not isinstance(got, bool):
        value = float(got)
    else:
        return fail(f"return one number (a scalar tensor), got {type(got).__name__} "
                    f"{tuple(got.shape) if torch.is_tensor(got) else repr(got)[:40]}")
    right, mistakes = _loss_variants(mlm_logits, labels, sbo_logits, span_labels)
    if abs(value - float(right)) < 1e-5:
        return CheckResult(True, "MLM mean + SBO mean over their targets: correct")
    for wrong, hint in mistakes:
        if abs(value - float(wrong)) < 1e-5:
            return fail(hint)
    return _logits_hint(value, mlm_logits, labels, sbo_logits, span_labels, right)


def _logits_hint(value, mlm_logits, labels, sbo_logits, span_labels, right) -> CheckResult:
    """The mistakes in what goes INTO the cross-entropy: probabilities or raw logits."""
    soft = _loss_variants(mlm_logits.softmax(-1), labels, sbo_logits.softmax(-1), span_labels)[0]
    if abs(value - float(soft)) < 1e-5:
        return fail("you applied softmax before cross_entropy, which applies log-softmax itself: pass the raw logits")
    mlm_t, sbo_t = labels != IGNORE_INDEX, span_labels != IGNORE_INDEX
    raw = (F.nll_loss(mlm_logits[mlm_t], labels[mlm_t]) + F.nll_loss(sbo_logits[sbo_t], span_labels[sbo_t]))
    if abs(value - float(raw)) < 1e-5:
        return fail("you passed raw logits to nll_loss, which expects LOG-probabilities: apply log_softmax "
                    "first, or use cross_entropy, which does both")
    return fail(f"expected {float(right):.6f}, got {value:.6f}: mean cross-entropy over the MLM targets "
                "(labels != -100) plus the mean over the SBO targets")
