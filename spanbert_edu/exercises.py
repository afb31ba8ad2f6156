"""Checkers for the coursework in notebook 06: implement it yourself, then ask a checker.

Each checker takes YOUR function, runs it against the library's reference on many inputs and
returns a :class:`CheckResult`. It accepts a correct answer and, for the classic mistakes,
says which one you made:

* ``check_expected_span_length``: clipping instead of truncating; returning 1/p.
* ``check_span_masker``: forgetting the budget; spans that split words; 80/10/10 per token
  instead of per span; masking special tokens.
* ``check_sbo_forward``: boundaries inside the span (x_s, x_e) instead of x_{s-1}, x_{e+1};
  an SBO decoder that is not tied to the input word embeddings; a missing position embedding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .masking import IGNORE_INDEX, merge_runs
from .spans import expected_span_length


@dataclass
class CheckResult:
    passed: bool
    message: str

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return ("✓ " if self.passed else "✗ ") + self.message


def _fail(message):
    return CheckResult(False, message)


def _call(fn, *args):
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, _fail("not implemented yet (the function raises NotImplementedError)")
    except Exception as err:  # a student's bug: report it, do not crash the notebook
        return None, _fail(f"your function raised {type(err).__name__}: {err}")


# ---------------------------------------------------------------------------------- 1
def check_expected_span_length(fn) -> CheckResult:
    """``fn(p, max_len) -> float``: the mean of the TRUNCATED geometric on 1..max_len."""
    for p in (0.1, 0.2, 0.3, 0.5, 0.9, 1.0):
        for max_len in (1, 3, 10, 25):
            got, err = _call(fn, p, max_len)
            if err is not None:
                return err
            want = expected_span_length(p, max_len)
            if not isinstance(got, (int, float, np.floating)) or not math.isfinite(got):
                return _fail(f"for p={p}, max_len={max_len} you returned {got!r}, not a finite number")
            if abs(got - want) > 1e-9:
                if abs(got - expected_span_length(p, max_len, mode="clip")) < 1e-9:
                    return _fail(f"for p={p}, max_len={max_len} you returned the CLIPPED mean {got:.3f}; "
                                 "SpanBERT truncates and renormalises (3.797 for p=0.2, max 10)")
                if abs(got - 1 / p) < 1e-9:
                    return _fail(f"for p={p}, max_len={max_len} you returned 1/p, the mean of the "
                                 "unrestricted geometric: the lengths stop at max_len")
                return _fail(f"for p={p}, max_len={max_len} expected {want:.6f}, got {got}")
    return CheckResult(True, "closed form correct (3.797 for p=0.2, max 10)")


# ---------------------------------------------------------------------------------- 2
def _random_sequences(n, seed):
    """[CLS] words [SEP] sequences (1-3 pieces per word) with their word starts."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        pieces = rng.integers(1, 4, size=int(rng.integers(20, 60)))
        starts = np.concatenate([[True] + [False] * (k - 1) for k in pieces])
        ids = np.concatenate([[2], rng.integers(10, 100, size=len(starts)), [3]])
        word_start = np.concatenate([[False], starts, [False]])
        maskable = np.concatenate([[False], np.ones(len(starts), bool), [False]])
        out.append((ids, word_start, maskable))
    return out


