"""Where a run computes and in what precision: the device, bf16 support, data-parallel ranks.

``resolve_device("auto")`` is CUDA when present, else the CPU. ``precision_candidates("auto", d)``
is what "auto" may choose there: fp32, and bf16 autocast on a CUDA GPU that supports it or a CPU
with native bf16 (``cpu_supports_bf16``); a run measures which is faster
(:mod:`spanbert_edu.train.speed`).
"""
from __future__ import annotations

import os

import torch

from ._checks import check_choice


PRECISIONS = ("auto", "fp32", "bf16")  # the choices of --precision


def resolve_device(device: str = "auto") -> torch.device:
    """"auto" -> CUDA when present, else the CPU; otherwise a device torch knows and can use."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r} ({err})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but no CUDA GPU is available here; use 'auto' or 'cpu'")
    return resolved


def cpu_supports_bf16() -> bool:
    """True when this CPU has native bf16 arithmetic (AVX512_BF16 or AMX-BF16), as torch's own
    CPU feature detection reports it. Without it, bf16 autocast on a CPU is emulated and slower."""
    caps = getattr(torch.cpu, "get_capabilities", None)  # torch >= 2.5
    if caps is not None:
        found = caps()
        return bool(found.get("avx512_bf16") or found.get("amx_bf16"))
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(probe is not None and probe())


def precision_candidates(precision: str, device: torch.device) -> tuple[str, ...]:
    """The precisions ``precision`` may mean on ``device``: itself, or for ``"auto"`` fp32 and,
    where the hardware computes bf16 natively, bf16 (emulated bf16 is slower, so never tried).

    bf16 means ``torch.autocast`` for the forward pass: weights, optimizer state and checkpoints
    stay fp32, the residual stream stays fp32, and the losses (cross-entropy over the vocabulary,
    with its softmax) are computed in fp32 (see ``heads._mean_ce``)."""
    check_choice("precision", precision, PRECISIONS)
    if precision != "auto":
        return (precision,)
    if device.type == "cuda":
        native = torch.cuda.is_bf16_supported()
    else:
        native = device.type == "cpu" and cpu_supports_bf16()
    return ("fp32", "bf16") if native else ("fp32",)


def _distributed():
    """(rank, world_size), initialising torch.distributed under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return (torch.distributed.get_rank() if world > 1 else 0), world
