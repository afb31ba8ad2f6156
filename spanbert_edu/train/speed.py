"""How a run trains fastest: its precision and attention path, measured on its own model and batch.

``precision="auto"`` and ``attention="auto"`` are resolved here, once, when a run starts:

* the candidates: fp32, and bf16 autocast where the device computes bf16 natively
  (``devices.precision_candidates``); SDPA and the explicit attention (:mod:`spanbert_edu.attention`);
* each candidate runs forward and backward of the run's own model on its first batch, in rounds
  that interleave the candidates, so a drift of the machine's speed hits all of them alike; the
  first round is a warm-up and the best of the others counts;
* the fastest wins; but a candidate listed before it, in the order (fp32, sdpa), (fp32, explicit),
  (bf16, sdpa), (bf16, explicit), wins when it is within ``MARGIN`` of the fastest time. fp32 is
  the more exact and SDPA the reference path, so "auto" is never measured slower than fp32, and
  a near tie does not flip from run to run.

Why measure, and not a rule: which is faster depends on the model's size as well as the
machine. On a 2-core Xeon with AMX-BF16, bf16 with the explicit attention is 2.3x fp32 for the
``small`` preset with dropout, but only 1.1x for ``tiny`` without it, and bf16 with SDPA is 0.8x
fp32 there (its matrices are too small to gain, and autocast's casts cost the same); on an H200,
``small`` in bf16 was 0.78x fp32 (docs/gpu.md).

Why a run's choice is remembered: fp32 and bf16 round differently, and the two attention paths
draw different dropout masks, so a choice that flipped between two runs of one command would
give two results from one seed. So the choice is

* printed, and stored in the run's settings (its checkpoints' ``config.json``): a resumed run
  given "auto" takes the stored choice, so a resume stays exact;
* kept in a small file per machine (``$SPANBERT_EDU_CACHE``, else ``~/.cache/spanbert_edu``;
  ``SPANBERT_EDU_CACHE=""`` keeps nothing), by what was measured: the device's name, torch's
  version and threads, the model's config, the batch's shapes and the candidates. The first run
  measures; every later run of the same command on that machine takes the same choice, so it
  repeats bit for bit. Runs that start together take turns on the file's lock, so the later
  ones read the first one's entry; in a data-parallel run rank 0 alone measures and tells the
  others. Delete the file to measure again (after a driver or BIOS change, say).
  To repeat a run on another machine, pass the precision and attention it printed.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from pathlib import Path

import torch

from ..attention import ATTENTION_PATHS
from ..devices import precision_candidates
from ..model import set_attention_path

MARGIN = 0.05  # an earlier candidate wins when within 5% of the fastest
ROUNDS = 3     # the first is a warm-up
_measured: dict = {}  # this process's measurements, by what was measured (the file's, once read)


def speed_candidates(precision: str, attention: str, device: torch.device) -> list[tuple[str, str]]:
    """(precision, attention) pairs "auto" may choose between, the preferred first."""
    paths = ATTENTION_PATHS if attention == "auto" else (attention,)
    return [(p, a) for p in precision_candidates(precision, device) for a in paths]


def time_candidates(model, batch: dict, device: torch.device, candidates, rounds: int = ROUNDS) -> dict:
    """{candidate: seconds}: the best forward + backward of ``model(**batch).loss`` under each
    (precision, attention) after the warm-up round. Takes no optimizer step and clears the
    gradients, so the model is left as it was (but set to the last candidate's path)."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = {c: [] for c in candidates}
    for _ in range(rounds):
        for precision, path in candidates:
            set_attention_path(model, path)
            sync()
            t0 = time.perf_counter()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = model(**batch).loss
            loss.backward()
            sync()
            times[precision, path].append(time.perf_counter() - t0)
    model.zero_grad(set_to_none=True)
    return {c: min(t[1:] or t) for c, t in times.items()}


def pick(times: dict) -> tuple[str, str]:
    """The first candidate (in ``times``' order) within ``MARGIN`` of the fastest."""
    best = min(times.values())
    return next(c for c, t in times.items() if t <= best * (1 + MARGIN))


def cache_file() -> Path | None:
    """The file that keeps this machine's measurements, or None (``SPANBERT_EDU_CACHE=""``, or no
    home folder to put it in)."""
    folder = os.environ.get("SPANBERT_EDU_CACHE")
    if folder is None:
        try:
            folder = str(Path.home() / ".cache" / "spanbert_edu")
        except RuntimeError:  # no HOME and no password entry
            return None
    return Path(folder) / "speed.json" if folder else None


def _hardware(device: torch.device) -> str:
    """What decides the timings besides the model: the processor's name, torch's version, threads."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
            name = next(l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.startswith("model name"))
        except (OSError, StopIteration):
            import platform

            name = platform.processor() or platform.machine()
    return f"{name}; torch {torch.__version__}; {torch.get_num_threads()} threads"


@contextlib.contextmanager
def _locked(path: Path | None):
    """An exclusive lock on ``path``'s ``.lock`` file (POSIX), held while a run reads, measures and
    writes: runs that start together then measure one after the other, and the later ones read
    the first one's entry. Without a lock (no fcntl, a folder that cannot be written) runs go on."""
    handle = None
    if path is not None:
        try:
            import fcntl

            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path.with_name(path.name + ".lock"), "a")
            fcntl.flock(handle, fcntl.LOCK_EX)
        except (ImportError, OSError):
            if handle is not None:
                handle.close()
            handle = None
    try:
        yield
    finally:
        if handle is not None:
            handle.close()  # closing the file releases the lock


