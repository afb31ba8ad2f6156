"""``FinetuneConfig``: every setting a fine-tuning run depends on, each also a ``finetune`` flag.

As ``TrainConfig`` for pretraining: ``python -m spanbert_edu finetune`` builds its flags from
these fields, and a resumed run must have the same settings except those in
``RESUME_MAY_CHANGE``. The windowing and decoding knobs are Hugging Face ``run_qa``'s
(``max_seq_length`` is ``max_length`` here, as in pretraining).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .._checks import check_choice, check_int, check_real, check_seed, check_text
from ..devices import PRECISIONS
from ..model import SpanBertConfig
from ..train.config import ATTENTIONS, _opt, attention_option, precision_option, settings_differences


@dataclass
class FinetuneConfig:
    """A span-selection fine-tuning run (``learning_rate`` is ``--lr``, ``out_dir`` ``--out``)."""

    task: str | None = _opt("cloze", "a built-in offline task; ignored when --train-file is given")
    train_file: str | None = _opt(None, "training questions: a SQuAD v1.1/v2.0 .json file or hf:<dataset>")
    eval_file: str | None = _opt(None, "evaluation questions: a SQuAD .json file or hf:<dataset> "
                                 "(with hf:, its validation split)")
    init: str = _opt("bundled", "the encoder: 'bundled', 'scratch' (random, --preset), a checkpoint "
                     "folder, or hf:<BERT model>")
    preset: str = _opt("small", "model size for --init scratch", tuple(SpanBertConfig.PRESETS))
    labels: int | None = _opt(None, "use only the first N training questions (of a seeded shuffle), "
                              "for learning curves")
    max_length: int = _opt(256, "tokens per window: [CLS] question [SEP] context [SEP]")
    doc_stride: int = _opt(64, "tokens shared by consecutive windows of a long context")
    max_question_length: int = _opt(64, "questions are cut to this many tokens")
    max_answer_length: int = _opt(30, "the longest answer decoded, in tokens")
    n_best: int = _opt(20, "start and end candidates per window when decoding")
    batch_size: int = _opt(16, "global batch of windows (split across data-parallel ranks)")
    steps: int = _opt(300, "optimizer steps")
    learning_rate: float = _opt(1e-4, "peak learning rate (linear warmup, then linear decay to 0)")
    warmup_steps: int = _opt(30, "warmup steps")
    weight_decay: float = _opt(0.01, "AdamW weight decay (none on biases and LayerNorm)")
    max_grad_norm: float = _opt(1.0, "gradient clipping norm")
    dropout: float | None = _opt(None, "override both dropout rates of the encoder")
    log_every: int = _opt(10, "steps between training-log rows")
    save_every: int = _opt(100, "steps between checkpoints")
    keep_checkpoints: int = _opt(1, "checkpoints kept (older ones are deleted)")
    eval_batch_size: int = _opt(64, "windows per evaluation batch")
    seed: int = _opt(0, "seed of the head, the question sample, the data order and dropout")
    device: str = _opt("auto", "'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N'")
    precision: str = precision_option()
    attention: str = attention_option()
    out_dir: str = _opt("runs/finetune", "run folder: checkpoints, metrics.jsonl, predictions.json, eval.json")

    def __post_init__(self):
        for name in ("max_length", "doc_stride", "max_question_length", "max_answer_length", "n_best",
                     "batch_size", "steps", "log_every", "save_every", "keep_checkpoints", "eval_batch_size"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("warmup_steps", self.warmup_steps, minimum=0)
        check_seed("seed", self.seed)
        # checked here, not where they are first used: init=5 was an AttributeError, out_dir="" the
        # current folder, train_file=5 "--train-file and --eval-file go together"
        for name in ("init", "device", "out_dir"):
            check_text(name, getattr(self, name))
        for name in ("task", "train_file", "eval_file"):
            check_text(name, getattr(self, name), optional=True)
        if self.labels is not None:
            check_int("labels", self.labels, minimum=1)
        if self.doc_stride >= self.max_length - self.max_question_length - 3:
            raise ValueError(f"doc_stride ({self.doc_stride}) must leave room for new context in each "
                             f"window: below max_length - max_question_length - 3 "
                             f"({self.max_length - self.max_question_length - 3})")
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("attention", self.attention, ATTENTIONS)
        check_choice("preset", self.preset, tuple(SpanBertConfig.PRESETS))
        if self.train_file is None and self.task is None:
            raise ValueError("give a task (--task) or a training file (--train-file)")
        if (self.train_file is None) != (self.eval_file is None) and not str(self.train_file).startswith("hf:"):
            raise ValueError("--train-file and --eval-file go together (an hf: dataset may omit "
                             "--eval-file: its validation split is used)")
        for name, positive in (("learning_rate", True), ("weight_decay", False), ("max_grad_norm", True)):
            value = check_real(name, getattr(self, name))
            if not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
                raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, "
                                 f"got {getattr(self, name)!r}")
        if self.dropout is not None and not 0 <= check_real("dropout", self.dropout) < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")

    def resume_differences(self, stored: dict) -> dict:
        return settings_differences(self, stored, RESUME_MAY_CHANGE)


RESUME_MAY_CHANGE = {"log_every", "save_every", "keep_checkpoints", "eval_batch_size", "device",
                     "precision", "attention", "out_dir"}
