"""The checkers hold up against whatever a student's function does: any dtype, any return type,
raising anything (even SystemExit), looping forever. Each case is a mistake a student really
made; the verdict must be a failed CheckResult with a hint, never an exception or a pass."""
import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spanbert_edu.exercises import (check_expected_span_length, check_sbo_forward, check_sbo_loss,
                                    check_sbo_targets, check_span_masker)
from spanbert_edu.exercises.masker import reference_masker
from spanbert_edu.spans import expected_span_length

CHECKERS = [check_expected_span_length, check_span_masker, check_sbo_targets, check_sbo_forward, check_sbo_loss]


def failed_with(result, hint):
    assert not result, result
    assert hint in result.message, result


# ------------------------------------------------------------------ anything the student's code does
@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("error", [SystemExit(1), KeyboardInterrupt(), ValueError("bad"), RecursionError()])
def test_any_raise_is_a_verdict(check, error):
    def fn(*args):
        raise error
    failed_with(check(fn), f"raised {type(error).__name__}")


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("returned", [{}, None, "3.8", [], object()], ids=repr)
def test_any_return_is_a_verdict(check, returned):
    result = check(lambda *args: returned)
    assert isinstance(result, type(check_sbo_loss(lambda *a: None))) and not result, result


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_a_hanging_function_is_stopped(check):
    def fn(*args):
        while True:
            try:
                time.sleep(10)
            except Exception:            # a student's blanket except must not swallow the stop
                pass
    start = time.monotonic()
    failed_with(check(fn, time_limit=0.5), "did not finish within 0.5 s")
    assert time.monotonic() - start < 3


def test_a_loop_is_stopped_off_the_main_thread():
    """Off the main thread there is no SIGALRM: a trace hook watches the clock instead."""
    out = {}

    def spin(p, n):
        x = 0
        while True:
            x += 1

    worker = threading.Thread(target=lambda: out.setdefault("r", check_expected_span_length(spin, time_limit=0.5)))
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    failed_with(out["r"], "did not finish within 0.5 s")


def test_the_time_limit_is_checked_and_restored():
    import signal
    before = signal.getsignal(signal.SIGALRM)
    assert check_expected_span_length(expected_span_length, time_limit=5)
    assert signal.getsignal(signal.SIGALRM) == before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="time_limit"):
            check_expected_span_length(expected_span_length, time_limit=bad)
    with pytest.raises(TypeError, match="time_limit"):
        check_expected_span_length(expected_span_length, time_limit="5")


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_a_non_function_is_refused(check):
    with pytest.raises(TypeError, match="pass your function itself"):
        check(3.797)


# ------------------------------------------------------------------ exercise 1: numbers of any kind
@pytest.mark.parametrize("fn", [
    lambda p, n: np.float32(expected_span_length(p, n)),
    lambda p, n: torch.tensor(expected_span_length(p, n), dtype=torch.float32),
    lambda p, n: torch.tensor([expected_span_length(p, n)], dtype=torch.float64),
    lambda p, n: float(np.float32(1 / p - n * (1 - p) ** n / (1 - (1 - p) ** n))) if p < 1 else 1.0,
], ids=["numpy float32", "torch float32", "torch float64 [1]", "computed in float32"])
def test_span_length_accepts_float32(fn):
    assert check_expected_span_length(fn)


def test_span_length_still_rejects_a_rounded_answer():
    failed_with(check_expected_span_length(lambda p, n: round(expected_span_length(p, n), 3)), "expected")


# ------------------------------------------------------------------ exercise 2: the masker
def test_masker_settings_are_refused_when_they_would_weaken_it():
    broken = lambda ids, ws, mk, mask, v, rng: (ids, np.full(len(ids), -100))
    for draws in (0, -1, 49):
        with pytest.raises(ValueError, match="draws"):
            check_span_masker(broken, draws=draws)
    with pytest.raises(TypeError, match="draws"):
        check_span_masker(broken, draws=2.5)
    with pytest.raises(ValueError, match="seed"):
        check_span_masker(broken, seed=-1)
    failed_with(check_span_masker(broken, draws=50), "budget")


@pytest.mark.parametrize("convert", [
    lambda x: torch.as_tensor(x, dtype=torch.int64),
    lambda x: torch.as_tensor(x, dtype=torch.float64),
    lambda x: torch.as_tensor(x).to(torch.bfloat16),      # ids below 256 are exact in bfloat16
    lambda x: np.asarray(x, dtype=np.float64),
    lambda x: list(map(int, x)),
], ids=["int64", "float64", "bfloat16", "numpy float64", "list"])
def test_masker_accepts_any_array_type(convert):
    ref = reference_masker()
    assert check_span_masker(lambda *a: tuple(convert(x) for x in ref(*a)), draws=60)


