"""The command line: ``python -m spanbert_edu <command>`` (also installed as ``spanbert-edu``).

Commands: ``demo`` (the main job: mask a batch of the bundled corpus with every scheme).
"""
from __future__ import annotations

import argparse


def main(argv=None):
    parser = argparse.ArgumentParser(prog="spanbert-edu", description="SpanBERT for learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="mask a batch of the bundled corpus with every scheme")
    demo.add_argument("--batch-size", type=int, default=8)
    demo.add_argument("--max-length", type=int, default=128)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="runs/demo", help="folder for summary.json and masks.txt")
    demo.add_argument("--scheme", action="append", help="a scheme (repeatable); default: all")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from .demo import run_demo
        from .masking import SCHEMES

        run_demo(batch_size=args.batch_size, max_length=args.max_length, seed=args.seed,
                 out=args.out, schemes=args.scheme or SCHEMES)


if __name__ == "__main__":
    main()
