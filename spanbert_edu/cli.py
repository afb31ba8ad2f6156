"""The command line: ``python -m spanbert_edu <command>`` (also installed as ``spanbert-edu``).

Commands:
  pretrain   train on a corpus, then print boundary predictions and write the loss curve
  finetune   fine-tune for extractive QA (span selection); predictions.json and eval.json
  export     turn a training checkpoint into a small inference bundle (optionally fp16)
  ablate     the masking-scheme and objective ablations (Tables 6 and 7), smoke/laptop/gpu
  span-selection  pretraining arms fine-tuned for span selection: what span masking and SBO buy
  fill       fill a [BLANK] with the MLM and SBO heads, or rank candidate fillers
  export-hf  write a transformers folder (AutoModelForMaskedLM) plus the SBO head
  toy        the toy world: MLM vs MLM + SBO and a probe on the boundary states (notebook 08)
  figures    regenerate every figure in figures/
  demo       mask one batch of the bundled corpus with every scheme (no training)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

from .course import command as course_command


def _config_flags(p, config_class, skip=()):
    """One flag per field of a run's config dataclass (its default, help and choices), so a
    default or a help text is written only in the config."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(config_class)
    for f in dataclasses.fields(config_class):
        if f.name in skip:
            continue
        help_text, choices = f.metadata.get("help"), f.metadata.get("choices")
        flag = _FLAGS.get(f.name, "--" + f.name.replace("_", "-"))
        if hints[f.name] is bool:
            p.add_argument(flag, dest=f.name, action="store_true", help=help_text)
            continue
        kinds = [k for k in typing.get_args(hints[f.name]) if k is not type(None)] or [hints[f.name]]
        kind = kinds[0] if kinds[0] in (int, float) else str  # str, str | None, int | None, ...
        if f.default is not None and not choices:
            help_text += " (default: %(default)s)"
        p.add_argument(flag, dest=f.name, type=kind, default=f.default, choices=choices, help=help_text)
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    p.add_argument("--overwrite", action="store_true",
                   help="--out holds an earlier run: delete its checkpoints and log and start afresh")


def _pretrain_parser(sub):
    """``pretrain``'s flags, built from ``TrainConfig``'s fields."""
    from .train import TrainConfig

    p = sub.add_parser("pretrain", help="pretrain a model (the main job)")
    _config_flags(p, TrainConfig, skip=("model_overrides",))
    p.add_argument("--dropout", type=float, default=None, help="override both dropout rates")
    p.add_argument("--no-report", action="store_true", help="skip predictions and the figure")


def _finetune_parser(sub):
    """``finetune``'s flags, built from ``FinetuneConfig``'s fields."""
    from .qa.config import FinetuneConfig

    p = sub.add_parser("finetune", help="fine-tune for extractive QA (span selection), then answer and score")
    _config_flags(p, FinetuneConfig)


def _run_finetune(args):
    import dataclasses

    from .qa.config import FinetuneConfig
    from .qa.loop import finetune

    cfg = FinetuneConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(FinetuneConfig)})
    t0 = time.perf_counter()
    result = finetune(cfg, resume=args.resume, overwrite=args.overwrite)
    if result["checkpoint"] is None:  # not rank 0
        return
    ev = result["eval"]
    print(f"\nfine-tuned {cfg.steps} steps in {time.perf_counter() - t0:.0f} s; exact match "
          f"{ev['exact_match']:.1f}, F1 {ev['f1']:.1f} on {ev['n']} questions; "
          f"{Path(cfg.out_dir) / 'predictions.json'}, {Path(cfg.out_dir) / 'eval.json'}")