def check_span_masker(fn, mask_token_id: int = 4, vocab_size: int = 100, draws: int = 300) -> CheckResult:
    """``fn(input_ids, word_start, maskable, mask_token_id, vocab_size, rng) -> (new_ids, labels)``:
    SpanBERT masking of one sequence at 15% (labels: original id where masked, -100 elsewhere)."""
    rng = np.random.default_rng(0)
    span_actions = []
    for ids, word_start, maskable in _random_sequences(draws, seed=1):
        result, err = _call(fn, ids.copy(), word_start, maskable, mask_token_id, vocab_size, rng)
        if err is not None:
            return err
        new_ids, labels = (np.asarray(x) for x in result)
        masked = labels != IGNORE_INDEX
        budget = math.ceil(0.15 * maskable.sum() - 1e-9)
        if (masked & ~maskable).any():
            return _fail("you masked a special token ([CLS]/[SEP]): only maskable positions may be chosen")
        if masked.sum() != budget:
            return _fail(f"{int(masked.sum())} tokens masked where the budget is ceil(0.15 * "
                         f"{int(maskable.sum())}) = {budget}: stop the moment the budget is reached "
                         "(and keep going until it is)")
        if not (labels[masked] == ids[masked]).all():
            return _fail("labels must hold the ORIGINAL ids at masked positions")
        word_end = np.r_[word_start[1:] | ~maskable[1:], True]
        runs = merge_runs(masked)
        if sum(not word_start[s] or not word_end[e] for s, e in runs) > 1:
            return _fail("your spans split words: move the anchor to its word's start and mask whole "
                         "words (only the last word may be cut, by the budget)")
        for s, e in runs:
            seg = new_ids[s:e + 1]
            is_mask = seg == mask_token_id
            if is_mask.any() and not is_mask.all():
                return _fail("a span is partly [MASK] and partly not: decide 80/10/10 ONCE PER SPAN, "
                             "not per token")
            span_actions.append("mask" if is_mask.all() else "keep" if (seg == ids[s:e + 1]).all() else "random")
    share = span_actions.count("mask") / len(span_actions)
    if abs(share - 0.8) > 4 * math.sqrt(0.16 / len(span_actions)):
        return _fail(f"{share:.0%} of spans became [MASK]; expected 80%")
    return CheckResult(True, f"budget, whole words and per-span 80/10/10 hold over {draws} sequences")


# ---------------------------------------------------------------------------------- 3
def check_sbo_forward(fn, hidden_size: int = 16, vocab_size: int = 40) -> CheckResult:
    """``fn(head, hidden, span_boundaries, span_labels, word_embeddings) -> logits (N, V)``, one
    row per SBO target in ``(span_labels != -100).nonzero()`` order, using the head's weights
    (``head.position_embeddings``, ``dense1``, ``LayerNorm1``, ``dense2``, ``LayerNorm2``, ``bias``)."""
    from .heads import SBOHead

    torch.manual_seed(0)
    head = SBOHead(hidden_size, vocab_size, position_size=6, max_span_targets=5)
    with torch.no_grad():
        head.bias.normal_()
    hidden = torch.randn(2, 12, hidden_size)
    emb = torch.randn(vocab_size, hidden_size)
    bounds = torch.tensor([[[2, 6], [7, 10]], [[0, 4], [-1, -1]]])
    labels = torch.full((2, 2, 5), IGNORE_INDEX)
    labels[0, 0, :3], labels[0, 1, :2], labels[1, 0, :3] = torch.tensor([5, 6, 7]), torch.tensor([8, 9]), torch.tensor([1, 2, 3])
    want, _ = head(hidden, bounds, labels, emb)
    got, err = _call(fn, head, hidden, bounds, labels, emb)
    if err is not None:
        return err
    if not torch.is_tensor(got) or got.shape != want.shape:
        return _fail(f"expected logits of shape {tuple(want.shape)}, got {getattr(got, 'shape', type(got))}")
    if torch.allclose(got, want, atol=1e-5):
        return CheckResult(True, "SBO forward matches the library's SBOHead")
    inner = bounds.clone()
    inner[..., 0] += 1
    inner[..., 1] -= 1
    if torch.allclose(got, head(hidden, inner, labels, emb)[0], atol=1e-5):
        return _fail("you used x_s and x_e, the first and last tokens OF the span; SBO uses the "
                     "tokens just OUTSIDE it, x_{s-1} and x_{e+1}")
    again, _ = _call(fn, head, hidden, bounds, labels, emb * 2)
    if again is not None and torch.allclose(again, got, atol=1e-5):
        return _fail("your logits do not change with the word embeddings: the SBO decoder must be "
                     "TIED to the input embedding matrix (y_i @ E^T + bias)")
    with torch.no_grad():
        saved = head.position_embeddings.weight.clone()
        head.position_embeddings.weight.zero_()
        moved, _ = _call(fn, head, hidden, bounds, labels, emb)
        head.position_embeddings.weight.copy_(saved)
    if moved is not None and torch.allclose(moved, got, atol=1e-5):
        return _fail("your prediction ignores p_i: concatenate the position embedding of the "
                     "target's offset to [x_{s-1}; x_{e+1}]")
    return _fail(f"logits differ from the reference (max difference {float((got - want).abs().max()):.3g}); "
                 "check the order: Linear, GeLU, LayerNorm, twice, then @ E^T + bias")
