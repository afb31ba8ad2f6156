"""The coursework checkers: each accepts the reference and two independently written correct
solutions, and rejects every planted mistake with its hint."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spanbert_edu.exercises import (check_expected_span_length, check_sbo_forward, check_sbo_loss,
                                    check_sbo_targets, check_span_masker)
from spanbert_edu.exercises.masker import reference_masker
from spanbert_edu.masking import mask_sequence, MaskingConfig, ReplacementVocab
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
def masker_from_scratch(ids, word_start, maskable, mask_token_id, vocab_size, rng):
    """Written from the paper and the authors' algorithm, without the library."""
    new, labels = ids.copy(), np.full(len(ids), -100)
    n = int(maskable.sum())
    budget = math.ceil(0.15 * n)
    lengths = np.arange(1, 11)
    pmf = 0.2 * 0.8 ** (lengths - 1)
    pmf /= pmf.sum()
    masked = np.zeros(len(ids), bool)
    positions = np.flatnonzero(maskable)
    while masked.sum() < budget:
        span_len = rng.choice(lengths, p=pmf)
        anchor = rng.choice(positions)
        if masked[anchor]:
            continue
        while not word_start[anchor]:             # back to the start of its word
            anchor -= 1
        i, words = anchor, 0
        while i < len(ids) and maskable[i] and masked.sum() < budget:
            if word_start[i]:
                words += 1
                if words > span_len:
                    break
            masked[i] = True
            i += 1
    i = 0
    while i < len(ids):                           # 80/10/10 once per merged run
        if masked[i]:
            j = i
            while j + 1 < len(ids) and masked[j + 1]:
                j += 1
            u = rng.random()
            labels[i:j + 1] = ids[i:j + 1]
            if u < 0.8:
                new[i:j + 1] = mask_token_id
            elif u < 0.9:
                new[i:j + 1] = rng.integers(10, vocab_size, size=j - i + 1)
            i = j + 1
        else:
            i += 1
    return new, labels


def masker_with_weights(ids, word_start, maskable, mask_token_id, vocab_size, rng):
    """A second correct one: anchors drawn by weighting each WORD by its number of pieces."""
    new, labels = ids.copy(), np.full(len(ids), -100)
    budget = math.ceil(0.15 * int(maskable.sum()))
    starts = [i for i in range(len(ids)) if word_start[i] and maskable[i]]
    ends = starts[1:] + [int(np.flatnonzero(maskable)[-1]) + 1]
    sizes = np.array([e - s for s, e in zip(starts, ends)], float)
    lengths = np.arange(1, 11)
    pmf = 0.8 ** (lengths - 1)
    masked = np.zeros(len(ids), bool)
    while masked.sum() < budget:
        k = rng.choice(lengths, p=pmf / pmf.sum())
        w = rng.choice(len(starts), p=sizes / sizes.sum())
        if masked[starts[w]]:
            continue
        for word in range(w, min(w + k, len(starts))):
            for t in range(starts[word], ends[word]):
                if masked.sum() < budget:
                    masked[t] = True
    runs, t = [], 0
    while t < len(ids):
        if masked[t]:
            s = t
            while t < len(ids) and masked[t]:
                t += 1
            runs.append((s, t - 1))
        t += 1
    for s, e in runs:
        labels[s:e + 1] = ids[s:e + 1]
        u = rng.random()
        if u < 0.8:
            new[s:e + 1] = mask_token_id
        elif u < 0.9:
            new[s:e + 1] = rng.integers(10, vocab_size, size=e - s + 1)
    return new, labels


def planted(config=None, *, mask_cls=False, actions=None, words_anchor=False, left_to_right=False):
    """The library's masker with one mistake built in."""
    base = reference_masker(config or MaskingConfig())

    def masker(ids, word_start, maskable, mask_token_id, vocab_size, rng):
        if words_anchor or left_to_right:
            return _planted_anchor(ids, word_start, maskable, mask_token_id, rng, words_anchor, left_to_right)
        new, labels = (np.array(x) for x in base(ids, word_start, maskable, mask_token_id, vocab_size, rng))
        if mask_cls:  # [CLS] masked instead of the last chosen token
            last = np.flatnonzero(labels != -100)[-1]
            new[last], labels[last] = ids[last], -100
            new[0], labels[0] = mask_token_id, ids[0]
        if actions is not None:  # another mask/random/keep mix per span
            t = 0
            while t < len(ids):
                if labels[t] != -100:
                    s = t
                    while t < len(ids) and labels[t] != -100:
                        t += 1
                    u = rng.random()
                    new[s:t] = (mask_token_id if u < actions[0] else
                                rng.integers(10, vocab_size, size=t - s) if u < actions[0] + actions[1] else ids[s:t])
                t += 1
        return new, labels
    return masker


def _planted_anchor(ids, word_start, maskable, mask_token_id, rng, words_anchor, left_to_right):
    new, labels = ids.copy(), np.full(len(ids), -100)
    budget = math.ceil(0.15 * int(maskable.sum()))
    starts = [i for i in range(len(ids)) if word_start[i] and maskable[i]]
    pmf = 0.8 ** np.arange(10)
    masked, cursor = np.zeros(len(ids), bool), 0
    while masked.sum() < budget:
        k = rng.choice(np.arange(1, 11), p=pmf / pmf.sum())
        if left_to_right:      # spans packed from the left, a random gap of 0-2 words between them
            w = min(cursor + int(rng.integers(0, 3)), len(starts) - 1)
        else:                  # anchor uniform over WORDS
            w = int(rng.integers(len(starts)))
        if masked[starts[w]]:
            cursor = w + 1
            continue
        t, words = starts[w], 0
        while t < len(ids) and maskable[t] and masked.sum() < budget:
            words += bool(word_start[t])
            if words > k:
                break
            masked[t] = True
            t += 1
        cursor = w + k + 1
    labels[masked] = ids[masked]
    t = 0
    while t < len(ids):
        if masked[t]:
            s = t
            while t < len(ids) and masked[t]:
                t += 1
            if rng.random() < 0.8:
                new[s:t] = mask_token_id
            elif rng.random() < 0.5:
                new[s:t] = rng.integers(10, 100, size=t - s)
        t += 1
    return new, labels


@pytest.mark.parametrize("fn,hint", [
    (reference_masker(), None),
    (masker_from_scratch, None),
    (masker_with_weights, None),
    (planted(MaskingConfig(replacement="token")), "ONCE PER SPAN"),
    (planted(MaskingConfig(scheme="subword")), "split words"),
    (planted(MaskingConfig(mlm_probability=0.3)), "budget"),
    (planted(mask_cls=True), "special token"),
    (planted(MaskingConfig(scheme="whole_word")), "whole-word masking"),
    (planted(MaskingConfig(geometric_p=1e-9)), "UNIFORM"),
    (planted(MaskingConfig(span_length_mode="clip")), "CLIPPED"),
    (planted(MaskingConfig(geometric_p=0.5)), "span lengths in words differ"),
    (planted(actions=(0.8, 0.2, 0.0)), "never (or almost never"),
    (planted(actions=(0.8, 0.0, 0.2)), "random tokens"),
    (planted(actions=(0.6, 0.2, 0.2)), "80/10/10"),
    (planted(words_anchor=True), "SUBWORD tokens"),
    (planted(left_to_right=True), "first tenth"),
])
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
