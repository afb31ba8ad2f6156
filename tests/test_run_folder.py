"""The run folder's rules: a user's folder is never clobbered, contradictory flags are refused,
and what a run would silently get wrong is refused or said."""
import json

import pytest

from spanbert_edu.train import TrainConfig, pretrain
from spanbert_edu.train.loop import model_config_for

QUICK = dict(preset="tiny", batch_size=4, max_length=32, steps=2, warmup_steps=1, log_every=1,
             eval_every=2, eval_batches=1, save_every=2, progress=False, echo=lambda *a: None)


@pytest.mark.parametrize("name", ["metrics.jsonl", "loss_curve.png", "eval.json"])
def test_a_users_folder_is_not_clobbered(tmp_path, name):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / name).write_text("the user's own file")
    with pytest.raises(ValueError, match=f"is not a spanbert_edu run but holds {name}"):
        pretrain(out_dir=str(folder), **QUICK)
    assert (folder / name).read_text() == "the user's own file"
    assert sorted(p.name for p in folder.iterdir()) == [name]   # nothing written beside it either


def test_a_users_folder_with_other_files_is_shared_and_overwrite_replaces(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    pretrain(out_dir=str(folder), **QUICK)                     # nothing of ours clashes: allowed
    assert (folder / "notes.txt").read_text() == "keep me"
    assert json.loads((folder / "run.json").read_text()) == {"kind": "pretrain"}
    other = tmp_path / "other"
    other.mkdir()
    (other / "metrics.jsonl").write_text("theirs\n")
    pretrain(out_dir=str(other), overwrite=True, **QUICK)      # asked for: replaced
    assert "theirs" not in (other / "metrics.jsonl").read_text()


def test_our_own_run_is_recognised(tmp_path):
    out = tmp_path / "run"
    pretrain(out_dir=str(out), **QUICK)
    pretrain(out_dir=str(out), resume=True, **QUICK)          # a finished run of ours: fine
    (out / "run.json").unlink()                                # an older run: its checkpoints say so
    pretrain(out_dir=str(out), overwrite=True, **QUICK)


def test_resume_and_overwrite_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="contradict each other"):
        pretrain(out_dir=str(tmp_path / "x"), resume=True, overwrite=True, **QUICK)


def test_resume_into_an_empty_folder_says_so(tmp_path):
    said = []
    pretrain(out_dir=str(tmp_path / "new"), resume=True, **{**QUICK, "echo": said.append})
    assert any("holds no checkpoint yet; starting a new run" in line for line in said)


def test_compile_must_be_a_bool_and_a_long_warmup_warns():
    with pytest.raises(TypeError, match="compile must be True or False, got 'no'"):
        TrainConfig(compile="no")
    with pytest.warns(UserWarning, match="never reaches learning_rate"):
        TrainConfig(steps=10, warmup_steps=30)


@pytest.mark.parametrize("overrides, message", [
    ({"vocab_size": 100}, "vocab_size .100. is smaller than the tokenizer's"),
    ({"pad_token_id": 5}, "model_overrides may not set pad_token_id"),
    ({"sbo_weight": 0.0}, "model_overrides may not set sbo_weight")])
def test_model_overrides_that_disagree_with_the_run_are_refused(tokenizer, overrides, message):
    with pytest.raises(ValueError, match=message):
        model_config_for(TrainConfig(model_overrides=overrides), tokenizer)
