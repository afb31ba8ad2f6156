"""Fault injection: SIGKILL a training process (``pretrain``, then ``finetune``) at chosen and
random moments (during a save's rename, during the pruning of an old checkpoint, mid-step),
resume each time, and check that the run ends bit-identical to an uninterrupted one."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from safetensors.torch import load_file

ARGS = ["pretrain", "--preset", "tiny", "--steps", "16", "--batch-size", "4", "--max-length", "32",
        "--warmup", "2", "--save-every", "2", "--eval-every", "8", "--log-every", "1", "--no-report"]

# Runs the CLI with os.replace (the atomic rename of a save) and shutil.rmtree (pruning) slowed
# down and announced in a marker file, so that the test can kill the process inside them.
WRAPPER = """
import os, shutil, sys, time
marker = os.environ["FAULT_MARKER"]
def announce(event, real, which):
    def slow(*args, **kwargs):
        if os.path.basename(str(args[which])).startswith("step-"):  # a checkpoint, not a temp folder
            with open(marker, "a") as f:
                f.write(event + "\\n")
            time.sleep(0.3)
        return real(*args, **kwargs)
    return slow
os.replace = announce("replace", os.replace, 1)       # tmp -> step-N: the save's rename
shutil.rmtree = announce("rmtree", shutil.rmtree, 0)   # step-N: pruning an old checkpoint
from spanbert_edu.cli import main
main(sys.argv[1:])
"""


def _corpus(root: Path) -> Path:
    """A small folder corpus, so that each process starts in seconds (no bundled-corpus build)."""
    folder = root / "corpus"
    folder.mkdir(exist_ok=True)
    words = "the model reads a span of text and predicts each masked word from its context".split()
    for d in range(30):
        sentences = [" ".join(words[(d + k + j) % len(words)] for j in range(12)).capitalize() + "."
                     for k in range(20)]
        (folder / f"doc{d:02d}.txt").write_text(" ".join(sentences))
    return folder


def _env(marker):
    return {**os.environ, "OMP_NUM_THREADS": "1", "FAULT_MARKER": str(marker), "PYTHONHASHSEED": "0"}


def _start(out, marker, args=None):
    args = args or [*ARGS, "--corpus", str(out.parent / "corpus")]
    return subprocess.Popen([sys.executable, "-c", WRAPPER, *args, "--out", str(out), "--resume"],
                            env=_env(marker), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_at(proc, marker, event, count, timeout=120):
    """SIGKILL ``proc`` as soon as ``event`` has been announced ``count`` times."""
    start = time.time()
    while time.time() - start < timeout:
        lines = marker.read_text().split() if marker.exists() else []
        if lines.count(event) >= count:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    raise TimeoutError(event)


def _final(out):
    ck = sorted((Path(out) / "checkpoints").glob("step-*"))[-1]
    rows = [json.loads(x) for x in (Path(out) / "metrics.jsonl").read_text().splitlines()]
    return ck.name, load_file(str(ck / "model.safetensors")), [{k: v for k, v in r.items() if k != "tokens_per_s"} for r in rows]


def test_sigkill_anywhere_then_resume_is_bit_identical(tmp_path):
    corpus = _corpus(tmp_path)
    ref_marker = tmp_path / "ref.marker"
    subprocess.run([sys.executable, "-c", WRAPPER, *ARGS, "--corpus", str(corpus), "--out", str(tmp_path / "ref")],
                   env=_env(ref_marker), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out, rng = tmp_path / "victim", random.Random(0)
    kills = [("replace", 2), ("rmtree", 1)]                             # inside a save, inside a prune
    for event, count in kills:
        marker = tmp_path / f"m{len(list(tmp_path.glob('m*')))}"
        assert _kill_at(_start(out, marker), marker, event, count), f"finished before {event}"
        for ck in (out / "checkpoints").glob("step-*"):                 # every visible checkpoint is whole
            assert {"model.safetensors", "config.json", "training_state.pt"} <= {p.name for p in ck.iterdir()}
    for _ in range(1):                                                 # and at a random moment
        proc = _start(out, tmp_path / "random.marker")
        time.sleep(rng.uniform(1.0, 4.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    subprocess.run([sys.executable, "-c", WRAPPER, *ARGS, "--corpus", str(corpus), "--out", str(out), "--resume"],
                   env=_env(tmp_path / "last.marker"), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (name_a, weights_a, log_a), (name_b, weights_b, log_b) = _final(tmp_path / "ref"), _final(out)
    assert name_a == name_b == "step-000016"
    assert all((weights_a[k] == weights_b[k]).all() for k in weights_a)
    assert log_a == log_b


def _squad_file(root: Path) -> Path:
    """A small SQuAD v1.1 file (the same one trains and evaluates), so each process starts fast."""
    words = "the model reads a span of text and points at the start and end of the answer".split()
    data = []
    for d in range(24):
        context = " ".join(words[(d + j) % len(words)] for j in range(30))
        answer = " ".join(context.split()[5:8])
        data.append({"title": f"t{d}", "paragraphs": [{"context": context, "qas": [
            {"id": f"q{d}", "question": f"which words follow {context.split()[4]}",
             "answers": [{"text": answer, "answer_start": context.index(" " + answer) + 1}]}]}]})
    path = root / "squad.json"
    path.write_text(json.dumps({"version": "1.1", "data": data}))
    return path


def test_finetune_sigkill_then_resume_is_bit_identical(tmp_path):
    squad = _squad_file(tmp_path)
    args = ["finetune", "--train-file", str(squad), "--eval-file", str(squad), "--init", "scratch", "--preset", "tiny",
            "--steps", "12", "--batch-size", "4", "--max-length", "48", "--max-question-length", "12",
            "--doc-stride", "16", "--warmup", "2", "--save-every", "2", "--log-every", "1"]
    subprocess.run([sys.executable, "-c", WRAPPER, *args, "--out", str(tmp_path / "ref")],
                   env=_env(tmp_path / "ref.marker"), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = tmp_path / "victim"
    for event, count in [("replace", 2), ("rmtree", 1)]:              # inside a save, inside a prune
        marker = tmp_path / f"m-{event}"
        assert _kill_at(_start(out, marker, args), marker, event, count), f"finished before {event}"
        for ck in (out / "checkpoints").glob("step-*"):
            assert {"model.safetensors", "config.json", "training_state.pt"} <= {p.name for p in ck.iterdir()}
    assert not (out / "eval.json").exists()                            # killed runs leave no scores
    subprocess.run([sys.executable, "-c", WRAPPER, *args, "--out", str(out), "--resume"],
                   env=_env(tmp_path / "last.marker"), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (name_a, weights_a, log_a), (name_b, weights_b, log_b) = _final(tmp_path / "ref"), _final(out)
    assert name_a == name_b == "step-000012"
    assert all((weights_a[k] == weights_b[k]).all() for k in weights_a)
    assert log_a == log_b
    for name in ("predictions.json", "eval.json"):
        assert (tmp_path / "ref" / name).read_text() == (out / name).read_text()
