"""Exercises 3-4: the Span Boundary Objective: its targets and its forward pass.

Each checker runs the student's function on fixed inputs, compares every output with the
library's, and when they differ recomputes the answer with each classic mistake built in; the
mistake that reproduces the student's output names the hint."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..batch import IGNORE_INDEX

from ..masking.reference import merge_runs
from ._common import CheckResult, call, checker, fail, float_tensor_hint


# ------------------------------------------------------------------------------- targets
def reference_sbo_targets(labels, special_mask, max_targets: int = 15, *, inner=False, edges=False,
                          truncate="first", shift=0, masked_ids=None, runs_from=None, from_input=False):
    """Boundaries (s-1, e+1) and targets (the first ``max_targets`` original ids) of every merged
    masked run whose two neighbours are ordinary tokens. Keyword arguments build the mistakes:
    ``runs_from="mask"`` finds the runs where ``masked_ids == [MASK]`` instead of from the labels,
    ``"changed"`` where the input differs from the labels; ``from_input`` takes the targets from
    ``masked_ids``."""
    labels = [int(x) for x in labels]
    special = [bool(x) for x in special_mask]
    found = ([int(x) == MASK for x in masked_ids] if runs_from == "mask" else
             [lab != IGNORE_INDEX and int(x) != lab for x, lab in zip(masked_ids, labels)] if runs_from == "changed"
             else [x != IGNORE_INDEX for x in labels])
    source = labels if not from_input else [int(x) for x in masked_ids]
    bounds, targets = [], []
    for s, e in merge_runs(found):
        left, right = (s, e) if inner else (s - 1, e + 1 + shift)
        ok = 0 <= s - 1 and e + 1 < len(labels) and not special[s - 1] and not special[e + 1]
        if not ok and not edges:
            continue
        span = source[s:e + 1]
        kept = span if truncate is None else span[:max_targets] if truncate == "first" else span[-max_targets:]
        bounds.append((left, right))
        targets.append(kept)
    return bounds, targets


MASK = 4


def _target_cases():
    """(masked_ids, labels, special_mask) cases: runs at [CLS]/[SEP], a run over 15 tokens,
    padding, and, as 80/10/10 leaves them, runs replaced by random ids or kept unchanged, some of
    them touching a [MASK] run (so that the merged run is not all [MASK])."""
    g = torch.Generator().manual_seed(0)
    cases = []
    # (length, [(start, end, "mask" | "random" | "keep")]); a run touching the next one merges with it
    for length, runs in ((20, [(2, 3, "random"), (4, 6, "mask"), (9, 9, "keep"), (10, 11, "mask"),
                               (15, 16, "mask")]),                                       # merged runs
                         (12, [(1, 2, "mask"), (5, 6, "random"), (10, 10, "mask")]),   # touches [CLS], [SEP]
                         (30, [(3, 20, "mask"), (22, 22, "keep"), (24, 26, "random")]),  # 18 tokens: over 15
                         (16, [(2, 4, "mask"), (6, 7, "keep"), (12, 13, "mask")])):      # [SEP] at 13, padding
        ids = torch.randint(10, 100, (length,), generator=g)
        ids[0], ids[length - 1] = 2, 3
        special = torch.zeros(length, dtype=torch.bool)
        special[0] = special[length - 1] = True
        if length == 16:
            ids[13], ids[14:] = 3, 0
            special[13:] = True
        labels = torch.full((length,), IGNORE_INDEX)
        masked = ids.clone()
        for s, e, action in runs:
            labels[s:e + 1] = ids[s:e + 1]
            if action == "mask":
                masked[s:e + 1] = MASK
            elif action == "random":
                masked[s:e + 1] = (ids[s:e + 1] + torch.randint(1, 80, (e - s + 1,), generator=g) - 10) % 90 + 10
        cases.append((masked, labels, special, 15))
    cases.append((*cases[2][:3], 4))          # the 18-token run again, keeping 4: max_targets is an argument
    return cases


def _read_targets(got):
    """(boundaries, targets) as lists of int tuples / int lists, or None if ``got`` is not that."""
    try:
        if isinstance(got, (str, bytes, dict)) or len(got) != 2:
            return None
        return [tuple(int(v) for v in b) for b in got[0]], [[int(v) for v in t] for t in got[1]]
    except (TypeError, ValueError, IndexError, KeyError, RuntimeError):
        return None


@checker(default_time_limit=30)
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
    from_mask = ("you found the spans where masked_ids == [MASK]: a masked span may also be replaced by random "
                 "tokens or kept unchanged (80/10/10), and then it holds no [MASK] at all, or touches a [MASK] "
                 "run and merges with it. Find the masked runs from labels != -100")
    from_changed = ("you found the spans where the input differs from the labels: a span kept unchanged (10% of "
                    "spans, 80/10/10) is masked too, though its input equals its labels. Find the masked runs "
                    "from labels != -100")
    for masked, labels, special, max_targets in _target_cases():
        got, err = call(fn, masked.clone(), labels.clone(), special.clone(), max_targets)
        if err is not None:
            return err
        read = _read_targets(got)
        if read is None:
            return fail("return (boundaries, targets): a list of (left, right) pairs and a list of id lists, "
                        f"got {type(got).__name__}")
        bounds, targets = read
        ref = lambda limit=max_targets, **kw: tuple(reference_sbo_targets(labels, special, limit, **kw))
        want = ref()
        if (bounds, targets) == (list(want[0]), list(want[1])):
            continue
        if max_targets != 15 and (bounds, targets) == ref(15):
            return fail(f"called with max_targets={max_targets}, you kept 15 targets: use the max_targets argument")
        for kwargs, hint in mistakes:
            if (bounds, targets) == ref(**kwargs):
                return fail(hint)
        for runs_from, hint in (("mask", from_mask), ("changed", from_changed)):
            for kwargs in (dict(), dict(inner=True), dict(edges=True), dict(truncate=None)):
                if (bounds, targets) == ref(masked_ids=masked, runs_from=runs_from, **kwargs):
                    return fail(hint)
        if (bounds, targets) == ref(masked_ids=masked, from_input=True):
            return fail("your targets are the corrupted input ([MASK] or random ids): take the ORIGINAL ids "
                        "from labels")
        if sorted(bounds) == sorted(want[0]) and bounds != want[0]:
            return fail("list the spans left to right")
        if bounds == want[0]:
            k = next(k for k, (a, b) in enumerate(zip(targets, want[1])) if a != b) if len(targets) == len(want[1]) else 0
            return fail(f"the boundaries are right, but the targets of span {want[0][k]} should be {want[1][k]} "
                        f"(the original ids of its first tokens, at most max_targets), got "
                        f"{targets[k] if k < len(targets) else 'nothing'}")
        return fail(f"on a sequence with masked runs {merge_runs([x != IGNORE_INDEX for x in labels.tolist()])} "
                    f"expected boundaries {want[0]}, got {bounds}")
    return CheckResult(True, "boundaries (s-1, e+1), no target at [CLS]/[SEP]/padding, the first max_targets targets")


# ------------------------------------------------------------------------------- forward
def _sbo_logits(head, hidden, bounds, labels, emb, *, inner=False, swap=False, tied=True, position=True,
                pos_shift=0, act=F.gelu, norms=True, bias=True, order="xxp"):
    b, s, i = (labels != IGNORE_INDEX).nonzero(as_tuple=True)
    left, right = bounds[b, s, 0], bounds[b, s, 1]
    if inner:
        left, right = left + 1, right - 1
    if swap:
        left, right = right, left
    p = head.position_embeddings(i + pos_shift) * (1.0 if position else 0.0)
    norm1 = head.LayerNorm1 if norms else (lambda x: x)
    norm2 = head.LayerNorm2 if norms else (lambda x: x)
    parts = {"x": [hidden[b, left], hidden[b, right]], "p": [p]}
    x = torch.cat([parts[k].pop(0) for k in order], -1)      # order: "xxp" = [x_{s-1}; x_{e+1}; p_i]
    y = norm2(act(head.dense2(norm1(act(head.dense1(x))))))
    decoder = emb if tied else torch.ones_like(emb)
    return y @ decoder.t() + (head.bias if bias else 0.0)


FORWARD_MISTAKES = [
    (dict(inner=True), "you used x_s and x_e, the first and last tokens OF the span; SBO uses the tokens just "
                       "OUTSIDE it, x_{s-1} and x_{e+1}"),
    (dict(swap=True), "you concatenated [x_{e+1}; x_{s-1}]: the order is [x_{s-1}; x_{e+1}; p_i], left boundary first"),
    (dict(order="xpx"), "you concatenated [x_{s-1}; p_i; x_{e+1}]: the order is [x_{s-1}; x_{e+1}; p_i], the two "
                        "boundaries first and the position embedding last (dense1's weight columns follow it)"),
    (dict(order="pxx"), "you concatenated [p_i; x_{s-1}; x_{e+1}]: the order is [x_{s-1}; x_{e+1}; p_i], the two "
                        "boundaries first and the position embedding last (dense1's weight columns follow it)"),
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


@checker(default_time_limit=30)
def check_sbo_forward(fn) -> CheckResult:
    """``fn(head, hidden, span_boundaries, span_labels, word_embeddings) -> logits (N, V)``, one
    row per SBO target in ``(span_labels != -100).nonzero()`` order, using the head's weights
    (``head.position_embeddings``, ``dense1``, ``LayerNorm1``, ``dense2``, ``LayerNorm2``, ``bias``)."""
    from ..heads import SBOHead

    torch.manual_seed(0)
    hidden_size, vocab_size = 16, 40
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
    got, err = call(fn, head, hidden, bounds, labels, emb)      # with gradients on: training needs them
    if err is not None:
        return err
    bad = float_tensor_hint(got, want, "the logits")
    if bad is not None:
        return bad
    graph = got.requires_grad
    got = got.detach().to(want.dtype)
    if torch.allclose(got, want, atol=1e-5):
        if not graph:
            return fail("the logits are right but cut off from the autograd graph (a torch.no_grad(), .detach() "
                        "or a tensor rebuilt from numbers): the head's weights would never be trained")
        return CheckResult(True, "SBO forward matches the library's SBOHead")
    with torch.no_grad():
        for kwargs, hint in FORWARD_MISTAKES:
            if torch.allclose(got, _sbo_logits(head, hidden, bounds, labels, emb, **kwargs), atol=1e-5):
                return fail(hint)
    rows_match = all(any(torch.allclose(g, w, atol=1e-5) for w in want) for g in got)
    if rows_match:
        return fail("your rows are right but in another order: one row per target in "
                    "(span_labels != -100).nonzero() order (batch, then span, then position)")
    gap = float((got - want).abs().max())
    if gap < 1e-2:
        return fail(f"almost right (max difference {gap:.2g}): a small numerical change, such as F.layer_norm with "
                    "its default eps 1e-5 where the head's LayerNorms use 1e-12: call head.LayerNorm1 and "
                    "head.LayerNorm2 themselves")
    return fail(f"logits differ from the reference (max difference {gap:.3g}) and "
                "match none of the usual mistakes; step through it: [x_{s-1}; x_{e+1}; p_i] -> dense1 -> GeLU -> "
                "LayerNorm1 -> dense2 -> GeLU -> LayerNorm2 -> @ E^T + bias")
