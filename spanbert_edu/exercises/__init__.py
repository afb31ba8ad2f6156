"""Checkers for the coursework in notebook 06: implement it yourself, then ask a checker.

Each checker takes YOUR function, runs it against the library's reference and returns a
:class:`CheckResult`: it accepts a correct answer, and when the answer differs from the reference
in any output it fails with the most specific hint it can give, naming the misconception.

* :func:`check_expected_span_length` (:mod:`.span_length`): clipping, 1/p, no renormalisation,
  uniform lengths, off-by-one ranges, swapped p and q, rounding.
* :func:`check_span_masker` (:mod:`.masker`): the invariants (budget, whole words, per-span
  80/10/10, no special token) on every draw, then the distributions against the reference with
  chi-square tests: whole-word masking, uniform or clipped lengths, never keeping the original,
  anchors drawn over words, anchors not uniform over the text.
* :func:`check_sbo_targets`, :func:`check_sbo_forward`, :func:`check_sbo_loss` (:mod:`.sbo`):
  boundaries inside the span, off-by-one positions, spans at [CLS]/[SEP], the 15-target limit,
  swapped or untied inputs, the wrong GeLU, missing LayerNorms or bias; sums or per-position
  means instead of means over targets.
"""
from ._common import CheckResult
from .masker import check_span_masker
from .sbo import check_sbo_forward, check_sbo_loss, check_sbo_targets
from .span_length import check_expected_span_length

__all__ = ["CheckResult", "check_expected_span_length", "check_span_masker", "check_sbo_targets",
           "check_sbo_forward", "check_sbo_loss"]