def test_masker_returning_one_array_is_told_to_return_a_pair():
    ref = reference_masker()
    failed_with(check_span_masker(lambda *a: ref(*a)[0]), "return a pair")


# ------------------------------------------------------------------ exercise 3: targets
def targets_from_mask_token(masked_ids, labels, special, max_targets):
    """Written as a student did: the spans are where the input shows [MASK] (id 4)."""
    is_mask = (masked_ids == 4).tolist() + [False]
    bounds, targets, s = [], [], None
    for t, m in enumerate(is_mask):
        if m and s is None:
            s = t
        elif not m and s is not None:
            if not special[s - 1] and t < len(labels) and not special[t]:
                bounds.append((s - 1, t))
                targets.append(labels[s:min(t, s + max_targets)].tolist())
            s = None
    return bounds, targets


def test_targets_found_from_the_mask_token_are_refused():
    failed_with(check_sbo_targets(targets_from_mask_token), "masked_ids == [MASK]")


def test_targets_accept_tensors_of_any_dtype():
    from spanbert_edu.exercises.sbo import reference_sbo_targets

    def fn(masked_ids, labels, special, max_targets):
        b, t = reference_sbo_targets(labels, special, max_targets)
        return torch.tensor(b, dtype=torch.float64).reshape(-1, 2), [torch.tensor(x, dtype=torch.int32) for x in t]
    assert check_sbo_targets(fn)


# ------------------------------------------------------------------ exercise 4: the forward pass
def forward(head, hidden, bounds, labels, emb, order="xxp"):
    b, s, i = (labels != -100).nonzero(as_tuple=True)
    x, y, p = hidden[b, bounds[b, s, 0]], hidden[b, bounds[b, s, 1]], head.position_embeddings(i)
    parts = {"xxp": [x, y, p], "xpx": [x, p, y], "pxx": [p, x, y]}[order]
    return head.mlp(torch.cat(parts, -1)) @ emb.t() + head.bias


@pytest.mark.parametrize("fn,hint", [
    (lambda *a: forward(*a, order="xpx"), "[x_{s-1}; p_i; x_{e+1}]"),
    (lambda *a: forward(*a, order="pxx"), "[p_i; x_{s-1}; x_{e+1}]"),
    (lambda *a: forward(*a).detach().numpy(), "not a numpy array"),
    (lambda *a: forward(*a).to(torch.bfloat16), "bfloat16"),
    (lambda *a: forward(*a).round().long(), "floating point"),
    (lambda *a: forward(*a) + 0.5, "match none of the usual mistakes"),
])
def test_forward_mistakes_a_student_found(fn, hint):
    failed_with(check_sbo_forward(fn), hint)


def test_forward_accepts_float64():
    assert check_sbo_forward(lambda *a: forward(*a).double())


# ------------------------------------------------------------------ exercise 5: the loss
def right_loss(mlm_logits, labels, sbo_logits, span_labels):
    return (F.cross_entropy(mlm_logits.flatten(0, -2), labels.flatten())
            + F.cross_entropy(sbo_logits.flatten(0, -2), span_labels.flatten()))


def nll_on_logits(mlm_logits, labels, sbo_logits, span_labels):
    return (F.nll_loss(mlm_logits.flatten(0, -2), labels.flatten())
            + F.nll_loss(sbo_logits.flatten(0, -2), span_labels.flatten()))


@pytest.mark.parametrize("fn,hint", [
    (nll_on_logits, "LOG-probabilities"),
    (lambda *a: str(float(right_loss(*a))), "one number"),
    (lambda *a: right_loss(*a).to(torch.bfloat16), "bfloat16"),
    (lambda *a: True, "one number"),
])
def test_loss_mistakes_a_student_found(fn, hint):
    failed_with(check_sbo_loss(fn), hint)


@pytest.mark.parametrize("fn", [
    lambda *a: right_loss(*a).double(),
    lambda *a: right_loss(*a).reshape(1),
], ids=["float64 tensor", "one-element tensor"])
def test_loss_accepts_any_scalar_tensor(fn):
    assert check_sbo_loss(fn)


@pytest.mark.parametrize("fn", [
    lambda *a: float(right_loss(*a)),
    lambda *a: np.float32(right_loss(*a).item()),
    lambda *a: right_loss(*a).detach(),
], ids=["python float", "numpy float32", "detached tensor"])
def test_a_loss_cut_from_the_graph_is_refused(fn):
    result = check_sbo_loss(fn)
    assert not result and ("autograd graph" in result.message), result


def test_warnings_from_a_student_function_do_not_escape():
    import warnings

    def warns(*a):
        warnings.warn("a student's warning")
        return right_loss(*a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # any warning escaping would raise here
        assert check_sbo_loss(warns)
