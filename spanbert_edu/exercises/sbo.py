"""Exercises 3-5: the Span Boundary Objective: its targets, its forward pass and the loss.

Each checker runs the student's function on fixed inputs, compares every output with the
library's, and when they differ recomputes the answer with each classic mistake built in; the
mistake that reproduces the student's output names the hint."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..batch import IGNORE_INDEX

from ..masking.reference import merge_runs
from ._common import CheckResult, call, fail


# ------------------------------------------------------------------------------- targets
def reference_sbo_targets(labels, special_mask, max_targets: int = 15, *, inner=False, edges=False,
                          truncate="first", shift=0):
    """Boundaries (s-1, e+1) and targets (the first ``max_targets`` original ids) of every merged
    masked run whose two neighbours are ordinary tokens. Keyword arguments build the mistakes."""
    labels = [int(x) for x in labels]
    special = [bool(x) for x in special_mask]
    bounds, targets = [], []
    for s, e in merge_runs([x != IGNORE_INDEX for x in labels]):
        left, right = (s, e) if inner else (s - 1, e + 1 + shift)
        ok = 0 <= s - 1 and e + 1 < len(labels) and not special[s - 1] and not special[e + 1]
        if not ok and not edges:
            continue
        span = labels[s:e + 1]
        kept = span if truncate is None else span[:max_targets] if truncate == "first" else span[-max_targets:]
        bounds.append((left, right))
        targets.append(kept)
    return bounds, targets


def _target_cases():
    """(masked_ids, labels, special_mask) cases: edges, adjacent spans, a span over 15 tokens, padding."""
    g = torch.Generator().manual_seed(0)
    cases = []
    for length, runs in ((12, [(1, 2), (5, 6), (10, 10)]),            # touches [CLS] and [SEP]
                         (30, [(3, 20), (22, 22), (24, 26)]),          # 18 tokens: over 15
                         (16, [(2, 4), (6, 7), (12, 13)])):            # [SEP] at 13, padding after
        ids = torch.randint(10, 100, (length,), generator=g)
        ids[0], ids[length - 1] = 2, 3
        special = torch.zeros(length, dtype=torch.bool)
        special[0] = special[length - 1] = True
        if length == 16:
            ids[13], ids[14:] = 3, 0
            special[13:] = True
        labels = torch.full((length,), IGNORE_INDEX)
        masked = ids.clone()
        for s, e in runs:
            labels[s:e + 1] = ids[s:e + 1]
            masked[s:e + 1] = 4
        cases.append((masked, labels, special))
    return cases


def check_sbo_targets(fn) -> CheckResult:
    """``fn(masked_ids, labels, special_mask, max_targets) -> (boundaries, targets)``: a list of
    ``(s-1, e+1)`` pairs, left to right, and for each the first ``max_targets`` original ids."""
    mistakes = [
        (dict(inner=True), "your boundaries are (s, e), the first and last MASKED tokens; SBO uses the "
                           "tokens just outside the span, (s-1, e+1), which the encoder can see"),
        (dict(shift=1), "off by one on the right: the right boundary is e+1, the first token after the span"),
        (dict(shift=-1), "off by one on the right: e is inside the span; the right boundary is e+1"),
        (dict(edges=True), "a span touching [CLS], [SEP] or padding gets no SBO target: one of its boundary "
                           "tokens is not real text (the authors skip spans at the block's edge)"),
        (dict(truncate=None), "keep at most max_targets (15) targets per span, the first ones"),
        (dict(truncate="last"), "keep the FIRST max_targets targets of a long span, not the last"),
    ]
    for masked, labels, special in _target_cases():
        got, err = call(fn, masked.clone(), labels.clone(), special.clone(), 15)
        if err is not None:
            return err
        try:
            bounds, targets = ([tuple(int(v) for v in b) for b in got[0]], [[int(v) for v in t] for t in got[1]])
        except (TypeError, ValueError, IndexError):
            return fail("return (boundaries, targets): a list of (left, right) pairs and a list of id lists")
        want = reference_sbo_targets(labels, special)
        if (bounds, targets) == (list(want[0]), list(want[1])):
            continue
        for kwargs, hint in mistakes:
            if (bounds, targets) == tuple(reference_sbo_targets(labels, special, **kwargs)):
                return fail(hint)
        if targets and all(t and all(v == 4 for v in t) for t in targets):
            return fail("your targets are [MASK] ids: take the ORIGINAL ids (from labels), not the corrupted input")
        if sorted(bounds) == sorted(want[0]) and bounds != want[0]:
            return fail("list the spans left to right")
        if bounds == want[0]:
            k = next(k for k, (a, b) in enumerate(zip(targets, want[1])) if a != b) if len(targets) == len(want[1]) else 0
            return fail(f"the boundaries are right, but the targets of span {want[0][k]} should be {want[1][k]} "
                        f"(the original ids of its first tokens, at most max_targets), got "
                        f"{targets[k] if k < len(targets) else 'nothing'}")
        return fail(f"on a sequence with masked runs {merge_runs([x != IGNORE_INDEX for x in labels.tolist()])} "
                    f"expected boundaries {want[0]}, got {bounds}")
    return CheckResult(True, "boundaries (s-1, e+1), no target at [CLS]/[SEP]/padding, the first 15 targets")


# ------------------------------------------------------------------------------- forward
def _sbo_logits(head, hidden, bounds, labels, emb, *, inner=False, swap=False, tied=True, position=True,
                pos_shift=0, act=F.gelu, norms=True, bias=True):
    b, s, i = (labels != IGNORE_INDEX).nonzero(as_tuple=True)
    left, right = bounds[b, s, 0], bounds[b, s, 1]
    if inner:
        left, right = left + 1, right - 1
    if swap:
        left, right = right, left
    p = head.position_embeddings(i + pos_shift) * (1.0 if position else 0.0)
    norm1 = head.LayerNorm1 if norms else (lambda x: x)
    norm2 = head.LayerNorm2 if norms else (lambda x: x)
    y = norm2(act(head.dense2(norm1(act(head.dense1(torch.cat([hidden[b, left], hidden[b, right], p], -1)))))))
    decoder = emb if tied else torch.ones_like(emb)
    return y @ decoder.t() + (head.bias if bias else 0.0)


FORWARD_MISTAKES = [
    (dict(inner=True), "you used x_s and x_e, the first and last tokens OF the span; SBO uses the tokens just "
                       "OUTSIDE it, x_{s-1} and x_{e+1}"),
    (dict(swap=True), "you concatenated [x_{e+1}; x_{s-1}]: the order is [x_{s-1}; x_{e+1}; p_i], left boundary first"),
    (dict(tied=False), "your logits do not change with the word embeddings: the SBO decoder must be TIED to the "
                       "input embedding matrix (y_i @ E^T + bias)"),
    (dict(position=False), "your prediction ignores p_i: concatenate the position embedding of the target's "
                           "offset to [x_{s-1}; x_{e+1}]"),
    (dict(pos_shift=1), "off by one in p_i: the first token of the span has offset 0 (p_0), not 1"),
    (dict(act=lambda x: F.gelu(x, approximate="tanh")), "you used the tanh approximation of GeLU; BERT and "
                                                        "SpanBERT use the exact (erf) GeLU"),
    (dict(act=F.relu), "you used ReLU; the SBO MLP uses GeLU"),
    (dict(norms=False), "you left out the LayerNorms: each layer is Linear -> GeLU -> LayerNorm"),
    (dict(bias=False), "you left out the head's own output bias (head.bias)"),
]


def check_sbo_forward(fn, hidden_size: int = 16, vocab_size: int = 40) -> CheckResult:
    """``fn(head, hidden, span_boundaries, span_labels, word_embeddings) -> logits (N, V)``, one
    row per SBO target in ``(span_labels != -100).nonzero()`` order, using the head's weights
    (``head.position_embeddings``, ``dense1``, ``LayerNorm1``, ``dense2``, ``LayerNorm2``, ``bias``)."""
    from ..heads import SBOHead

    torch.manual_seed(0)
    head = SBOHead(hidden_size, vocab_size, position_size=6, max_span_targets=5)
    with torch.no_grad():
        head.bias.normal_()
        for norm in (head.LayerNorm1, head.LayerNorm2):   # not 1/0, so that leaving them out shows
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0, 0.2)
    hidden = torch.randn(2, 12, hidden_size)
    emb = torch.randn(vocab_size, hidden_size)
    bounds = torch.tensor([[[2, 6], [7, 10]], [[0, 4], [-1, -1]]])
    labels = torch.full((2, 2, 5), IGNORE_INDEX)
    labels[0, 0, :3], labels[0, 1, :2], labels[1, 0, :3] = torch.tensor([5, 6, 7]), torch.tensor([8, 9]), torch.tensor([1, 2, 3])
    with torch.no_grad():
        want = head(hidden, bounds, labels, emb)[0]
        got, err = call(fn, head, hidden, bounds, labels, emb)
    if err is not None:
        return err
    if not torch.is_tensor(got) or got.shape != want.shape:
        return fail(f"expected logits of shape {tuple(want.shape)}, got {getattr(got, 'shape', type(got))}")
    got = got.detach()
    if torch.allclose(got, want, atol=1e-5):
        return CheckResult(True, "SBO forward matches the library's SBOHead")
    with torch.no_grad():
        for kwargs, hint in FORWARD_MISTAKES:
            if torch.allclose(got, _sbo_logits(head, hidden, bounds, labels, emb, **kwargs), atol=1e-5):
                return fail(hint)
    rows_match = all(any(torch.allclose(g, w, atol=1e-5) for w in want) for g in got)
    if rows_match:
        return fail("your rows are right but in another order: one row per target in "
                    "(span_labels != -100).nonzero() order (batch, then span, then position)")
    return fail(f"logits differ from the reference (max difference {float((got - want).abs().max()):.3g}); "
                "check the order: Linear, GeLU, LayerNorm, twice, then @ E^T + bias")


# ------------------------------------------------------------------------------- the loss
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
    try:
        value = float(got)
    except (TypeError, ValueError, RuntimeError):
        return fail(f"return one number (a scalar tensor), got {type(got).__name__} {getattr(got, 'shape', '')}")
    right, mistakes = _loss_variants(mlm_logits, labels, sbo_logits, span_labels)
    if abs(value - float(right)) < 1e-5:
        return CheckResult(True, "MLM mean + SBO mean over their targets: correct")
    for wrong, hint in mistakes:
        if abs(value - float(wrong)) < 1e-5:
            return fail(hint)
    soft = _loss_variants(mlm_logits.softmax(-1), labels, sbo_logits.softmax(-1), span_labels)[0]
    if abs(value - float(soft)) < 1e-5:
        return fail("you applied softmax before cross_entropy, which applies log-softmax itself: pass the raw logits")
    return fail(f"expected {float(right):.6f}, got {value:.6f}: mean cross-entropy over the MLM targets "
                "(labels != -100) plus the mean over the SBO targets")