def _read_cache(path: Path | None) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError, RecursionError):
        return {}  # missing or damaged: measure again (and rewrite it)
    return data if isinstance(data, dict) else {}


def _times_from(entry, candidates) -> dict | None:
    """A stored entry's seconds for ``candidates``, or None unless each is a finite number > 0."""
    try:
        times = {c: float(entry[" ".join(c)]) for c in candidates}
    except (TypeError, KeyError, ValueError):
        return None
    return times if all(math.isfinite(t) and t > 0 for t in times.values()) else None


def _write_cache(path: Path, data: dict) -> bool:
    """Atomically (a temporary file, then a rename); False where the folder cannot be written."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".speed-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return False


def _shown(path: Path) -> str:
    """``path`` with the home folder written ``~``, as a user would type it."""
    try:
        return str(Path("~") / path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


def measure(model, batch: dict, device: torch.device, candidates) -> tuple[dict, str]:
    """{candidate: seconds} for this model and batch shape, and where it came from: this process's
    earlier measurement, this machine's file, or a measurement now (then added to the file)."""
    key = json.dumps([_hardware(device), type(model).__name__, model.config.to_dict(),
                      {k: list(v.shape) for k, v in batch.items()}, [" ".join(c) for c in candidates]],
                     sort_keys=True)
    if key in _measured:
        return _measured[key], "measured earlier in this process"
    path = cache_file()
    with _locked(path):
        data = _read_cache(path)
        times = _times_from(data.get(key), candidates)
        if times is not None:
            source = f"measured earlier on this machine, kept in {_shown(path)}"
        else:
            times = time_candidates(model, batch, device, candidates)
            data[key] = {" ".join(c): t for c, t in times.items()}
            if path is None:
                source = "measured now"
            elif _write_cache(path, data):
                source = f"measured now, kept in {_shown(path)}"
            else:
                source = f"measured now; could not keep it in {_shown(path)}"
    _measured[key] = times
    return times, source


def resolve_speed(precision: str, attention: str, device: torch.device, model, batch: dict | None,
                  stored: dict | None = None, echo=None, world: int = 1) -> tuple[str, str]:
    """The run's (precision, attention): as given, or for "auto" the ``stored`` run's choice (a
    resume), or the fastest on ``batch`` (:func:`measure`). Sets the model to that attention path."""
    stored = stored or {}
    if precision == "auto" and stored.get("precision") in ("fp32", "bf16"):
        precision = stored["precision"]
    if attention == "auto" and stored.get("attention") in ATTENTION_PATHS:
        attention = stored["attention"]
    candidates = speed_candidates(precision, attention, device)
    choice = candidates[0]
    if len(candidates) > 1 and batch is not None:
        # every rank must train the same way: rank 0 alone measures (and keeps it), then tells
        first = world == 1 or torch.distributed.get_rank() == 0
        if first:
            times, source = measure(model, batch, device, candidates)
            choice = pick(times)
        if world > 1:
            shared = [choice]
            torch.distributed.broadcast_object_list(shared, src=0)
            choice = tuple(shared[0])
        if echo is not None and first:
            echo("speed: " + ", ".join(f"{p} {a} {t * 1e3:.0f} ms" for (p, a), t in times.items())
                 + f" per forward-backward ({source}); training with {choice[0]}, {choice[1]} attention")
    set_attention_path(model, choice[1])
    return choice
