"""The coursework checkers: each accepts the reference and two independently written correct
solutions, and rejects every planted mistake with its hint (the span masker's planted mistakes
live beside its checker, in spanbert_edu.exercises.mistakes)."""
import math

import pytest
import torch
import torch.nn.functional as F

from spanbert_edu.exercises import (check_expected_span_length, check_sbo_forward, check_sbo_loss,
                                    check_sbo_targets, check_span_masker)
from spanbert_edu.exercises.mistakes import SPAN_MASKER_CASES
from spanbert_edu.spans import expected_span_length


def verdict(result, hint):
    assert bool(result) == (hint is None), result
    assert hint is None or hint in result.message, result


# ------------------------------------------------------------------ 1. the mean span length
def mean_by_closed_form(p, n):
    q = 1 - p
    return 1 / p - n * q ** n / (1 - q ** n)


def mean_by_summing(p, n):                      # a loop is fine: the checker checks values
    w = [(1 - p) ** (k - 1) for k in range(1, n + 1)]
    return sum(k * x for k, x in zip(range(1, n + 1), w)) / sum(w)


def mean_clip(p, n):
    return 1 + ((1 - p) - (1 - p) ** n) / p


@pytest.mark.parametrize("fn,hint", [
    (lambda p, n: expected_span_length(p, n), None),
    (mean_by_closed_form, None),
    (mean_by_summing, None),
    (mean_clip, "CLIPPED mean"),
    (lambda p, n: 1 / p, "unrestricted geometric"),
    (lambda p, n: sum(k * p * (1 - p) ** (k - 1) for k in range(1, n + 1)), "forgot to renormalise"),
    (lambda p, n: (n + 1) / 2, "UNIFORM lengths"),
    (lambda p, n: mean_by_summing(p, n) - 1, "lengths run 0..max_len-1"),
    (lambda p, n: mean_by_summing(p, n + 1), "lengths run 1..max_len+1"),
    (lambda p, n: mean_by_summing(1 - p, n) if p < 1 else 1.0, "swapped p and q"),
    (lambda p, n: round(mean_by_summing(p, n), 1), "rounded"),
    (lambda p, n: "3.8", "not a number"),
    (lambda p, n: 5 - n * (1 - p) ** n / (1 - (1 - p) ** n), "expected"),    # 1/p hard-coded as 5
    (lambda p, n: float("nan") if p == 1 else mean_by_summing(p, n), "0/0"),
    (lambda p, n: 3.797, "for every p and max_len"),
])
def test_expected_span_length_checker(fn, hint):
    verdict(check_expected_span_length(fn), hint)


# ------------------------------------------------------------------ 2. the span masker
@pytest.mark.parametrize("fn,hint", SPAN_MASKER_CASES)
def test_span_masker_checker(fn, hint):
    verdict(check_span_masker(fn), hint)


# ------------------------------------------------------------------ 3. SBO targets
def targets_by_loop(masked_ids, labels, special, max_targets):
    bounds, targets, t, L = [], [], 0, len(labels)
    while t < L:
        if labels[t] != -100:
            s = t
            while t < L and labels[t] != -100:
                t += 1
            e = t - 1
            if s > 0 and e + 1 < L and not special[s - 1] and not special[e + 1]:
                bounds.append((s - 1, e + 1))
                targets.append(labels[s:min(e + 1, s + max_targets)].tolist())
        t += 1
    return bounds, targets


def targets_by_diff(masked_ids, labels, special, max_targets):
    m = (labels != -100).int()
    edges = torch.diff(torch.cat([torch.zeros(1, dtype=torch.int), m, torch.zeros(1, dtype=torch.int)]))
    starts, ends = (edges == 1).nonzero().flatten(), (edges == -1).nonzero().flatten() - 1
    out = [(int(s) - 1, int(e) + 1) for s, e in zip(starts, ends)]
    keep = [(a, b) for a, b in out if a >= 0 and b < len(labels) and not special[a] and not special[b]]
    return keep, [labels[a + 1:min(b, a + 1 + max_targets)].tolist() for a, b in keep]


def targets_planted(mistake):
    from spanbert_edu.exercises.sbo import reference_sbo_targets

    def fn(masked_ids, labels, special, max_targets):
        if mistake == "masked_ids":
            b, _ = reference_sbo_targets(labels, special)
            return b, [masked_ids[l + 1:min(r, l + 1 + max_targets)].tolist() for l, r in b]
        if mistake == "reversed":
            b, t = reference_sbo_targets(labels, special)
            return b[::-1], t[::-1]
        return reference_sbo_targets(labels, special, max_targets, **mistake)
    return fn


@pytest.mark.parametrize("fn,hint", [
    (targets_planted({}), None),
    (targets_by_loop, None),
    (targets_by_diff, None),
    (targets_planted({"inner": True}), "(s, e)"),
    (targets_planted({"shift": 1}), "e+1, the first token after"),
    (targets_planted({"shift": -1}), "e is inside the span"),
    (targets_planted({"edges": True}), "[CLS], [SEP] or padding"),
    (targets_planted({"truncate": None}), "at most max_targets"),
    (targets_planted({"truncate": "last"}), "FIRST max_targets"),
    (targets_planted("masked_ids"), "ORIGINAL ids"),
    (targets_planted("reversed"), "left to right"),
])
def test_sbo_targets_checker(fn, hint):
    verdict(check_sbo_targets(fn), hint)


