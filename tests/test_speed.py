"""The measured choice of precision and attention path ("auto"), both ways; that a resumed run
keeps the stored choice (so it continues exactly); and that a machine's later runs reuse its
first measurement (so one command gives one result there)."""
import json
from pathlib import Path

import pytest
import torch

import spanbert_edu.devices as devices_module
import spanbert_edu.train.speed as speed
from spanbert_edu import SpanBertConfig, SpanBertForPreTraining, SpanMaskingCollator, load_corpus, load_tokenizer
from spanbert_edu.data.packing import pack_documents
from spanbert_edu.train import pretrain

from conftest import crash_log_at

CPU = torch.device("cpu")
ORDER = [("fp32", "sdpa"), ("fp32", "explicit"), ("bf16", "sdpa"), ("bf16", "explicit")]


def times(*seconds):
    return dict(zip(ORDER, seconds))


def test_pick_takes_bf16_where_it_is_faster():
    assert speed.pick(times(1.0, 0.9, 0.6, 0.5)) == ("bf16", "explicit")
    assert speed.pick(times(1.0, 1.1, 0.6, 0.7)) == ("bf16", "sdpa")


def test_pick_keeps_fp32_where_bf16_is_slower_or_within_the_margin():
    assert speed.pick(times(1.0, 1.2, 1.3, 1.1)) == ("fp32", "sdpa")
    assert speed.pick(times(1.0, 0.8, 1.3, 1.1)) == ("fp32", "explicit")
    assert speed.pick(times(1.0, 1.2, 0.97, 1.1)) == ("fp32", "sdpa")     # 3% faster: a tie


def test_candidates_follow_the_settings(monkeypatch):
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: True)
    assert speed.speed_candidates("auto", "auto", CPU) == ORDER
    assert speed.speed_candidates("fp32", "auto", CPU) == ORDER[:2]
    assert speed.speed_candidates("auto", "explicit", CPU) == [ORDER[1], ORDER[3]]
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: False)  # emulated bf16: never tried
    assert speed.speed_candidates("auto", "sdpa", CPU) == [("fp32", "sdpa")]


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """Nothing measured yet: not in this process, nor in this machine's file (a new, empty one)."""
    monkeypatch.setattr(speed, "_measured", {})
    monkeypatch.setenv("SPANBERT_EDU_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "speed.json"


@pytest.fixture(scope="module")
def model_and_batch():
    tok = load_tokenizer()
    batch = SpanMaskingCollator(tok, seed=0)(pack_documents(load_corpus("default", "heldout"), tok, max_length=64)[:4])
    torch.manual_seed(0)
    return SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=len(tok))).train(), batch


def test_measuring_leaves_the_model_as_it_was(model_and_batch):
    model, batch = model_and_batch
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    measured = speed.time_candidates(model, batch, CPU, ORDER[:2], rounds=2)
    assert list(measured) == ORDER[:2] and all(t > 0 for t in measured.values())
    assert all(p.grad is None and torch.equal(p, before[n]) for n, p in model.named_parameters())


@pytest.mark.parametrize("measured,chosen", [((1.0, 1.1, 0.5, 0.6), ("bf16", "sdpa")),
                                             ((1.0, 0.9, 1.5, 1.6), ("fp32", "explicit"))])
def test_resolve_speed_measures_auto_both_ways(model_and_batch, monkeypatch, fresh, measured, chosen):
    model, batch = model_and_batch
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: times(*measured))
    lines = []
    assert speed.resolve_speed("auto", "auto", CPU, model, batch, echo=lines.append) == chosen
    assert {m.path for m in model.modules() if hasattr(m, "path")} == {chosen[1]}
    assert "training with " + ", ".join(chosen) in lines[0]


def test_given_or_stored_settings_are_not_measured(model_and_batch, monkeypatch):
    model, batch = model_and_batch
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: pytest.fail("measured"))
    assert speed.resolve_speed("fp32", "explicit", CPU, model, batch) == ("fp32", "explicit")
    stored = {"precision": "bf16", "attention": "sdpa"}
    assert speed.resolve_speed("auto", "auto", CPU, model, batch, stored) == ("bf16", "sdpa")
    assert speed.resolve_speed("fp32", "auto", CPU, model, batch, stored) == ("fp32", "sdpa")


QUICK = dict(preset="tiny", batch_size=8, max_length=64, steps=6, warmup_steps=2, log_every=1,
             eval_every=3, eval_batches=2, save_every=3, progress=False, echo=lambda *a: None)


def stored_settings(run, step):
    train = json.loads((Path(run) / "checkpoints" / f"step-{step:06d}" / "config.json").read_text())["train"]
    return train["precision"], train["attention"]


