"""What every checker shares: the verdict object, calling a student's function safely (any error,
even ``SystemExit``, becomes a verdict; a function that hangs is stopped after a stated time),
reading what it returned, and a two-sample chi-square test (no scipy needed: critical values at
alpha = 0.001 are tabulated)."""
from __future__ import annotations

import functools
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from .._checks import check_real

ALPHA = 0.001
# chi-square critical values at alpha = 0.001, by degrees of freedom (standard tables)
_CRITICAL = {1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467, 5: 20.515, 6: 22.458, 7: 24.322, 8: 26.124,
             9: 27.877, 10: 29.588, 11: 31.264, 12: 32.909, 13: 34.528, 14: 36.123, 15: 37.697}


@dataclass
class CheckResult:
    passed: bool
    message: str

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return ("✓ " if self.passed else "✗ ") + self.message


def fail(message) -> CheckResult:
    return CheckResult(False, message)


class StudentTimeout(BaseException):
    """Raised into the student's code when its time is up. A BaseException, so that a student's
    ``except Exception:`` inside a loop cannot swallow it."""


@contextmanager
def _deadline(seconds: float):
    """Raise StudentTimeout in this thread after ``seconds``. On the main thread of a POSIX system
    (a notebook's kernel, the grader's worker) a repeating SIGALRM does it, which also interrupts
    ``time.sleep``; elsewhere a trace hook checks the clock on every line of Python."""
    def expire(*_):
        raise StudentTimeout

    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)    # fires again if the student swallows it
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    end, previous = time.monotonic() + seconds, sys.gettrace()

    def trace(frame, event, arg):
        if time.monotonic() > end:
            expire()
        return trace
    sys.settrace(trace)
    try:
        yield
    finally:
        sys.settrace(previous)


def checker(default_time_limit: float, validate=None):
    """Make ``check(fn, ...)`` a checker: it refuses a ``fn`` that is not callable (and, through
    ``validate(**kwargs)``, bad settings), stops ``fn`` after ``time_limit`` seconds, and turns
    anything the checker cannot read into a verdict."""
    def wrap(check):
        @functools.wraps(check)
        def run(fn, *args, time_limit: float = default_time_limit, **kwargs) -> CheckResult:
            if validate is not None:
                kwargs = validate(**kwargs)
            if not callable(fn):
                raise TypeError(f"pass your function itself, e.g. {check.__name__}(my_function); "
                                f"got {fn!r} ({type(fn).__name__})")
            limit = check_real("time_limit", time_limit)
            if not 0 < limit < float("inf"):
                raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
            try:
                with _deadline(limit):
                    return check(fn, *args, **kwargs)
            except StudentTimeout:
                return fail(f"your function did not finish within {limit:g} s (the checker's time limit): "
                            "look for a loop whose condition never becomes false")
            except Exception as err:     # the student's output broke the checker's reading of it
                return fail(f"the checker could not read what your function returned ({type(err).__name__}: "
                            f"{err}); return what help({check.__name__}) describes")
        run.default_time_limit = default_time_limit
        return run
    return wrap


def call(fn, *args):
    """``(result, None)``, or ``(None, a failed CheckResult)`` when the student's code raises.
    Warnings it issues are swallowed: they are not wrong answers, and the grader (nbgrader) would
    fail a graded cell for writing them to stderr."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args), None
    except NotImplementedError:
        return None, fail("not implemented yet (the function raises NotImplementedError)")
    except StudentTimeout:
        raise
    except (Exception, SystemExit, KeyboardInterrupt) as err:   # a student's bug: report it, never crash
        return None, fail(f"your function raised {type(err).__name__}: {err}")


def as_array(x, name: str) -> np.ndarray:
    """A student's returned array (numpy, torch of any dtype, or a list) as numpy."""
    if torch.is_tensor(x):
        x = x.detach().cpu()
        x = x.double() if x.is_floating_point() else x
        return x.numpy()
    if isinstance(x, (str, bytes, dict)) or x is None:
        raise TypeError(f"{name} should be an array, got {type(x).__name__}")
    return np.asarray(x)


def float_tensor_hint(got, want, what: str) -> CheckResult | None:
    """A failed verdict if ``got`` is not a floating torch tensor of ``want``'s shape, else None."""
    if isinstance(got, np.ndarray):
        return fail(f"return a torch tensor, not a numpy array (yours has shape {got.shape}): {what} must stay "
                    "in torch so that gradients flow back into the encoder")
    if not torch.is_tensor(got):
        return fail(f"return {what} as a torch tensor of shape {tuple(want.shape)}, got {type(got).__name__}")
    if tuple(got.shape) != tuple(want.shape):
        return fail(f"expected {what} of shape {tuple(want.shape)}, got {tuple(got.shape)}")
    if not got.is_floating_point():
        return fail(f"{what} must be floating point, got {got.dtype}: did an integer tensor slip in?")
    if got.dtype in (torch.bfloat16, torch.float16):
        return fail(f"your {what} are {got.dtype}: compute in float32 (the checker compares to 1e-5, "
                    "which half precision cannot hold)")
    return None


def chi2_two_sample(a, b) -> tuple[float, float]:
    """Two-sample chi-square statistic for histograms ``a`` and ``b`` (same bins) and its
    critical value at ALPHA. Bins empty in both are dropped; the samples may differ in size."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    if len(a) < 2 or a.sum() == 0 or b.sum() == 0:
        return 0.0, np.inf
    ka, kb = np.sqrt(b.sum() / a.sum()), np.sqrt(a.sum() / b.sum())
    stat = float((((ka * a - kb * b) ** 2) / (a + b)).sum())
    return stat, _CRITICAL[min(len(a) - 1, max(_CRITICAL))]
