"""The span-length distribution: closed forms, reference values, simulation."""
import numpy as np
import pytest

from spanbert_edu.spans import (expected_span_length, sample_span_lengths, span_length_pmf,
                                span_length_std)

GRID_P = [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 0.9, 1.0]


@pytest.mark.parametrize("mode", ["truncate", "clip"])
@pytest.mark.parametrize("min_len", [1, 2, 4])
def test_closed_form_equals_direct_sum(mode, min_len):
    for p in GRID_P:
        for max_len in range(min_len, 41):
            pmf = span_length_pmf(p, max_len, min_len, mode)
            direct = float(pmf @ np.arange(min_len, max_len + 1))
            assert abs(pmf.sum() - 1.0) < 1e-12
            assert abs(expected_span_length(p, max_len, min_len, mode) - direct) < 1e-12, (p, max_len)


def test_paper_reference_values():
    # spanbert.md: truncated pmf .224 .179 .143 .115 .092 .073 .059 .047 .038 .030
    assert span_length_pmf(0.2, 10).round(3).tolist() == [
        0.224, 0.179, 0.143, 0.115, 0.092, 0.073, 0.059, 0.047, 0.038, 0.030]
    assert round(expected_span_length(0.2, 10), 3) == 3.797      # the paper's "3.8"
    assert round(expected_span_length(0.2, 10, mode="clip"), 3) == 4.463
    # without a cap the geometric mean is 1/p = 5; a far cap approaches it
    assert abs(expected_span_length(0.2, 400) - 5.0) < 1e-9


def test_clip_piles_the_tail_on_max_len():
    pmf = span_length_pmf(0.2, 10, mode="clip")
    assert pmf[-1] == pytest.approx(0.8 ** 9)   # P(G >= 10)
    assert pmf[0] == pytest.approx(0.2)
    pmf = span_length_pmf(0.2, 10, min_len=3, mode="clip")
    assert pmf[0] == pytest.approx(1 - 0.8 ** 3)  # P(G <= 3) lands on 3


@pytest.mark.parametrize("mode", ["truncate", "clip"])
def test_p_one_gives_min_len(mode):
    assert expected_span_length(1.0, 10, 3, mode) == 3
    assert span_length_pmf(1.0, 10, 3, mode)[0] == 1.0


@pytest.mark.parametrize("mode", ["truncate", "clip"])
def test_monte_carlo_mean_within_four_standard_errors(mode):
    n = 10 ** 6
    draws = sample_span_lengths(n, 0.2, 10, mode=mode, seed=1234)
    se = span_length_std(0.2, 10, mode=mode) / np.sqrt(n)
    assert abs(draws.mean() - expected_span_length(0.2, 10, mode=mode)) < 4 * se


@pytest.mark.parametrize("p,max_len,min_len,mode", [(0.2, 10, 1, "truncate"), (0.4, 6, 2, "clip"),
                                                    (0.1, 10, 1, "truncate")])
def test_chi_square_goodness_of_fit(p, max_len, min_len, mode):
    n = 100_000
    draws = sample_span_lengths(n, p, max_len, min_len, mode, seed=7)
    observed = np.bincount(draws - min_len, minlength=max_len - min_len + 1)
    expected = n * span_length_pmf(p, max_len, min_len, mode)
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    # critical values of chi-square at alpha = 0.001 for df = bins - 1
    critical = {9: 27.877, 4: 18.467}[len(expected) - 1]
    assert chi2 < critical


def test_sampler_is_seeded_and_in_range():
    a = sample_span_lengths(1000, 0.3, 7, 2, seed=5)
    b = sample_span_lengths(1000, 0.3, 7, 2, seed=5)
    assert np.array_equal(a, b)
    assert a.min() >= 2 and a.max() <= 7
    assert not np.array_equal(a, sample_span_lengths(1000, 0.3, 7, 2, seed=6))


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(p=0.0, max_len=10), ValueError, "(0, 1]"),
    (dict(p=1.5, max_len=10), ValueError, "1.5"),
    (dict(p=-0.2, max_len=10), ValueError, "-0.2"),
    (dict(p="0.2", max_len=10), TypeError, "p must be a real number"),
    (dict(p=0.2, max_len=3, min_len=5), ValueError, "max_len must be >= min_len"),
    (dict(p=0.2, max_len=10, min_len=0), ValueError, "min_len must be an integer >= 1"),
    (dict(p=0.2, max_len=2.5), TypeError, "max_len must be an integer"),
    (dict(p=0.2, max_len=10, mode="round"), ValueError, "mode must be one of"),
])
@pytest.mark.parametrize("fn", [span_length_pmf, expected_span_length])
def test_bad_arguments_name_the_argument(fn, kwargs, error, words):
    with pytest.raises(error, match=None) as info:
        fn(**kwargs)
    assert words in str(info.value)


def test_sampler_rejects_bad_size_and_seed():
    with pytest.raises(ValueError, match="size"):
        sample_span_lengths(-1)
    with pytest.raises(ValueError, match="seed"):
        sample_span_lengths(3, seed=-4)


def _exact_mean(p, max_len, min_len, mode):
    """The mean in exact rational arithmetic, by direct summation over the pmf."""
    from fractions import Fraction

    p = Fraction(p)
    q = 1 - p
    if mode == "truncate":
        weights = [q ** (k - min_len) for k in range(min_len, max_len + 1)]
        return sum(k * w for k, w in zip(range(min_len, max_len + 1), weights)) / sum(weights)
    # clip: P(X = m) = P(G <= m), P(X = n) = P(G >= n), geometric in between
    if min_len == max_len:
        return Fraction(min_len)
    mass = {min_len: 1 - q ** min_len, max_len: q ** (max_len - 1)}
    for k in range(min_len + 1, max_len):
        mass[k] = p * q ** (k - 1)
    return sum(k * w for k, w in mass.items())


@pytest.mark.parametrize("mode", ["truncate", "clip"])
def test_closed_form_is_exact_down_to_tiny_p(mode):
    """Against exact rationals over p from 1 down to 1e-300 (where 1 - p rounds to 1 in floats):
    relative error below 1e-12 everywhere (issue: p=1e-9 gave -18.28, p<=1e-17 divided by zero)."""
    worst = 0.0
    for p in (1.0, 0.999999, 0.5, 0.2, 1e-3, 1e-6, 1e-9, 1e-12, 1e-16, 1e-17, 1e-18, 1e-100, 1e-300):
        for min_len, max_len in ((1, 1), (1, 2), (1, 10), (3, 10), (1, 40), (7, 7)):
            want = float(_exact_mean(p, max_len, min_len, mode))
            got = expected_span_length(p, max_len, min_len, mode=mode)
            worst = max(worst, abs(got - want) / want)
    assert worst < 1e-12, worst


def test_closed_form_for_huge_max_len():
    assert expected_span_length(0.2, 10**400) == pytest.approx(5.0, rel=1e-12)            # 1/p
    assert expected_span_length(0.2, 10**400, mode="clip") == pytest.approx(5.0, rel=1e-12)
    assert expected_span_length(1e-9, 10, mode="clip") == pytest.approx(10.0, rel=1e-8)
