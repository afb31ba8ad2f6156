"""Hypothesis fuzzing of the public API: any input either gives a valid result or raises
ValueError/TypeError naming what is wrong -- never another exception."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanbert_edu import SpanMaskingCollator, load_tokenizer
from spanbert_edu.model import SpanBertConfig
from spanbert_edu.spans import expected_span_length, sample_span_lengths, span_length_pmf
from spanbert_edu.train import TrainConfig

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(10**20, 10**30),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4),
                     st.lists(st.integers(-3, 3), max_size=3), st.sampled_from([np.int64(3), np.float32(0.2)]))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _allowed(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        assert str(err), "an error must say what is wrong"
        return err


@FUZZ
@given(p=ANYTHING, max_len=ANYTHING, min_len=ANYTHING, mode=st.one_of(ANYTHING, st.sampled_from(["truncate", "clip"])))
def test_span_functions(p, max_len, min_len, mode):
    mean = _allowed(expected_span_length, p, max_len, min_len, mode=mode)
    if isinstance(mean, float):
        assert not math.isnan(mean) and min_len <= mean <= max_len + 1e-9 * max_len
    if isinstance(max_len, int) and isinstance(min_len, int) and max_len - min_len < 10_000:
        pmf = _allowed(span_length_pmf, p, max_len, min_len, mode=mode)
        if isinstance(pmf, np.ndarray):
            assert abs(pmf.sum() - 1) < 1e-9 and (pmf >= 0).all()


@FUZZ
@given(size=ANYTHING, seed=ANYTHING)
def test_sampler_arguments(size, seed):
    if isinstance(size, int) and not isinstance(size, bool) and size > 10_000:
        return
    out = _allowed(sample_span_lengths, size, seed=seed)
    if isinstance(out, np.ndarray):
        assert ((out >= 1) & (out <= 10)).all()


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


COLLATOR_ARGS = ["scheme", "mlm_probability", "geometric_p", "max_span_length", "replacement", "seed",
                 "min_span_length", "span_length_mode", "mask_replace_prob", "random_replace_prob",
                 "random_token_dist", "max_span_targets", "pad_to_multiple_of", "return_tensors"]


@FUZZ
@given(name=st.sampled_from(COLLATOR_ARGS), value=ANYTHING,
       ids=st.lists(st.integers(-2, 9000), min_size=0, max_size=12))
def test_collator_arguments_and_inputs(tok, name, value, ids):
    collator = _allowed(SpanMaskingCollator, tok, **{name: value})
    if isinstance(collator, SpanMaskingCollator):
        batch = _allowed(collator, [{"input_ids": ids}])
        if isinstance(batch, dict):
            assert batch["input_ids"].shape == batch["labels"].shape


MODEL_FIELDS = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "type_vocab_size",
                "hidden_dropout_prob", "layer_norm_eps", "initializer_range", "pad_token_id", "sbo_weight",
                "pair_objective", "max_span_targets"]
TRAIN_FIELDS = ["preset", "max_length", "batch_size", "steps", "learning_rate", "warmup_steps", "weight_decay",
                "max_grad_norm", "scheme", "sbo_weight", "seed", "precision", "pair_objective", "model_overrides"]


@FUZZ
@given(name=st.sampled_from(MODEL_FIELDS), value=ANYTHING)
def test_model_config(name, value):
    _allowed(SpanBertConfig, **{name: value})


@FUZZ
@given(name=st.sampled_from(TRAIN_FIELDS), value=ANYTHING)
def test_train_config(name, value):
    cfg = _allowed(TrainConfig, **{name: value})
    if isinstance(cfg, TrainConfig) and name in ("learning_rate", "weight_decay", "max_grad_norm", "sbo_weight"):
        assert not math.isnan(getattr(cfg, name))
