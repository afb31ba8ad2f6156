"""The parts of a training step that the speed work changed, timed alone: dropout (torch's mask
vs ours) and one layer's attention (SDPA with and without a mask vs the explicit form), forward +
backward, in fp32 and under bf16 autocast, at the ``small`` preset's shapes.

    python benchmarks/step_parts.py [--batch-size 32] [--max-length 128] [--reps 15]

The variants of each part are interleaved rep by rep (so a drift of the machine's speed hits
them alike) and the median is printed, with each variant's ratio to the first of its part.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from spanbert_edu.attention import attention
from spanbert_edu.dropout import dropout


def timed(fn, make_input, precision):
    """Seconds of one forward + backward of ``fn`` on a fresh input."""
    x = make_input()
    t0 = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        y = fn(*x) if isinstance(x, tuple) else fn(x)
    y.float().sum().backward()
    return time.perf_counter() - t0


def compare(title, variants, make_input, precision, reps):
    times = {name: [] for name in variants}
    for _ in range(reps + 1):                                   # the first round warms up
        for name, fn in variants.items():
            times[name].append(timed(fn, make_input, precision))
    medians = {name: statistics.median(t[1:]) for name, t in times.items()}
    first = next(iter(medians.values()))
    for name, m in medians.items():
        print(f"| {title} | {precision} | {name} | {m * 1e3:.1f} | {first / m:.2f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    B, L, H, nh = args.batch_size, args.max_length, 256, 4
    keep = torch.ones(B, L, dtype=torch.bool)
    keep[::4, L * 3 // 4:] = False                               # a quarter of the rows padded
    print(f"batch {B} x {L}, hidden {H}, {nh} heads, {torch.get_num_threads()} CPU threads; "
          f"median of {args.reps} forward + backward passes (ms)\n")
    print("| part | precision | variant | ms | speed vs the first |")
    print("|---|---|---|---:|---:|")
    for precision in ("fp32", "bf16"):
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        hidden = lambda: torch.randn(B, L, H, dtype=dtype, requires_grad=True)
        compare("dropout 0.1 of (B, L, H)", {"torch F.dropout": lambda x: F.dropout(x, 0.1, True),
                                             "spanbert_edu dropout": lambda x: dropout(x, 0.1)},
                hidden, precision, args.reps)
        qkv = lambda: tuple(torch.randn(B, nh, L, H // nh, dtype=dtype, requires_grad=True) for _ in range(3))
        compare("attention, dropout 0.1", {
            "SDPA, padding mask": lambda q, k, v: attention(q, k, v, keep, 0.1, "sdpa")[0],
            "SDPA, no mask (no padding)": lambda q, k, v: attention(q, k, v, None, 0.1, "sdpa")[0],
            "explicit, padding mask": lambda q, k, v: attention(q, k, v, keep, 0.1, "explicit")[0],
            "explicit, no mask (no padding)": lambda q, k, v: attention(q, k, v, None, 0.1, "explicit")[0]},
            qkv, precision, args.reps)
        compare("attention, no dropout", {
            "SDPA, padding mask": lambda q, k, v: attention(q, k, v, keep, 0.0, "sdpa")[0],
            "SDPA, no mask (no padding)": lambda q, k, v: attention(q, k, v, None, 0.0, "sdpa")[0],
            "explicit, padding mask": lambda q, k, v: attention(q, k, v, keep, 0.0, "explicit")[0]},
            qkv, precision, args.reps)


if __name__ == "__main__":
    main()
