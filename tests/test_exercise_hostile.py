"""Mistakes found by a hostile tester, that the first checkers missed or misnamed: each must now be
rejected with the hint that names it (or, for the correct ones, accepted). A student masker with
one slip per flag, a targets function with 15 hard-coded, SBO logits cut from the graph, label
smoothing and a per-sequence SBO mean, and correct answers in float32 or one-element arrays."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spanbert_edu.exercises import (check_expected_span_length, check_sbo_forward, check_sbo_loss,
                                    check_sbo_targets, check_span_masker)


def verdict(result, hint):
    assert bool(result) == (hint is None), result
    assert hint is None or hint in result.message, result


def student(p=0.2, random_once=False, ignore_maskable=False, rng_mode=None, labels_from_changed=False,
            per_word=False, anchor_forward=False, walk_forward=False, no_cut=False):
    """A student's SpanBERT masker written from notebook 06; each flag is one slip."""
    def masker(ids, word_start, maskable, mask_token_id, vocab_size, rng):
        if rng_mode == "fresh":
            rng = np.random.default_rng()           # ignores the rng it is given
        elif rng_mode == "reseed":
            rng = np.random.default_rng(0)          # "for reproducibility"
        L = len(ids)
        mk = np.r_[False, np.ones(L - 2, bool), False] if ignore_maskable else np.asarray(maskable, bool)
        budget = math.ceil(0.15 * int(mk.sum()))
        lengths = np.arange(1, 11)
        pmf = p * (1 - p) ** (lengths - 1)
        pmf /= pmf.sum()
        masked = np.zeros(L, bool)

        def word_end(i):                             # exclusive
            j = i + 1
            while j < L and mk[j] and not word_start[j]:
                j += 1
            return j
        while masked.sum() < budget:
            k = rng.choice(lengths, p=pmf)
            a = rng.choice(np.flatnonzero(mk))
            if masked[a] and not walk_forward:
                continue
            while walk_forward and a < L and mk[a] and masked[a]:
                a += 1                               # walk on to the next unmasked token
            if anchor_forward:
                while a < L and mk[a] and not word_start[a]:
                    a += 1                           # on to the NEXT word start
            else:
                while a > 0 and not word_start[a]:
                    a -= 1
            if a >= L or not mk[a]:
                continue
            words, pos = [], a
            while len(words) < k and pos < L and mk[pos]:
                words.append((pos, word_end(pos)))
                pos = words[-1][1]
            if no_cut:                               # never cut a word: shorten the span instead
                while words and sum((~masked[s:e]).sum() for s, e in words) > budget - masked.sum():
                    words.pop()
            for s, e in words:
                for t in range(s, e):
                    if masked.sum() < budget:
                        masked[t] = True
        new, labels = ids.copy(), np.where(masked, ids, -100)
        d = np.diff(np.r_[0, masked.astype(int), 0])
        pieces = []
        for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
            cuts = [t for t in range(s + 1, e) if word_start[t]] if per_word else []
            pieces += list(zip([s] + cuts, cuts + [e]))
        for s, e in pieces:
            u = rng.random()
            if u < 0.8:
                new[s:e] = mask_token_id
            elif u < 0.9:
                new[s:e] = rng.integers(10, vocab_size) if random_once else rng.integers(10, vocab_size, size=e - s)
        if labels_from_changed:
            labels = np.where(new != ids, ids, -100)
        return new, labels
    return masker


@pytest.mark.parametrize("kwargs,hint", [
    ({}, None),
    ({"random_once": True}, "repeat ONE random id"),
    ({"ignore_maskable": True}, "maskable is True"),
    ({"rng_mode": "fresh"}, "does not draw from the rng"),
    ({"rng_mode": "reseed"}, "generator of your own"),
    ({"p": 0.8}, "swap p and q"),
    ({"labels_from_changed": True}, "kept unchanged"),
    ({"per_word": True}, "once per WORD"),
    ({"anchor_forward": True}, "BACK to the start"),
], ids=lambda v: str(v))
def test_a_student_masker_with_one_slip(kwargs, hint):
    verdict(check_span_masker(student(**kwargs)), hint)


