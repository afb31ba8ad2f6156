"""``TrainConfig``: every setting a pretraining run depends on, each also a ``pretrain`` flag.

``python -m spanbert_edu pretrain`` builds its flags from these fields (their defaults, help and
choices), so a default or a help text is written only here. The masking knobs are
:class:`~spanbert_edu.masking.MaskingConfig`'s, under its names and with its defaults; the loss
knobs (``sbo_weight``, ``pair_objective``) are :class:`~spanbert_edu.model.SpanBertConfig`'s.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field

from .._checks import check_choice, check_int, check_real, check_seed
from ..batch import PAIR_OBJECTIVES
from ..attention import ATTENTION_PATHS
from ..devices import PRECISIONS
from ..masking import SCHEMES, MaskingConfig
from ..masking.engine import REPLACEMENTS
from ..model import SpanBertConfig
from ..spans import MODES


def _opt(default, help: str = "", choices=None):
    """A field with its command-line help (and choices): ``spanbert-edu pretrain`` builds its
    flags from these fields, so a default or a help text is written only here."""
    return field(default=default, metadata={"help": help, "choices": choices})


def precision_option():
    """The ``precision`` field of a run config (pretraining and fine-tuning share it)."""
    return _opt("auto", "'auto': the faster of fp32 and bf16 autocast (tried only where the hardware "
                "has native bf16), measured when the run starts", PRECISIONS)


ATTENTIONS = ("auto", *ATTENTION_PATHS)  # the choices of --attention


def attention_option():
    """The ``attention`` field of a run config: the path attention is computed by."""
    return _opt("auto", "'auto': the faster of 'sdpa' (torch's fused kernel) and 'explicit' (written "
                "out, with the cheap CPU dropout), measured when the run starts", ATTENTIONS)


_M = MaskingConfig  # the masking knobs' defaults are MaskingConfig's; TrainConfig only carries them


@dataclass
class TrainConfig:
    """Everything a pretraining run depends on; each field is also a ``pretrain`` flag
    (``learning_rate`` is ``--lr``, ``warmup_steps`` ``--warmup``, ``out_dir`` ``--out``).

    The masking fields are :class:`MaskingConfig`'s (``cfg.masking`` builds it, and the collator
    is built from that); ``sbo_weight`` and ``pair_objective`` are passed to the model's config,
    and ``model_overrides`` may not set them again."""

    preset: str = _opt("tiny", "model size", tuple(SpanBertConfig.PRESETS))
    corpus: str = _opt("default", "'default', 'python-docs', a folder of .txt files, or hf:<dataset>; "
                       "'a+b' mixes corpora")
    hf_config: str | None = _opt(None, "config name of a Hugging Face dataset")
    eval_corpus: str | None = _opt(None, "evaluate on this corpus's held-out split (default: --corpus's "
                                   "own), e.g. 'default' when training on 'default+python-docs'")
    docs_path: str | None = _opt(None, "folder of CPython .rst sources for 'python-docs' "
                                 "(default: Debian's python3.X-doc)")
    max_length: int = _opt(128, "tokens per block, [CLS] and [SEP] included")
    batch_size: int = _opt(16, "global batch (split across data-parallel ranks)")
    steps: int = _opt(300, "optimizer steps")
    learning_rate: float = _opt(1e-3, "peak learning rate (linear warmup, then linear decay to 0)")
    warmup_steps: int = _opt(30, "warmup steps")
    weight_decay: float = _opt(0.01, "AdamW weight decay (none on biases and LayerNorm)")
    max_grad_norm: float = _opt(1.0, "gradient clipping norm (inf: no clipping)")
    scheme: str = _opt(_M.scheme, "masking scheme", SCHEMES)
    mlm_probability: float = _opt(_M.mlm_probability, "share of the maskable tokens masked per sequence")
    geometric_p: float = _opt(_M.geometric_p, "p of the geometric span-length distribution (in words)")
    max_span_length: int = _opt(_M.max_span_length, "longest span, in words")
    min_span_length: int = _opt(_M.min_span_length, "shortest span, in words")
    span_length_mode: str = _opt(_M.span_length_mode, "span lengths beyond the range: renormalised "
                                 "('truncate', the authors' code) or clipped ('clip')", MODES)
    replacement: str = _opt(_M.replacement, "80/10/10 decided once per span or per token", REPLACEMENTS)
    mask_replace_prob: float = _opt(_M.mask_replace_prob, "share of masked tokens replaced by [MASK]")
    random_replace_prob: float = _opt(_M.random_replace_prob, "share of masked tokens replaced by a "
                                      "random token (the rest keep the original)")
    max_span_targets: int = _opt(_M.max_span_targets, "SBO targets per span (the model's position "
                                 "table must have as many rows)")
    sbo_weight: float = _opt(SpanBertConfig.sbo_weight, "weight of the SBO loss; 0 trains MLM only")
    pair_objective: str = _opt(SpanBertConfig.pair_objective, "two segments with NSP or SOP instead "
                               "of one sequence", PAIR_OBJECTIVES)
    log_every: int = _opt(10, "steps between training-log rows")
    eval_every: int = _opt(100, "steps between held-out evaluations")
    eval_batches: int = _opt(8, "held-out batches per evaluation")
    save_every: int = _opt(100, "steps between checkpoints")
    keep_checkpoints: int = _opt(2, "checkpoints kept (older ones are deleted)")
    seed: int = _opt(0, "seed of the weights, the data order, the masks and dropout")
    device: str = _opt("auto", "'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N'")
    precision: str = precision_option()
    attention: str = attention_option()
    compile: bool = _opt(False, "torch.compile the model (opt-in)")
    out_dir: str = _opt("runs/pretrain", "run folder: checkpoints and metrics.jsonl")
    model_overrides: dict = field(default_factory=dict)  # SpanBertConfig fields (the CLI: --dropout)

    def __post_init__(self):
        for name in ("max_length", "batch_size", "steps", "log_every", "eval_every", "save_every",
                     "keep_checkpoints", "eval_batches"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("warmup_steps", self.warmup_steps, minimum=0)
        check_seed("seed", self.seed)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("attention", self.attention, ATTENTIONS)
        check_choice("preset", self.preset, tuple(SpanBertConfig.PRESETS))
        self.masking  # checks the masking fields, under their own names
        SpanBertConfig.check_objectives(self.sbo_weight, self.pair_objective)
        for name, allow_inf in (("learning_rate", False), ("weight_decay", False), ("max_grad_norm", True)):
            value = check_real(name, getattr(self, name))
            positive = name != "weight_decay"
            ok = (math.isfinite(value) or (allow_inf and value == math.inf)) and (value > 0 if positive else value >= 0)
            if not ok:
                rule = "a number > 0" if positive else "a finite number >= 0"
                raise ValueError(f"{name} must be {rule}{' (inf: no clipping)' if allow_inf else ''}, "
                                 f"got {getattr(self, name)!r}")
        if not isinstance(self.compile, bool):  # "no" is truthy: it would switch compile on
            raise TypeError(f"compile must be True or False, got {self.compile!r}")
        if self.warmup_steps > self.steps:
            warnings.warn(f"warmup_steps ({self.warmup_steps}) is longer than the run (steps={self.steps}): "
                          f"the learning rate never reaches learning_rate ({self.learning_rate})", stacklevel=3)
        if not isinstance(self.model_overrides, dict):
            raise TypeError(f"model_overrides must be a dict, got {self.model_overrides!r}")

    @property
    def masking(self) -> MaskingConfig:
        """The masking settings of this run, as the collator takes them."""
        return MaskingConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(MaskingConfig)})

    def resume_differences(self, stored: dict) -> dict:
        """The settings that differ from a stored run's (those a resume may not change)."""
        return settings_differences(self, stored, RESUME_MAY_CHANGE)


def settings_differences(cfg, stored: dict, may_change) -> dict:
    """``{name: (stored, given)}`` for the fields of the dataclass ``cfg`` that differ from a
    stored run's settings, except ``may_change``; a field the stored run predates counts as its
    default."""
    mine, defaults = dataclasses.asdict(cfg), dataclasses.asdict(type(cfg)())
    return {k: (stored.get(k, defaults[k]), v) for k, v in mine.items()
            if k not in may_change and stored.get(k, defaults[k]) != v}


# Settings a resumed run may change: they do not alter what is trained, only how it is watched
# or where it runs. Everything else (lr, seed, schedule, data, masking, model) must match exactly.
# (precision and attention change the rounding and the dropout masks: a resume given "auto" takes
# the stored run's choice, see train.speed, and continues exactly.)
RESUME_MAY_CHANGE = {"log_every", "eval_every", "eval_batches", "save_every", "keep_checkpoints",
                     "device", "precision", "attention", "compile", "out_dir", "docs_path"}
