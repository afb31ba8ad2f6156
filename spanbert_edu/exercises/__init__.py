"""Checkers for the coursework in notebook 06: implement it yourself, then ask a checker.

Each checker takes YOUR function, runs it against the library's reference and returns a
:class:`CheckResult`: it accepts a correct answer, and when the answer differs from the reference
in any output it fails with the most specific hint it can give, naming the misconception.

* :func:`check_expected_span_length` (:mod:`.span_length`): clipping, 1/p, no renormalisation,
  uniform lengths, off-by-one ranges, swapped p and q, rounding.
* :func:`check_span_masker` (:mod:`.masker`): the invariants (budget, whole words, per-span
  80/10/10, no special token, random ids from the ordinary vocabulary) on every draw, then the distributions against the reference with
  chi-square tests: whole-word masking, uniform or clipped lengths, never keeping the original,
  anchors drawn over words, anchors not uniform over the text.
* :func:`check_sbo_targets`, :func:`check_sbo_forward` (:mod:`.sbo`): boundaries inside the span,
  off-by-one positions, spans at [CLS]/[SEP], spans found from [MASK] (missing the random and
  kept ones), the 15-target limit, swapped, reordered or untied inputs, the wrong GeLU, missing
  LayerNorms or bias.
* :func:`check_sbo_loss` (:mod:`.loss`): sums or per-position means instead of means over
  targets, averaged objectives, softmax before cross_entropy, raw logits into nll_loss.

Every checker turns anything your function does (raising, even ``SystemExit``; returning the
wrong type, dtype or shape) into a failed verdict with a hint, and stops it after ``time_limit``
seconds (each checker's default is its ``default_time_limit``).
"""
from ._common import CheckResult
from .masker import check_span_masker
from .loss import check_sbo_loss
from .sbo import check_sbo_forward, check_sbo_targets
from .span_length import check_expected_span_length

__all__ = ["CheckResult", "check_expected_span_length", "check_span_masker", "check_sbo_targets",
           "check_sbo_forward", "check_sbo_loss"]