# ------------------------------------------------------------------ 4. SBO forward
def sbo_by_hand(head, hidden, bounds, labels, emb):
    rows = []
    for b, s, i in (labels != -100).nonzero().tolist():
        left, right = bounds[b, s].tolist()
        h = torch.cat([hidden[b, left], hidden[b, right], head.position_embeddings.weight[i]])
        for dense, norm in ((head.dense1, head.LayerNorm1), (head.dense2, head.LayerNorm2)):
            h = norm(0.5 * dense(h) * (1 + torch.erf(dense(h) / math.sqrt(2))))
        rows.append(h @ emb.t() + head.bias)
    return torch.stack(rows)


def sbo_batched(head, hidden, bounds, labels, emb):
    b, s, i = (labels != -100).nonzero(as_tuple=True)
    x = torch.cat([hidden[b, bounds[b, s, 0]], hidden[b, bounds[b, s, 1]], head.position_embeddings(i)], -1)
    return head.mlp(x) @ emb.t() + head.bias


def sbo_planted(**kwargs):
    from spanbert_edu.exercises.sbo import _sbo_logits

    return lambda *a: _sbo_logits(*a, **kwargs)


@pytest.mark.parametrize("fn,hint", [
    (sbo_planted(), None),
    (sbo_by_hand, None),
    (sbo_batched, None),
    (sbo_planted(inner=True), "x_{s-1} and x_{e+1}"),
    (sbo_planted(swap=True), "left boundary first"),
    (sbo_planted(tied=False), "TIED"),
    (sbo_planted(position=False), "ignores p_i"),
    (sbo_planted(pos_shift=1), "offset 0"),
    (sbo_planted(act=lambda x: F.gelu(x, approximate="tanh")), "tanh approximation"),
    (sbo_planted(act=F.relu), "ReLU"),
    (sbo_planted(norms=False), "LayerNorms"),
    (sbo_planted(bias=False), "output bias"),
    (lambda *a: sbo_planted()(*a).flip(0), "another order"),
    (lambda *a: sbo_planted()(*a)[:, :-1], "shape"),
])
def test_sbo_forward_checker(fn, hint):
    verdict(check_sbo_forward(fn), hint)


def test_sbo_forward_checker_raises_no_warning(recwarn):
    check_sbo_forward(sbo_batched)                          # output requires grad: must not warn
    assert not [w for w in recwarn if "requires_grad" in str(w.message)]


# ------------------------------------------------------------------ 5. the loss
def loss_ignore_index(mlm_logits, labels, sbo_logits, span_labels):
    return (F.cross_entropy(mlm_logits.flatten(0, -2), labels.flatten())
            + F.cross_entropy(sbo_logits.flatten(0, -2), span_labels.flatten()))


def loss_by_masks(mlm_logits, labels, sbo_logits, span_labels):
    total = 0.0
    for logits, target in ((mlm_logits, labels), (sbo_logits, span_labels)):
        keep = target != -100
        logp = logits[keep].log_softmax(-1)
        total = total - logp.gather(1, target[keep][:, None]).mean()
    return total


def loss_planted(kind):
    def fn(mlm_logits, labels, sbo_logits, span_labels):
        mt, st = labels != -100, span_labels != -100
        m_sum = F.cross_entropy(mlm_logits[mt], labels[mt], reduction="sum")
        s_sum = F.cross_entropy(sbo_logits[st], span_labels[st], reduction="sum")
        return {"positions": m_sum / mt.numel() + s_sum / st.numel(), "sum": m_sum + s_sum,
                "average": (m_sum / mt.sum() + s_sum / st.sum()) / 2, "mlm_only": m_sum / mt.sum(),
                "plus_one": m_sum / (mt.sum() + 1) + s_sum / (st.sum() + 1),
                "pooled": (m_sum + s_sum) / (mt.sum() + st.sum()),
                "softmax": loss_ignore_index(mlm_logits.softmax(-1), labels, sbo_logits.softmax(-1), span_labels),
                }[kind]
    return fn


def loss_reference(mlm_logits, labels, sbo_logits, span_labels):     # the library's own loss function
    from spanbert_edu.heads import _mean_ce

    mt, st = labels != -100, span_labels != -100
    return _mean_ce(mlm_logits[mt], labels[mt]) + _mean_ce(sbo_logits[st], span_labels[st])


@pytest.mark.parametrize("fn,hint", [
    (loss_reference, None),
    (loss_ignore_index, None),
    (loss_by_masks, None),
    (loss_planted("positions"), "every POSITION"),
    (loss_planted("sum"), "summed the losses"),
    (loss_planted("average"), "ADDS them"),
    (loss_planted("mlm_only"), "SBO term is missing"),
    (loss_planted("plus_one"), "(targets + 1)"),
    (loss_planted("pooled"), "pooled"),
    (loss_planted("softmax"), "softmax before cross_entropy"),
    (lambda *a: torch.ones(2), "one number"),
])
def test_sbo_loss_checker(fn, hint):
    verdict(check_sbo_loss(fn), hint)


def test_unfinished_work_is_reported_not_raised():
    def todo(*args):
        raise NotImplementedError
    for check in (check_expected_span_length, check_span_masker, check_sbo_targets, check_sbo_forward, check_sbo_loss):
        assert "not implemented yet" in check(todo).message
