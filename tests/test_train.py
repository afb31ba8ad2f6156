"""Pretraining: logs, checkpoints, exact resume, faults, the command line, data parallel."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from spanbert_edu.checkpoint import load_model, load_training_state, save_checkpoint
from spanbert_edu.cli import main
from spanbert_edu.heads import SpanBertForPreTraining
from spanbert_edu.model import SpanBertConfig
from spanbert_edu.train import TrainConfig, pretrain

from conftest import crash_log_at

QUICK = dict(preset="tiny", batch_size=8, max_length=64, steps=8, warmup_steps=2, log_every=1,
             eval_every=4, eval_batches=2, save_every=4, progress=False, echo=lambda *a: None)


def weights(run_dir):
    ckpt = sorted((Path(run_dir) / "checkpoints").glob("step-*"))[-1]
    return load_file(str(ckpt / "model.safetensors"))


def log_rows(run_dir):
    rows = [json.loads(x) for x in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "tokens_per_s"} for r in rows]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    pretrain(out_dir=str(out), **QUICK)
    return out


def test_run_writes_metrics_and_checkpoints(full_run):
    rows = log_rows(full_run)
    train = [r for r in rows if r["split"] == "train"]
    assert [r["step"] for r in train] == list(range(1, 9))
    assert set(train[0]) >= {"step", "lr", "mlm_loss", "sbo_loss", "mlm_acc", "sbo_acc"}
    assert [r["step"] for r in rows if r["split"] == "heldout"] == [4, 8]
    ckpts = sorted(p.name for p in (full_run / "checkpoints").iterdir())
    assert ckpts == ["step-000004", "step-000008"]
    meta = json.loads((full_run / "checkpoints" / "step-000008" / "config.json").read_text())
    assert meta["step"] == 8 and meta["model"]["hidden_size"] == 64
    assert train[-1]["mlm_loss"] < train[0]["mlm_loss"]


def test_same_seed_same_weights(full_run, tmp_path):
    pretrain(out_dir=str(tmp_path), **QUICK)
    a, b = weights(full_run), weights(tmp_path)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_interrupted_run_resumes_exactly(full_run, tmp_path, monkeypatch):
    restore = crash_log_at(monkeypatch, 6)
    with pytest.raises(KeyboardInterrupt):
        pretrain(out_dir=str(tmp_path), **QUICK)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-000004"]
    restore()
    pretrain(out_dir=str(tmp_path), resume=True, **QUICK)
    a, b = weights(full_run), weights(tmp_path)
    assert all(torch.equal(a[k], b[k]) for k in a)              # bit for bit
    assert log_rows(tmp_path) == log_rows(full_run)              # the log continues exactly


def test_nan_loss_stops_with_the_step(tmp_path, monkeypatch):
    real_forward = SpanBertForPreTraining.forward
    calls = {"n": 0}

    def poisoned(self, *args, **kwargs):
        out = real_forward(self, *args, **kwargs)
        calls["n"] += 1
        if self.training and calls["n"] == 3:
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(SpanBertForPreTraining, "forward", poisoned)
    with pytest.raises(FloatingPointError, match="loss became nan at step 3"):
        pretrain(out_dir=str(tmp_path), **QUICK)


def test_bad_checkpoints_fail_clearly(full_run, tmp_path):
    good = full_run / "checkpoints" / "step-000008"
    with pytest.raises(ValueError, match="has another config"):
        load_model(good, expected_config=SpanBertConfig.preset("tiny", vocab_size=100))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((good / "config.json").read_text())
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="SHA-256"):                    # the recorded checksum catches it
        load_model(broken)
    meta = json.loads((good / "config.json").read_text())
    del meta["sha256"]                                                  # an older checkpoint: no checksum
    (broken / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="missing or corrupt"):
        load_model(broken)
    with pytest.raises(ValueError, match="not a checkpoint folder"):
        load_model(tmp_path)
    other = SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=100))
    wrong = save_checkpoint(tmp_path / "wrong", other)
    cfg = json.loads((wrong / "config.json").read_text())
    cfg["model"]["vocab_size"] = 8192                           # config says 8192, weights say 100
    (wrong / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="do not match the SHA-256 recorded for them"):
        load_model(wrong)                                       # the settings digest catches the edit first
    del cfg["sha256"]["model"]                                  # an older checkpoint: no settings digest
    (wrong / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="does not fit its config"):
        load_model(wrong)


def test_training_state_is_never_unpickled(full_run, tmp_path):
    """A training_state.pt carrying an arbitrary object is refused (weights_only loading)."""
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    folder = tmp_path / "evil"
    folder.mkdir()
    torch.save({"optimizer": Evil()}, folder / "training_state.pt")
    model = load_model(full_run / "checkpoints" / "step-000008")
    with pytest.raises(Exception, match="Weights only load failed|Unsupported global"):
        load_training_state(folder, torch.optim.AdamW(model.parameters()))


def test_bad_training_arguments():
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="learning_rate must be a number > 0"):
        TrainConfig(learning_rate=-1.0)
    with pytest.raises(ValueError, match="longer than the position table"):
        pretrain(preset="tiny", max_length=512, steps=1, progress=False, out_dir="/tmp/never")


def test_cli_pretrain_prints_predictions_and_writes_the_figure(tmp_path, capsys):
    main(["pretrain", "--preset", "tiny", "--steps", "6", "--batch-size", "8", "--max-length", "64",
          "--eval-every", "6", "--save-every", "6", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "boundary predictions" in printed and "MLM:" in printed and "SBO:" in printed
    assert (tmp_path / "loss_curve.png").stat().st_size > 10_000


def test_nsp_and_sop_objectives_train(tmp_path):
    for objective in ("nsp", "sop"):
        result = pretrain(out_dir=str(tmp_path / objective), pair_objective=objective,
                          **{**QUICK, "steps": 2, "eval_every": 2, "save_every": 2})
        assert result["model"].config.type_vocab_size == 2
        assert result["model"].cls.seq_relationship is not None


def test_data_parallel_matches_single_process(tmp_path):
    """torchrun with 2 CPU processes (gloo): both ranks end with the same weights, equal to a
    single process on the same global batch (dropout off; tolerance 1e-5 for reduction order)."""
    common = ["--preset", "tiny", "--steps", "4", "--batch-size", "8", "--max-length", "64",
              "--eval-every", "4", "--save-every", "4", "--dropout", "0", "--no-report",
              "--precision", "fp32"]  # fp32: bf16 rounding would depend on each rank's batch shape
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                    "--master_port=29517", "-m", "spanbert_edu", "pretrain", *common,
                    "--out", str(tmp_path / "ddp")], check=True, env=env, capture_output=True)
    subprocess.run([sys.executable, "-m", "spanbert_edu", "pretrain", *common,
                    "--out", str(tmp_path / "single")], check=True, env=env, capture_output=True)
    report = json.loads((tmp_path / "ddp" / "ddp.json").read_text())
    assert report["world_size"] == 2 and report["max_weight_diff_across_ranks"] == 0.0
    a, b = weights(tmp_path / "ddp"), weights(tmp_path / "single")
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5


def test_checkpoints_are_ordered_by_their_number_past_six_digits(tmp_path):
    # step-1000000 sorts before step-999999 as text; resume and pruning must use the number
    from spanbert_edu.checkpoint import checkpoints_by_step, latest_checkpoint
    from spanbert_edu.train.run_folder import save_and_prune

    model = SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=64))
    root = tmp_path / "checkpoints"
    for step in (999_998, 999_999, 1_000_000):
        save_and_prune(root, step, model, keep=2)
    assert [p.name for p in checkpoints_by_step(root)] == ["step-999999", "step-1000000"]
    assert latest_checkpoint(root).name == "step-1000000"


def test_resume_refuses_a_bad_stored_step_before_touching_the_log(tmp_path):
    out = tmp_path / "run"
    pretrain(out_dir=str(out), **{**QUICK, "steps": 4})
    log = (out / "metrics.jsonl").read_text()
    meta_path = out / "checkpoints" / "step-000004" / "config.json"
    for bad in (-4, 2.5, None):
        meta = json.loads(meta_path.read_text())
        meta["step"] = bad
        meta_path.write_text(json.dumps(meta))
        with pytest.raises(ValueError, match="'step' must be an integer >= 0"):
            pretrain(out_dir=str(out), **{**QUICK, "steps": 4}, resume=True)
        assert (out / "metrics.jsonl").read_text() == log
