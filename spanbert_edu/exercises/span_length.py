"""Exercise 1: the closed-form mean of SpanBERT's span lengths (truncated geometric on 1..n).

The checker compares with the library on a grid of (p, max_len) and, when the answer is wrong,
tries the mistakes students really make, each as a formula, and names the one that matches."""
from __future__ import annotations

import math

import numpy as np

import torch

from ..spans import expected_span_length
from ._common import CheckResult, call, checker, fail

# float32 holds about 7 significant digits, and the closed form 1/p - n q^n / (1 - q^n) loses a few
# of them to cancellation (a relative 2e-6 at p = 0.1, n = 2): an answer computed in float32 is right
RTOL = 1e-5

GRID = [(p, n) for p in (0.1, 0.2, 0.3, 0.5, 0.9) for n in (1, 2, 3, 10, 25)] + [(1.0, 1), (1.0, 10)]


def _unnormalised(p, n):        # sum_{l=1..n} l p q^(l-1), without dividing by the kept mass
    return sum(l * p * (1 - p) ** (l - 1) for l in range(1, n + 1))


def _from_zero(p, n):           # lengths 0..n-1 instead of 1..n
    return expected_span_length(p, n) - 1


def _one_too_many(p, n):        # lengths 1..n+1
    return expected_span_length(p, n + 1)


def _swapped(p, n):             # q used where p belongs
    return expected_span_length(1 - p, n) if p < 1 else float(1)


# (formula, hint); the first formula that matches on every grid point names the mistake
MISTAKES = [
    (lambda p, n: expected_span_length(p, n, mode="clip"),
     "you returned the CLIPPED mean (lengths above max_len piled onto max_len); SpanBERT truncates "
     "and renormalises, which gives the paper's 3.8 (3.797 for p=0.2, max 10), not 4.463"),
    (lambda p, n: 1 / p,
     "you returned 1/p, the mean of the unrestricted geometric: the lengths stop at max_len, so "
     "the mean is smaller (3.797, not 5, for p=0.2, max 10)"),
    (_unnormalised,
     "you forgot to renormalise: divide by the probability kept on 1..max_len, (1 - q^max_len)"),
    (lambda p, n: (n + 1) / 2,
     "you returned (max_len + 1) / 2, the mean of UNIFORM lengths; SpanBERT's lengths are geometric, "
     "so short spans are the most likely"),
    (_from_zero,
     "off by one: your lengths run 0..max_len-1; a span has at least one word (1..max_len)"),
    (_one_too_many,
     "off by one: your lengths run 1..max_len+1; they stop at max_len"),
    (_swapped,
     "you swapped p and q = 1 - p: P(length = l) = p q^(l-1), so p = 0.2 favours SHORT spans"),
    (lambda p, n: round(expected_span_length(p, n), 1),
     "your answer is rounded (to one decimal); return the exact value"),
    (lambda p, n: round(expected_span_length(p, n), 2),
     "your answer is rounded (to two decimals); return the exact value"),
]


def _matches(formula, answers) -> bool:
    for (p, n), got in answers.items():
        want = formula(p, n)
        if not math.isclose(got, want, rel_tol=RTOL, abs_tol=RTOL):
            return False
    return True


@checker(default_time_limit=10)
def check_expected_span_length(fn) -> CheckResult:
    """``fn(p, max_len) -> float``: the mean of the TRUNCATED geometric on 1..max_len (a Python or
    numpy number, or a one-element tensor or array). Checked to a relative 1e-5, so float32 is fine."""
    answers = {}
    for p, n in GRID:
        got, err = call(fn, p, n)
        if err is not None:
            return err
        if (torch.is_tensor(got) and got.numel() == 1) or (isinstance(got, np.ndarray) and got.size == 1):
            got = got.item()
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
            return fail(f"for p={p}, max_len={n} you returned {got!r} ({type(got).__name__}), not a number")
        if not math.isfinite(got):
            hint = " (at p = 1 every span has length 1: q = 0, so watch for 0/0)" if p == 1.0 else ""
            return fail(f"for p={p}, max_len={n} you returned {got!r}, not a finite number{hint}")
        answers[(p, n)] = float(got)
    wrong = {k: v for k, v in answers.items() if not math.isclose(v, expected_span_length(*k), rel_tol=RTOL, abs_tol=RTOL)}
    if not wrong:
        return CheckResult(True, "closed form correct on every (p, max_len) tried (3.797 for p=0.2, max 10)")
    for formula, hint in MISTAKES:
        if _matches(formula, {k: answers[k] for k in wrong}):
            return fail(hint)
    if all(answers[k] == answers[next(iter(answers))] for k in answers):
        return fail(f"you return {answers[next(iter(answers))]} for every p and max_len: the mean must depend on both")
    (p, n), got = next(iter(wrong.items()))
    only_edge = all(k[0] == 1.0 or k[1] == 1 for k in wrong)
    if only_edge:
        return fail(f"wrong only at the edges (p=1 or max_len=1), e.g. p={p}, max_len={n}: {got} instead of "
                    f"{expected_span_length(p, n)}; with one possible length the mean is that length")
    return fail(f"for p={p}, max_len={n} expected {expected_span_length(p, n):.6f}, got {got}")