def _run_pretrain(args):
    import dataclasses

    from .train import TrainConfig, pretrain

    overrides = {}
    if args.dropout is not None:
        overrides = {"hidden_dropout_prob": args.dropout, "attention_probs_dropout_prob": args.dropout}
    fields = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "model_overrides"]
    cfg = TrainConfig(**{name: getattr(args, name) for name in fields}, model_overrides=overrides)
    t0 = time.perf_counter()
    result = pretrain(cfg, resume=args.resume, overwrite=args.overwrite)
    if result["checkpoint"] is None:  # not rank 0
        return
    ev = result["eval"]
    scores = ("no held-out split to score" if ev is None else f"held-out MLM accuracy {ev['mlm_acc']:.3f}"
              + (f", SBO accuracy {ev['sbo_acc']:.3f}" if ev["sbo_acc"] is not None else ""))
    print(f"\ntrained {cfg.steps} steps in {time.perf_counter() - t0:.0f} s; {scores}; checkpoint {result['checkpoint']}")
    if not args.no_report:
        from .presentation.predict import print_heldout_predictions
        from .presentation.plots import save_loss_curves

        print_heldout_predictions(result["model"], n_sentences=3, seed=args.seed)
        figure = save_loss_curves(Path(args.out_dir) / "metrics.jsonl", Path(args.out_dir) / "loss_curve.png")
        print(f"loss curves: {figure}")


def _run_export(args):
    from .checkpoint import export_bundle

    target, metrics = export_bundle(args.checkpoint, args.out, half=args.half, eval_corpus=args.eval_corpus,
                                    eval_seed=args.eval_seed, overwrite=args.overwrite)
    size = sum(f.stat().st_size for f in target.iterdir()) / 1e6
    print(f"exported {target} ({size:.1f} MB); held-out ({args.eval_corpus}) MLM acc {metrics['mlm_acc']:.4f} "
          f"(top-5 {metrics['mlm_top5']:.4f}), SBO acc {metrics['sbo_acc']:.4f} (top-5 {metrics['sbo_top5']:.4f})")


def _run_toy(args):
    import dataclasses

    from .experiments.toy import ToyConfig, run_toy
    from .experiments.toy.report import toy_table

    cfg = ToyConfig() if args.steps is None else dataclasses.replace(ToyConfig(), steps=args.steps)
    out = Path(args.out)
    if out.suffix != ".json":
        raise ValueError(f"--out must name a .json file, got {args.out!r}")
    # checked before training, not after it: a folder at --out, or a file where its folder goes,
    # failed only once every arm had trained
    if out.is_dir():
        raise ValueError(f"--out {args.out!r} is a folder; name a .json file")
    blocked = [p for p in out.parents if p.exists() and not p.is_dir()]
    if blocked:
        raise ValueError(f"--out {args.out!r} cannot be written: {blocked[0]} is a file, not a folder")
    result = run_toy(args.seeds, cfg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, out)  # a finished file or none: never half a JSON
    print("\n" + toy_table(result) + f"\n\nwrote {out}")


def _load_any(path):
    """(model, tokenizer or None): our checkpoint folder, or the authors' released file."""
    from .checkpoint import is_checkpoint
    from .interop.pretrained import load_pretrained

    if path is None or is_checkpoint(path):
        return load_pretrained(path)
    from .interop.authors import from_authors_checkpoint

    return from_authors_checkpoint(path), None


def _run_fill(args):
    from .presentation.fill import fill_span, format_fill, rank_spans

    model, tokenizer = _load_any(args.checkpoint)
    if tokenizer is None:
        raise ValueError("the authors' file ships no vocabulary here; load BERT's cased WordPiece "
                         "(bert-large-cased) in Python and call spanbert_edu.presentation.fill.fill_span")
    if args.candidates is not None:  # --candidates "" used to fill the blank instead, silently
        for r in rank_spans(model, tokenizer, args.text, [c.strip() for c in args.candidates.split(",")]):
            sbo = f"{r['sbo']:.3f}" if r["sbo"] is not None else "-"
            print(f"{r['score']:8.3f}  {r['candidate']!r}  (MLM {r['mlm']:.3f}, SBO {sbo} mean log-prob per token)")
    else:
        print(format_fill(fill_span(model, tokenizer, args.text, args.tokens, head=args.head, top_k=args.top_k)))


