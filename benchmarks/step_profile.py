"""Where a training step's time goes, and the share of GEMM peak its matrix multiplies reach alone.

    python benchmarks/step_profile.py [--preset small] [--batch-size 32] [--max-length 128] [--steps 3]

For each precision (fp32; bf16 autocast where the CPU has it natively), with the explicit
attention (what "auto" took for ``small`` on every CPU measured, docs/benchmarks.md), torch's
profiler records ``--steps`` training steps (forward, backward, fused AdamW) after two warm-up
steps, and the operators' own CPU time is summed in groups: the
matrix multiplies (``mm``, ``addmm``, ``bmm``, ``baddbmm``), the copies (autocast's casts, the
bias written into ``addmm``'s output, ``contiguous``), and everything else. The matrix
multiplies' time with the step's model FLOPs (``flops.step_flops``) gives what share of this
machine's GEMM peak (``flops.gemm_peak``, measured in the same run) they reach alone: a step
cannot reach a higher share than that, however fast the rest becomes. The profiler adds a little
time of its own to every operator.
"""
import argparse
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from flops import gemm_peak, step_flops
from train_throughput import batch_arguments, build, timed_steps
from spanbert_edu.devices import cpu_supports_bf16
from spanbert_edu.model import set_attention_path
from spanbert_edu.train.memory import keep_freed_memory
from spanbert_edu.train.step import fused_adamw

PATH = "explicit"  # the attention path profiled: auto's choice for small on every CPU measured
GROUPS = {"matrix multiplies": {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"},
          "copies and casts": {"aten::copy_"}}


def profiled_step_seconds(model, batch, precision, steps):
    """{group: seconds per step} of the operators' own CPU time, and the profiled step's length."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused_adamw(torch.device("cpu")))  # as training

    timed_steps(model, opt, batch, precision, 2)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        timed_steps(model, opt, batch, precision, steps)
    groups = defaultdict(float)
    for event in prof.key_averages():
        name = next((g for g, ops in GROUPS.items() if event.key in ops), "everything else")
        groups[name] += event.self_cpu_time_total / 1e6 / steps
    return dict(groups), sum(groups.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    batch_arguments(parser)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    keep_freed_memory()  # as the training commands do
    model, batch = build(args.preset, args.max_length, args.batch_size)
    model.train()
    flops = step_flops(model.config, batch, "masked")["total"]
    precisions = ["fp32", "bf16"] if cpu_supports_bf16() else ["fp32"]
    peaks = {p: gemm_peak(torch.bfloat16 if p == "bf16" else torch.float32) for p in precisions}
    print(f"preset {args.preset}, batch {args.batch_size} x {args.max_length}, {torch.get_num_threads()} CPU "
          f"threads; model FLOPs per step {flops / 1e9:.1f} G; operators' own CPU time per step, "
          f"mean of {args.steps} profiled steps\n")
    print("| precision | attention | step (ms) | matrix multiplies (ms) | copies and casts (ms) "
          "| everything else (ms) | GEMM peak (GFLOP/s) | matrix multiplies alone: share of peak "
          "| whole step: share of peak |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for precision in precisions:
        groups, total = profiled_step_seconds(set_attention_path(model, PATH), batch, precision, args.steps)
        mm = groups.get("matrix multiplies", 0.0)
        print(f"| {precision} | {PATH} | {total * 1e3:.0f} | {mm * 1e3:.0f} | "
              f"{groups.get('copies and casts', 0.0) * 1e3:.0f} | {groups.get('everything else', 0.0) * 1e3:.0f} | "
              f"{peaks[precision] / 1e9:,.0f} | {flops / max(mm, 1e-9) / peaks[precision]:.0%} | "
              f"{flops / total / peaks[precision]:.0%} |")


if __name__ == "__main__":
    main()
