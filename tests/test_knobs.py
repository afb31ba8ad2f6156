"""One source of truth per knob: TrainConfig carries the masking settings, the collator is built
from them, the model and the collator agree on max_span_targets, and the loss knobs have one home."""
import dataclasses

import pytest

from spanbert_edu import SpanMaskingCollator
from spanbert_edu.cli import main
from spanbert_edu.masking import MaskingConfig
from spanbert_edu.train import TrainConfig, pretrain
from spanbert_edu.train.loop import model_config_for

QUICK = dict(preset="tiny", batch_size=4, max_length=32, steps=2, warmup_steps=1, log_every=1,
             eval_every=2, eval_batches=1, save_every=2, progress=False, echo=lambda *a: None)


def test_train_config_carries_every_masking_field_with_its_default():
    masking = {f.name: f.default for f in dataclasses.fields(MaskingConfig)}
    train = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    assert masking.items() <= train.items()
    assert TrainConfig().masking == MaskingConfig()


def test_the_collator_is_built_from_the_run_settings(tokenizer):
    cfg = TrainConfig(mlm_probability=0.3, geometric_p=0.4, max_span_length=5, mask_replace_prob=0.7,
                      random_replace_prob=0.2, replacement="token", max_span_targets=8)
    collator = SpanMaskingCollator.from_config(tokenizer, cfg.masking, seed=0)
    assert collator.config == cfg.masking
    assert collator.config.mlm_probability == 0.3 and collator.config.max_span_targets == 8
    assert collator([[tokenizer.cls_token_id] + [100] * 40 + [tokenizer.sep_token_id]])["span_labels"].shape[-1] == 8


def test_bad_masking_settings_are_refused_under_their_train_config_names():
    with pytest.raises(ValueError, match=r"mlm_probability must be in the open interval \(0, 1\), got 1.0"):
        TrainConfig(mlm_probability=1.0)
    with pytest.raises(ValueError, match=r"mask_replace_prob \+ random_replace_prob must be <= 1"):
        TrainConfig(mask_replace_prob=0.9, random_replace_prob=0.2)
    with pytest.raises(ValueError, match="span_length_mode must be one of"):
        TrainConfig(span_length_mode="both")


@pytest.mark.parametrize("rows", [10, 20])
def test_model_and_collator_must_agree_on_max_span_targets(tmp_path, rows):
    # 10 rows used to crash in the first step (15 targets per span), 20 silently trained on 15.
    with pytest.raises(ValueError, match=rf"max_span_targets: the model's SBO position table has {rows} rows"):
        pretrain(out_dir=str(tmp_path), model_overrides={"max_span_targets": rows}, **QUICK)
    assert not (tmp_path / "checkpoints").exists()  # refused before anything was trained


def test_max_span_targets_set_once_reaches_model_and_collator(tokenizer):
    model_cfg = model_config_for(TrainConfig(max_span_targets=20), tokenizer)
    assert model_cfg.max_span_targets == 20
    assert model_config_for(TrainConfig(), tokenizer).max_span_targets == MaskingConfig().max_span_targets


@pytest.mark.parametrize("name, value", [("sbo_weight", 0.5), ("pair_objective", "nsp")])
def test_loss_knobs_have_one_home(tokenizer, name, value):
    with pytest.raises(ValueError, match=f"model_overrides may not set {name}"):
        model_config_for(TrainConfig(model_overrides={name: value}), tokenizer)
    assert getattr(model_config_for(TrainConfig(**{name: value}), tokenizer), name) == value


def test_masking_flags_are_built_from_the_fields(tmp_path, monkeypatch):
    seen = {}
    # a stand-in for pretrain that records the config; "checkpoint": None ends the command there
    monkeypatch.setattr("spanbert_edu.train.pretrain", lambda cfg, **kw: {"checkpoint": None, **seen.setdefault("c", {"cfg": cfg})})
    main(["pretrain", "--mlm-probability", "0.25", "--geometric-p", "0.3", "--max-span-length", "6",
          "--random-replace-prob", "0.05", "--replacement", "token", "--out", str(tmp_path), "--no-report"])
    cfg = seen["c"]["cfg"]
    assert (cfg.mlm_probability, cfg.geometric_p, cfg.max_span_length) == (0.25, 0.3, 6)
    assert (cfg.random_replace_prob, cfg.replacement) == (0.05, "token")