def _run_export_hf(args):
    from .checkpoint import is_checkpoint, read_config
    from .interop.hf import export_hf

    if is_checkpoint(args.checkpoint) and read_config(args.checkpoint).get("head") == "question_answering":
        from .data import load_tokenizer
        from .qa import SpanBertForQuestionAnswering

        model = SpanBertForQuestionAnswering.from_checkpoint(args.checkpoint)
        out = export_hf(model, args.out, tokenizer=load_tokenizer(Path(args.checkpoint) / "vocab.txt"))
        print(f"wrote {out}: AutoModelForQuestionAnswering.from_pretrained({str(out)!r}) loads the fine-tuned model")
        return
    model, tokenizer = _load_any(args.checkpoint)
    out = export_hf(model, args.out, tokenizer=tokenizer)
    print(f"wrote {out}: AutoModelForMaskedLM.from_pretrained({str(out)!r}) loads the encoder and MLM head; "
          "spanbert_edu.interop.hf.load_sbo_head(...) the SBO head"
          + ("" if tokenizer is not None else " (no tokenizer written: use bert-large-cased's)"))


class _Parser(argparse.ArgumentParser):
    """argparse's own errors (a bad int, an unknown flag) in one line, as ours are: its default
    prints the whole usage first (19 lines for ``finetune``)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv=None):
    parser = _Parser(prog="spanbert-edu", description="SpanBERT for learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    _pretrain_parser(sub)
    _finetune_parser(sub)
    export = sub.add_parser("export", help="write an inference bundle with held-out metrics")
    export.add_argument("checkpoint", help="a training checkpoint folder (runs/.../checkpoints/step-N)")
    export.add_argument("out", help="the bundle folder to write")
    export.add_argument("--half", action="store_true", help="store weights in fp16 (half the size)")
    export.add_argument("--eval-seed", type=int, default=1234)
    export.add_argument("--eval-corpus", default="default",
                        help="whose held-out split to measure on (default: the bundled corpus)")
    export.add_argument("--overwrite", action="store_true",
                        help="write into an existing folder that is not an earlier export "
                             "(only the checkpoint's own files are replaced)")
    ablate = sub.add_parser("ablate", help="the paper's masking and objective ablations (Tables 6 and 7)")
    ablate.add_argument("--budget", default="smoke", choices=["smoke", "laptop", "gpu"])
    ablate.add_argument("--out", default="runs/ablate")
    ablate.add_argument("--arms", default=None, help="comma-separated arms (default: all)")
    ablate.add_argument("--seeds", default=None, help="comma-separated seeds (default: the budget's)")
    spans = sub.add_parser("span-selection", help="pretraining arms fine-tuned on span selection (issue 17)")
    spans.add_argument("--budget", default="smoke", choices=["smoke", "laptop"])
    spans.add_argument("--out", default="runs/span_selection")
    spans.add_argument("--arms", default=None, help="comma-separated arms (default: all)")
    spans.add_argument("--seeds", default=None, help="comma-separated pretraining seeds (default: the budget's)")
    fill = sub.add_parser("fill", help="fill a [BLANK] with the MLM and SBO heads, or rank candidates")
    fill.add_argument("text", help='a sentence with one [BLANK], e.g. "The [BLANK] of France is Paris."')
    fill.add_argument("--tokens", type=int, default=1, help="how many tokens the blank holds")
    fill.add_argument("--candidates", default=None, help="comma-separated fillers to rank instead")
    fill.add_argument("--head", default="both", choices=["mlm", "sbo", "both"])
    fill.add_argument("--top-k", type=int, default=5)
    fill.add_argument("--checkpoint", default=None, help="a checkpoint folder (default: the bundled model)")
    export_hf = sub.add_parser("export-hf", help="write a transformers folder (MLM head) + the SBO head, "
                               "or a fine-tuned QA model (AutoModelForQuestionAnswering)")
    export_hf.add_argument("checkpoint", help="a spanbert_edu checkpoint folder, or the authors' file/archive")
    export_hf.add_argument("out", help="a new or empty folder")
    toy = sub.add_parser("toy", help="the toy world: MLM vs MLM + SBO, probed at the span boundaries")
    toy.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 for every arm")
    toy.add_argument("--steps", type=int, default=None, help="training steps per arm (default: ToyConfig's)")
    toy.add_argument("--out", default="runs/toy_world.json",
                     help="the JSON file to write (the committed one: spanbert_edu/assets/results/toy_world.json)")
    figures = sub.add_parser("figures", help="regenerate every figure in figures/")
    figures.add_argument("--out", default="figures")
    demo = sub.add_parser("demo", help="mask a batch of the bundled corpus with every scheme")
    demo.add_argument("--batch-size", type=int, default=8)
    demo.add_argument("--max-length", type=int, default=128)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="runs/demo", help="folder for summary.json and masks.txt")
    demo.add_argument("--scheme", action="append", help="a scheme (repeatable); default: all")
    course_command.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        _dispatch(args)
    except (ValueError, TypeError, OSError, FloatingPointError) as err:
        if os.environ.get("SPANBERT_EDU_TRACEBACK"):
            raise
        parser.exit(2, f"spanbert-edu {args.command}: error: {_with_flag_names(str(err))}\n")


# a config field (or fill's argument) -> the flag a command-line user typed
_FLAGS = {"learning_rate": "--lr", "warmup_steps": "--warmup", "weight_decay": "--weight-decay",
          "batch_size": "--batch-size", "max_length": "--max-length", "out_dir": "--out",
          "sbo_weight": "--sbo-weight", "eval_every": "--eval-every", "save_every": "--save-every",
          "log_every": "--log-every", "max_grad_norm": "--max-grad-norm", "resume=True": "--resume",
          "overwrite=True": "--overwrite", "hidden_dropout_prob": "--dropout",
          "n_tokens": "--tokens", "top_k": "--top-k"}


def _with_flag_names(message: str) -> str:
    from dataclasses import fields

    from .qa.config import FinetuneConfig
    from .train import TrainConfig

    # every config field with an underscore is unambiguous in a message ("steps" is not)
    names = {f.name: "--" + f.name.replace("_", "-") for c in (TrainConfig, FinetuneConfig)
             for f in fields(c) if "_" in f.name}
    for name, flag in {**names, **_FLAGS}.items():
        message = message.replace(f"{name} ({flag})", flag)
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w])", flag, message)
    return message


def _int_list(flag: str, text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"{flag} must be comma-separated integers, e.g. 0,1,2; got {text!r}") from None


def _dispatch(args):
    if args.command == "pretrain":
        _run_pretrain(args)
    elif args.command == "finetune":
        _run_finetune(args)
    elif args.command == "export":
        _run_export(args)
    elif args.command == "ablate":
        from .experiments.ablate import run_ablation

        run_ablation(args.budget, args.out, arms=args.arms.split(",") if args.arms else None,
                     seeds=_int_list("--seeds", args.seeds) if args.seeds else None)
    elif args.command == "span-selection":
        from .experiments.span_selection import run_span_selection

        run_span_selection(args.budget, args.out, arms=args.arms.split(",") if args.arms else None,
                           pretrain_seeds=_int_list("--seeds", args.seeds) if args.seeds else None)
    elif args.command == "fill":
        _run_fill(args)
    elif args.command == "export-hf":
        _run_export_hf(args)
    elif args.command == "toy":
        _run_toy(args)
    elif args.command == "figures":
        from .presentation.figures import make_figures

        for path in make_figures(args.out):
            print(f"wrote {path}")
    elif args.command == "course":
        course_command.run(args)
    elif args.command == "demo":
        from .presentation.demo import run_demo
        from .masking import SCHEMES

        run_demo(batch_size=args.batch_size, max_length=args.max_length, seed=args.seed,
                 out=args.out, schemes=args.scheme or SCHEMES)


if __name__ == "__main__":
    main()
