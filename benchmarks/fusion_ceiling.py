"""How close to the GEMM peak could a step come if its elementwise work were fused? Eager
against ``torch.compile``, with the preset's dropout and with none.

    python benchmarks/fusion_ceiling.py [--preset small] [--batch-size 32] [--max-length 128] [--steps 8] [--rounds 3]

``step_profile.py`` shows a step's matrix multiplies alone reaching a share of the GEMM peak; the
rest of the step (LayerNorm, GeLU, softmax, dropout, residual adds, casts, the loss, AdamW) holds
the whole step below it. ``torch.compile`` (inductor) writes fused C++ kernels for that
elementwise work: the nearest thing to hand-written fused kernels that a laptop can build. With
dropout, dynamo breaks the graph at every NumPy-drawn mask (``spanbert_edu.dropout``), so the
dropout-0 rows are the ceiling: every elementwise op free to fuse, and no masks to draw.

One model per (precision, dropout), with the explicit attention (auto's choice for ``small`` on
every CPU measured); its eager and compiled forms (the same weights and fused AdamW) are timed
in alternating rounds of ``--steps`` steps after warm-up, and each form's fastest round median
counts. The GEMM peak (``flops.gemm_peak``) is measured before and after, and the higher counts.
"""
import argparse
import time

import torch

from flops import gemm_peak, step_flops
from train_throughput import batch_arguments, build, timed_steps
from spanbert_edu import SpanBertConfig
from spanbert_edu.devices import cpu_supports_bf16
from spanbert_edu.model import set_attention_path
from spanbert_edu.train.memory import keep_freed_memory
from spanbert_edu.train.step import fused_adamw

PATH = "explicit"  # as step_profile.py


def eager_and_compiled(args, precision, dropout):
    """{"eager": s, "compiled": s} per step, and the seconds the compiled form's warm-up took."""
    model, batch = build(args.preset, args.max_length, args.batch_size,
                         hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    model = set_attention_path(model, PATH).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused_adamw(torch.device("cpu")))
    torch._dynamo.reset()  # each row compiles afresh
    forms = {"eager": model, "compiled": torch.compile(model)}
    t0 = time.perf_counter()
    try:
        timed_steps(forms["compiled"], opt, batch, precision, 3)  # compiles forward and backward
    except Exception as error:  # no C++ compiler, say: the eager row still stands
        print(f"torch.compile failed ({type(error).__name__}: {str(error)[:200]}); compiled: n/a")
        del forms["compiled"]
    warm_up = time.perf_counter() - t0
    timed_steps(forms["eager"], opt, batch, precision, 2)
    best = {"eager": float("inf"), "compiled": float("nan")} | {name: float("inf") for name in forms}
    for _ in range(args.rounds):
        for name, forward in forms.items():
            best[name] = min(best[name], timed_steps(forward, opt, batch, precision, args.steps))
    return best, warm_up, step_flops(model.config, batch, "masked")["total"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    batch_arguments(parser)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.steps < 1 or args.rounds < 1:
        parser.error(f"--steps and --rounds must be >= 1, got {args.steps} and {args.rounds}")
    keep_freed_memory()  # as the training commands do
    precisions = ["fp32", "bf16"] if cpu_supports_bf16() else ["fp32"]
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    peaks = {p: gemm_peak(dtypes[p]) for p in precisions}
    preset_dropout = SpanBertConfig.preset(args.preset).hidden_dropout_prob
    rows = [(p, d, *eager_and_compiled(args, p, d)) for p in precisions for d in (preset_dropout, 0.0)]
    peaks = {p: max(peaks[p], gemm_peak(dtypes[p])) for p in precisions}  # the higher: the honest share
    print(f"preset {args.preset}, batch {args.batch_size} x {args.max_length}, {torch.get_num_threads()} CPU "
          f"threads, {PATH} attention; median of {args.steps} steps, the fastest of {args.rounds} "
          f"alternating rounds; GEMM peak " + ", ".join(f"{p} {v / 1e9:,.0f} GFLOP/s" for p, v in peaks.items())
          + "\n")
    print("| precision | dropout | eager step (s) | compiled step (s) | compiled vs eager "
          "| eager: share of peak | compiled: share of peak | compiling (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for precision, dropout, best, warm_up, flops in rows:
        share = {name: flops / s / peaks[precision] for name, s in best.items()}
        print(f"| {precision} | {dropout:g} | {best['eager']:.3f} | {best['compiled']:.3f} | "
              f"{best['eager'] / best['compiled']:.2f}x | {share['eager']:.0%} | {share['compiled']:.0%} | "
              f"{warm_up:.0f} |")


if __name__ == "__main__":
    main()
