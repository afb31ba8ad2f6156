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
    per_seq = lambda lg, tg, t: torch.stack([F.cross_entropy(lg[b][t[b]], tg[b][t[b]])
                                             for b in range(len(tg)) if t[b].any()]).mean()
    smooth = lambda lg, tg, t: F.cross_entropy(lg[t], tg[t], label_smoothing=0.1)
    return right, [
        (mlm_sum / mlm_t.numel() + sbo_sum / sbo_t.numel(),
         "you divided by every POSITION (masked or not, padding included); divide each sum by its number of "
         "TARGETS: the loss must not shrink when a batch happens to hold fewer masked tokens"),
        (mlm_sum / n_mlm + sbo_sum / sbo_t.numel(),
         "your SBO term is divided by every (span, position) slot, padding included; divide it by its number "
         "of TARGETS (span_labels != -100)"),
        (mlm_sum + sbo_sum, "you summed the losses; take the MEAN over targets (otherwise the loss, and the "
                            "gradient, grow with the batch and the number of spans)"),
        ((mlm_sum / n_mlm + sbo_sum / n_sbo) / 2, "you averaged the two losses; SpanBERT ADDS them: MLM + SBO"),
        (mlm_sum / n_mlm, "the SBO term is missing: loss = MLM + SBO"),
        (mlm_sum / (n_mlm + 1) + sbo_sum / (n_sbo + 1),
         "you divided by (targets + 1), as the authors' code does for SBO; this exercise (and this library) "
         "uses the plain mean over targets"),
        (mlm_sum / n_mlm + sbo_sum / (n_sbo + 1),
         "you divided the SBO sum by (targets + 1), as the authors' code does; this exercise (and this "
         "library) uses the plain mean over targets"),
        ((mlm_sum + sbo_sum) / (n_mlm + n_sbo), "you pooled MLM and SBO targets into one mean; each objective "
                                                "is its own mean, then the two are added"),
        (per_seq(mlm_logits, labels, mlm_t) + sbo_sum / n_sbo, "you averaged per sequence, then over sequences; "
         "average over all targets of the batch at once (a sequence with more masked tokens counts more)"),
        (mlm_sum / n_mlm + per_seq(sbo_logits, span_labels, sbo_t), "you averaged the SBO loss per sequence, "
         "then over sequences; average over all SBO targets of the batch at once"),
        (smooth(mlm_logits, labels, mlm_t) + smooth(sbo_logits, span_labels, sbo_t),
         "you used label smoothing; SpanBERT's losses are the plain cross-entropy"),
    ]


def _cases():
    """Two batches with different numbers of targets per sequence (so that per-sequence means,
    and a smoothing that cancels out on one batch, show), logits that require gradients."""
    out = []
    for seed, B, L, S, T, V in ((0, 3, 10, 2, 4, 12), (1, 4, 9, 3, 5, 11)):
        g = torch.Generator().manual_seed(seed)
        mlm_logits, sbo_logits = torch.randn(B, L, V, generator=g), torch.randn(B, S, T, V, generator=g)
        labels = torch.full((B, L), IGNORE_INDEX)
        span_labels = torch.full((B, S, T), IGNORE_INDEX)
        for b in range(B):                             # b+2 MLM targets, (b % 3) + 1 SBO targets
            labels[b, 1:b + 3] = torch.randint(0, V, (b + 2,), generator=g)
            span_labels[b, b % S, :b % 3 + 1] = torch.randint(0, V, (b % 3 + 1,), generator=g)
        out.append((mlm_logits.requires_grad_(), labels, sbo_logits.requires_grad_(), span_labels))
    return out


@checker(default_time_limit=30)
def check_sbo_loss(fn) -> CheckResult:
    """``fn(mlm_logits (B, L, V), labels (B, L), sbo_logits (B, S, T, V), span_labels (B, S, T))
    -> loss``: the mean cross-entropy over MLM targets plus the mean over SBO targets (-100: none),
    as a scalar tensor that backpropagates to the logits."""
    for mlm_logits, labels, sbo_logits, span_labels in _cases():
        got, err = call(fn, mlm_logits, labels, sbo_logits, span_labels)
        if err is not None:
            return err
        value, bad = _read_loss(got)
        if bad is not None:
            return bad
        with torch.no_grad():
            right, mistakes = _loss_variants(mlm_logits, labels, sbo_logits, span_labels)
            if abs(value - float(right)) < 1e-5:
                continue
            for wrong, hint in mistakes:
                if abs(value - float(wrong)) < 1e-5:
                    return fail(hint)
            return _logits_hint(value, mlm_logits, labels, sbo_logits, span_labels, right)
    return CheckResult(True, "MLM mean + SBO mean over their targets: correct")


def _read_loss(got):
    """(the value, None), or (None, a failed CheckResult) when ``got`` is not a usable loss."""
    if not torch.is_tensor(got):
        if isinstance(got, numbers.Real) and not isinstance(got, bool):
            return None, fail(f"you returned a {type(got).__name__}, cut off from the autograd graph (.item() or "
                              "float() does that): return the loss tensor itself, so that loss.backward() trains")
        return None, fail(f"return one number (a scalar tensor), got {type(got).__name__} {repr(got)[:40]}")
    if got.numel() != 1 or not got.is_floating_point():
        return None, fail(f"return one number (a scalar floating-point tensor), got {got.dtype} {tuple(got.shape)}")
    if got.dtype in (torch.bfloat16, torch.float16):
        return None, fail(f"your loss is {got.dtype}: compute it in float32 (half precision cannot hold the "
                          "1e-5 the checker compares to)")
    if not got.requires_grad:
        return None, fail("your loss does not backpropagate to the logits (no autograd graph: a torch.no_grad(), "
                          ".detach() or a tensor rebuilt from numbers): compute it from the logits with torch ops")
    return float(got.detach()), None


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
