"""What every checker shares: the verdict object, calling a student's function safely, and a
two-sample chi-square test (no scipy needed: critical values at alpha = 0.001 are tabulated)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def call(fn, *args):
    """``(result, None)``, or ``(None, a failed CheckResult)`` when the student's code raises."""
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, fail("not implemented yet (the function raises NotImplementedError)")
    except Exception as err:  # a student's bug: report it, do not crash the notebook
        return None, fail(f"your function raised {type(err).__name__}: {err}")


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