def test_a_resume_keeps_the_stored_choice_and_continues_exactly(tmp_path, monkeypatch, fresh):
    """The first run measures (bf16, explicit); the resume measures nothing and takes the stored
    choice: its weights equal an uninterrupted run's."""
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: times(1.0, 1.0, 1.0, 0.5))
    pretrain(out_dir=str(tmp_path / "whole"), **QUICK)
    restore = crash_log_at(monkeypatch, 5)
    with pytest.raises(KeyboardInterrupt):
        pretrain(out_dir=str(tmp_path / "cut"), **QUICK)
    restore()
    assert stored_settings(tmp_path / "whole", 6) == stored_settings(tmp_path / "cut", 3) == ("bf16", "explicit")
    monkeypatch.setattr(speed, "_measured", {})
    fresh.unlink()  # neither this process nor the machine's file remembers the measurement
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: pytest.fail("a resume measured"))
    pretrain(out_dir=str(tmp_path / "cut"), resume=True, **QUICK)
    assert stored_settings(tmp_path / "cut", 6) == ("bf16", "explicit")
    from safetensors.torch import load_file

    a, b = (load_file(str(tmp_path / r / "checkpoints" / "step-000006" / "model.safetensors")) for r in ("whole", "cut"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_later_process_on_the_machine_reuses_the_first_measurement(model_and_batch, monkeypatch, fresh):
    """The first run measures and writes the file; a new process (nothing in memory) that would
    measure otherwise takes the file's times, so the same command trains the same way."""
    model, batch = model_and_batch
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: times(1.0, 1.0, 1.0, 0.5))
    lines = []
    assert speed.resolve_speed("auto", "auto", CPU, model, batch, echo=lines.append) == ("bf16", "explicit")
    assert "measured now, kept in" in lines[0] and fresh.exists()
    monkeypatch.setattr(speed, "_measured", {})
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: times(0.5, 1.0, 1.0, 1.0))
    assert speed.resolve_speed("auto", "auto", CPU, model, batch, echo=lines.append) == ("bf16", "explicit")
    assert "measured earlier on this machine" in lines[1]
    # another batch shape, or other candidates, is another measurement
    short = {k: v[:, :32] for k, v in batch.items()}
    assert speed.resolve_speed("auto", "auto", CPU, model, short) == ("fp32", "sdpa")
    assert speed.resolve_speed("auto", "sdpa", CPU, model, batch) == ("fp32", "sdpa")
    assert len(json.loads(fresh.read_text())) == 3


@pytest.mark.parametrize("damage", ["{not json", "[1, 2]", "\\u0000", "NaN", "-1", '"fast"', "null", "{}"])
def test_a_damaged_file_or_entry_is_measured_again_and_rewritten(model_and_batch, monkeypatch, fresh, damage):
    """Damage to the whole file, or to this run's own entry (a NaN, a negative or a text time, a
    missing candidate), means: measure again and write the entry anew."""
    model, batch = model_and_batch
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: times(1.0, 1.0, 1.0, 0.5))
    speed.resolve_speed("auto", "auto", CPU, model, batch)             # writes this run's entry
    (key,) = json.loads(fresh.read_text())
    if damage.startswith(("{n", "[", "\\")):                           # the whole file
        fresh.write_text(damage)
    elif damage == "{}":                                               # an entry with no times
        fresh.write_text(json.dumps({key: {}}))
    else:                                                              # one bad time in the entry
        entry = {**dict.fromkeys(map(" ".join, ORDER), 1.0), "bf16 sdpa": json.loads(damage)}
        fresh.write_text(json.dumps({key: entry}))
    monkeypatch.setattr(speed, "_measured", {})
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: times(1.0, 1.0, 0.5, 1.0))
    assert speed.resolve_speed("auto", "auto", CPU, model, batch) == ("bf16", "sdpa")
    assert json.loads(fresh.read_text()) == {key: {"fp32 sdpa": 1.0, "fp32 explicit": 1.0, "bf16 sdpa": 0.5,
                                                   "bf16 explicit": 1.0}}
    assert not list(fresh.parent.glob(".speed-*"))                       # no temporary file left


def test_runs_starting_together_measure_once_and_choose_alike(model_and_batch, monkeypatch, fresh):
    """Two runs start at once with nothing kept: the second waits on the file's lock while the
    first measures, then takes the first's entry, even though it would have measured otherwise."""
    import threading
    import time

    model, batch = model_and_batch
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: True)
    calls = []

    def slow_measurement(*args, **kwargs):
        calls.append(threading.current_thread().name)
        time.sleep(0.5)
        return times(1.0, 1.0, 1.0, 0.5) if len(calls) == 1 else times(0.5, 1.0, 1.0, 1.0)

    monkeypatch.setattr(speed, "time_candidates", slow_measurement)
    chosen = {}

    def run(name):
        chosen[name] = speed.measure(model, batch, CPU, ORDER)

    first = threading.Thread(target=run, args=("first",), name="first")
    second = threading.Thread(target=run, args=("second",), name="second")
    first.start()
    time.sleep(0.1)
    second.start()
    first.join(), second.join()
    assert calls == ["first"]
    assert speed.pick(chosen["first"][0]) == speed.pick(chosen["second"][0]) == ("bf16", "explicit")
    assert chosen["second"][1].startswith("measured earlier")


def test_no_file_when_the_cache_is_off(model_and_batch, monkeypatch, tmp_path):
    model, batch = model_and_batch
    monkeypatch.setattr(devices_module, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(speed, "_measured", {})
    monkeypatch.setenv("SPANBERT_EDU_CACHE", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(speed, "time_candidates", lambda *a, **k: times(1.0, 1.0, 1.0, 0.5))
    lines = []
    assert speed.resolve_speed("auto", "auto", CPU, model, batch, echo=lines.append) == ("bf16", "explicit")
    assert "(measured now)" in lines[0] and not any(tmp_path.rglob("*.json"))
