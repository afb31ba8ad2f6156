"""Training steps with glibc's default malloc settings against ``keep_freed_memory()``.

    python benchmarks/allocator.py [--steps 10] [--rounds 2]

``spanbert_edu.train.memory.keep_freed_memory`` raises glibc's mmap and trim thresholds so that
a step reuses the blocks the previous step freed, where by default it takes fresh pages from
the kernel (a page fault per 4 KiB). Each row here is one model, batch 32 x 128, explicit
attention, in two child processes (so each starts from a fresh allocator): one with the
default settings, one that calls ``keep_freed_memory()`` first. Each child times ``--steps``
training steps (forward, backward, fused AdamW) after 3 warm-up steps and counts the minor page
faults they took; the children run in turn, ``--rounds`` times, and the faster median counts.
``make pretrain``'s ``tiny`` (dropout 0) and the ``small`` preset (its dropout 0.1), in fp32 and,
where the CPU has it natively, bf16 autocast.
"""
import argparse
import json
import resource
import subprocess
import sys

import torch

from train_throughput import build, timed_steps
from spanbert_edu import SpanBertConfig
from spanbert_edu.devices import cpu_supports_bf16
from spanbert_edu.model import set_attention_path
from spanbert_edu.train.memory import keep_freed_memory
from spanbert_edu.train.step import fused_adamw

# (preset, dropout): make pretrain's tiny without dropout, and small with its own
MODELS = (("tiny", 0.0), ("small", SpanBertConfig.preset("small").hidden_dropout_prob))


def child(args):
    kept = keep_freed_memory() if args.keep else False
    model, batch = build(args.preset, 128, 32, hidden_dropout_prob=args.dropout,
                         attention_probs_dropout_prob=args.dropout)
    model = set_attention_path(model, "explicit").train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused_adamw(torch.device("cpu")))
    timed_steps(model, opt, batch, args.precision, 3)  # warm-up
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    step_s = timed_steps(model, opt, batch, args.precision, args.steps)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"step_s": step_s, "kept": kept, "faults": (usage.ru_minflt - faults) / args.steps,
                      "rss_mb": usage.ru_maxrss / 1024}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--preset", default="tiny", help=argparse.SUPPRESS)
    parser.add_argument("--dropout", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="fp32", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 1 or args.rounds < 1:
        parser.error(f"--steps and --rounds must be >= 1, got {args.steps} and {args.rounds}")
    if args.child:
        return child(args)
    rows = [(m, d, p) for m, d in MODELS for p in (["fp32", "bf16"] if cpu_supports_bf16() else ["fp32"])]
    best = {}
    for _ in range(args.rounds):
        for preset, dropout, precision in rows:
            for keep in (False, True):
                cmd = [sys.executable, __file__, "--child", "--preset", preset, "--dropout", str(dropout),
                       "--precision", precision, "--steps", str(args.steps)] + (["--keep"] if keep else [])
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(f"{preset} {precision} keep={keep} failed:\n{done.stderr[-2000:]}")
                r = json.loads(done.stdout.splitlines()[-1])
                key = (preset, dropout, precision, keep)
                if key not in best or r["step_s"] < best[key]["step_s"]:
                    best[key] = r
    print(f"batch 32 x 128, explicit attention, {torch.get_num_threads()} CPU threads; median of {args.steps} "
          f"steps, the faster of {args.rounds} rounds; keep_freed_memory() set: "
          f"{best[(*rows[0], True)]['kept']}\n")
    print("| preset | dropout | precision | glibc default: step (ms) | page faults a step | kept: step (ms) "
          "| page faults a step | kept vs default | peak RSS default / kept (MB) |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for preset, dropout, precision in rows:
        a, b = best[(preset, dropout, precision, False)], best[(preset, dropout, precision, True)]
        print(f"| {preset} | {dropout:g} | {precision} | {a['step_s'] * 1e3:.1f} | {a['faults']:,.0f} | "
              f"{b['step_s'] * 1e3:.1f} | {b['faults']:,.0f} | {a['step_s'] / b['step_s']:.2f}x | "
              f"{a['rss_mb']:,.0f} / {b['rss_mb']:,.0f} |")


if __name__ == "__main__":
    main()