def targets_of_runs(runs, labels, special_mask, keep):
    """Written as a student did: (boundaries, targets) of the runs of True in ``runs``, the first
    ``keep`` labels of each; the two planted mistakes below differ in ``runs`` and ``keep``."""
    bounds, targets, t, L = [], [], 0, len(labels)
    while t < L:
        if runs[t]:
            s = t
            while t < L and runs[t]:
                t += 1
            if s > 0 and t < L and not special_mask[s - 1] and not special_mask[t]:
                bounds.append((s - 1, t))
                targets.append(labels[s:min(t, s + keep)].tolist())
        t += 1
    return bounds, targets


def test_targets_with_15_hard_coded():
    def hardcoded(masked_ids, labels, special_mask, max_targets):
        return targets_of_runs(labels != -100, labels, special_mask, 15)        # 15, as in the paper
    verdict(check_sbo_targets(hardcoded), "use the max_targets argument")


def test_targets_from_what_changed():
    def changed(masked_ids, labels, special_mask, max_targets):
        return targets_of_runs((labels != -100) & (masked_ids != labels), labels, special_mask, max_targets)
    verdict(check_sbo_targets(changed), "input differs from the labels")


def _right(head, hidden, bounds, labels, emb):
    b, s, i = (labels != -100).nonzero(as_tuple=True)
    x = torch.cat([hidden[b, bounds[b, s, 0]], hidden[b, bounds[b, s, 1]], head.position_embeddings(i)], -1)
    return head.LayerNorm2(F.gelu(head.dense2(head.LayerNorm1(F.gelu(head.dense1(x)))))) @ emb.t() + head.bias


def _no_grad(*a):
    with torch.no_grad():
        return _right(*a)


def _default_eps(head, hidden, bounds, labels, emb):
    H = hidden.size(-1)
    b, s, i = (labels != -100).nonzero(as_tuple=True)
    x = torch.cat([hidden[b, bounds[b, s, 0]], hidden[b, bounds[b, s, 1]], head.position_embeddings(i)], -1)
    x = F.layer_norm(F.gelu(head.dense1(x)), (H,), head.LayerNorm1.weight, head.LayerNorm1.bias)
    x = F.layer_norm(F.gelu(head.dense2(x)), (H,), head.LayerNorm2.weight, head.LayerNorm2.bias)
    return F.linear(x, emb, head.bias)


@pytest.mark.parametrize("fn,hint", [
    (_right, None),
    (lambda *a: _right(*a).detach(), "autograd graph"),
    (_no_grad, "autograd graph"),
    (lambda *a: torch.tensor(_right(*a).tolist()), "autograd graph"),
    (_default_eps, "almost right"),
], ids=["right", "detach", "no_grad", "rebuilt", "default eps"])
def test_forward_cut_from_the_graph_or_nearly_right(fn, hint):
    verdict(check_sbo_forward(fn), hint)


def _ce(logits, target, **kw):
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1), **kw)


def _sbo_per_sequence(mlm_logits, labels, sbo_logits, span_labels):
    per_seq = [F.cross_entropy(sbo_logits[b][t], span_labels[b][t])
               for b in range(len(span_labels)) for t in [span_labels[b] != -100] if t.any()]
    return _ce(mlm_logits, labels) + torch.stack(per_seq).mean()


@pytest.mark.parametrize("fn,hint", [
    (lambda m, l, s, sl: _ce(m, l, label_smoothing=0.1) + _ce(s, sl, label_smoothing=0.1), "label smoothing"),
    (_sbo_per_sequence, "SBO loss per sequence"),
    (lambda m, l, s, sl: _ce(m, l).item() + _ce(s, sl).item(), "autograd graph"),
], ids=["label smoothing", "SBO per sequence", "item"])
def test_loss_mistakes_that_one_batch_hid(fn, hint):
    verdict(check_sbo_loss(fn), hint)


@pytest.mark.parametrize("fn", [
    lambda p, n: (lambda q: np.where(q == 0, 1.0, 1 / p - n * q ** n / (1 - q ** n + (q == 0))))(1.0 - p),
    lambda p, n: (lambda l: (l * (1 - p) ** (l - 1)).sum(keepdims=True) / ((1 - p) ** (l - 1)).sum())(
        np.arange(1, n + 1)),
    lambda p, n: (lambda p_: 1 / p_ - n * (1 - p_) ** n / (1 - (1 - p_) ** n))(torch.tensor(p, dtype=torch.float32)),
], ids=["0-d array", "1-element array", "float32 throughout"])
def test_span_length_correct_in_arrays_and_float32(fn):
    assert check_expected_span_length(fn)
