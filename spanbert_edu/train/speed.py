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

The choice is printed and stored in the run's settings (its checkpoints' ``config.json``); a
resumed run given "auto" takes the stored choice, so a resume stays exact. A process measures
each (model, batch shapes, device, candidates) once, so runs in one session (a notebook, the
tests) agree. To repeat a run bit for bit in a new process, pass the precision and attention it
printed.
"""
from __future__ import annotations

import json
import time

import torch

from ..attention import ATTENTION_PATHS
from ..devices import precision_candidates
from ..model import set_attention_path

MARGIN = 0.05  # an earlier candidate wins when within 5% of the fastest
ROUNDS = 3     # the first is a warm-up
_measured: dict = {}  # this process's measurements, by what was measured


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


def resolve_speed(precision: str, attention: str, device: torch.device, model, batch: dict | None,
                  stored: dict | None = None, echo=None, world: int = 1) -> tuple[str, str]:
    """The run's (precision, attention): as given, or for "auto" the ``stored`` run's choice (a
    resume) or the fastest measured on ``batch``. Sets the model to that attention path."""
    stored = stored or {}
    if precision == "auto" and stored.get("precision") in ("fp32", "bf16"):
        precision = stored["precision"]
    if attention == "auto" and stored.get("attention") in ATTENTION_PATHS:
        attention = stored["attention"]
    candidates = speed_candidates(precision, attention, device)
    choice = candidates[0]
    if len(candidates) > 1 and batch is not None:
        key = (str(device), type(model).__name__, json.dumps(model.config.to_dict(), sort_keys=True),
               tuple((k, tuple(v.shape)) for k, v in batch.items()), tuple(candidates))
        if key not in _measured:
            _measured[key] = time_candidates(model, batch, device, candidates)
        choice = pick(_measured[key])
        if world > 1:  # every rank must train the same way: rank 0's measurement decides
            shared = [choice]
            torch.distributed.broadcast_object_list(shared, src=0)
            choice = tuple(shared[0])
        if echo is not None:
            echo("speed: " + ", ".join(f"{p} {a} {t * 1e3:.0f} ms" for (p, a), t in _measured[key].items())
                 + f" per forward-backward; training with {choice[0]}, {choice[1]} attention")
    set_attention_path(model, choice[1])
    return choice
