"""The encoder: a BERT-style post-LayerNorm Transformer in plain PyTorch.

Parameter names match Hugging Face's ``BertModel`` one for one (``embeddings.word_embeddings``,
``encoder.layer.N.attention.self.query``, ...), so weights move between the two with no
renaming (:mod:`spanbert_edu.interop.hf`). Attention is :mod:`spanbert_edu.attention` (torch's SDPA,
or the same formula written out: ``set_attention_path``); dropout is :mod:`spanbert_edu.dropout`'s,
whose masks are cheap to draw on a CPU.

SpanBERT trains on ONE sequence, but the authors kept BERT's two-row segment (token-type) table
and fed all-zero segment ids, so row 0 is trained and added to every token (their released
checkpoints have ``type_vocab_size=2``). We do the same by default. ``type_vocab_size=0`` drops
the table entirely (a valid ablation: row 0 is then just a constant the LayerNorm can absorb).

Not here: the heads and losses (:mod:`spanbert_edu.heads`).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_choice, check_int, check_probability, check_real
from .attention import ATTENTION_PATHS, attention
from .batch import PAIR_OBJECTIVES
from .dropout import Dropout

@dataclass
class SpanBertConfig:
    """Sizes and objectives. ``SpanBertConfig.preset("tiny" | "small" | "base", **overrides)``."""

    vocab_size: int = 8192
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    max_position_embeddings: int = 512
    type_vocab_size: int = 2             # as the authors: 2 rows, all-zero ids for one sequence
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02
    pad_token_id: int = 0
    sbo_position_size: int = 200         # size of p_i, the SBO relative-position embedding
    max_span_targets: int = 15           # SBO positions per span (and p_i table size)
    sbo_weight: float = 1.0              # loss = MLM + sbo_weight * SBO; 0 turns SBO off
    pair_objective: str = "none"         # "none" (one sequence), "nsp" or "sop"

    PRESETS = {  # class-level table, not a field
        "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=256, sbo_position_size=32),
        "small": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                      intermediate_size=1024, max_position_embeddings=512),
        "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=3072, max_position_embeddings=512),
    }

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                     "intermediate_size", "max_position_embeddings", "sbo_position_size",
                     "max_span_targets"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("type_vocab_size", self.type_vocab_size, minimum=0)
        check_int("pad_token_id", self.pad_token_id, minimum=0)
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must be divisible by "
                             f"num_attention_heads ({self.num_attention_heads})")
        if self.pad_token_id >= self.vocab_size:
            raise ValueError(f"pad_token_id must be < vocab_size ({self.vocab_size}), got {self.pad_token_id}")
        for name in ("layer_norm_eps", "initializer_range"):
            value = check_real(name, getattr(self, name))
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {getattr(self, name)!r}")
        check_probability("hidden_dropout_prob", self.hidden_dropout_prob)
        check_probability("attention_probs_dropout_prob", self.attention_probs_dropout_prob)
        self.check_objectives(self.sbo_weight, self.pair_objective)
        if self.pair_objective != "none" and self.type_vocab_size < 2:
            raise ValueError(f"pair_objective={self.pair_objective!r} needs segment embeddings: "
                             f"type_vocab_size >= 2, got {self.type_vocab_size}")

    @staticmethod
    def check_objectives(sbo_weight, pair_objective) -> None:
        """The loss's knobs, checked here for every config that carries them (``TrainConfig`` too)."""
        value = check_real("sbo_weight", sbo_weight)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"sbo_weight must be a finite number >= 0, got {sbo_weight!r}")
        check_choice("pair_objective", pair_objective, PAIR_OBJECTIVES)

    @classmethod
    def preset(cls, name: str, **overrides) -> "SpanBertConfig":
        if name not in cls.PRESETS:
            raise ValueError(f"preset must be one of {sorted(cls.PRESETS)}, got {name!r}")
        return cls.from_dict({**cls.PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values: dict) -> "SpanBertConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown SpanBertConfig keys {unknown}; known keys: {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class BertEmbeddings(nn.Module):
    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size) if c.type_vocab_size else None
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids=None):
        B, L = input_ids.shape
        if L > self.position_embeddings.num_embeddings:
            raise ValueError(f"input_ids has length {L}, longer than the position table "
                             f"(max_position_embeddings={self.position_embeddings.num_embeddings})")
        x = self.word_embeddings(input_ids) + self.position_embeddings.weight[:L]  # (B, L, H)
        if self.token_type_embeddings is not None:
            if token_type_ids is None:
                token_type_ids = torch.zeros_like(input_ids)
            x = x + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """``query``, ``key`` and ``value`` are plain ``nn.Linear`` layers (HF's names), but forward
    multiplies by their stacked weights in one go, so hooks on them do not fire; replace them
    (peft's LoRA, quantization) and forward calls the replacements instead."""

    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.n_head, self.head_dim = c.num_attention_heads, c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout_p = c.attention_probs_dropout_prob
        self.path = "sdpa"  # or "explicit": set_attention_path

    def forward(self, x, keep, output_attentions=False):
        """x (B, L, H); keep (B, L) bool, or None when no position is padding."""
        B, L, H = x.shape
        split = lambda t: t.view(B, L, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, L, hd)
        projections = (self.query, self.key, self.value)
        if all(type(p) is nn.Linear for p in projections):
            # Q, K and V from one matrix multiply (the three weights stacked): one wider GEMM, and
            # under bf16 autocast x is cast once, not three times (3-4% of a bf16 step of small)
            weight = torch.cat([p.weight for p in projections])  # (3H, H)
            bias = torch.cat([p.bias for p in projections])      # (3H,)
            q, k, v = map(split, F.linear(x, weight, bias).split(H, dim=-1))
        else:  # a module put in their place (a LoRA layer, a quantized one) is called as it is
            q, k, v = (split(p(x)) for p in projections)
        y, probs = attention(q, k, v, keep, self.dropout_p if self.training else 0.0, self.path,
                             need_weights=output_attentions)
        return y.transpose(1, 2).reshape(B, L, H), probs


class BertAddNorm(nn.Module):
    """``LayerNorm(residual + dropout(dense(x)))``: BERT's post-LN sub-layer output."""

    def __init__(self, c: SpanBertConfig, d_in: int):
        super().__init__()
        self.dense = nn.Linear(d_in, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = Dropout(c.hidden_dropout_prob)

    def forward(self, x, residual):
        return self.LayerNorm(residual + self.dropout(self.dense(x)))


class BertAttention(nn.Module):
    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertAddNorm(c, c.hidden_size)

    def forward(self, x, keep, output_attentions=False):
        y, probs = self.self(x, keep, output_attentions)
        return self.output(y, x), probs


class BertIntermediate(nn.Module):
    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact (erf) GeLU, as BERT


class BertLayer(nn.Module):
    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertAddNorm(c, c.intermediate_size)

    def forward(self, x, keep, output_attentions=False):
        x, probs = self.attention(x, keep, output_attentions)
        return self.output(self.intermediate(x), x), probs


class BertEncoder(nn.Module):
    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(c) for _ in range(c.num_hidden_layers))

    def forward(self, x, keep, output_attentions=False):
        """x (B, L, H), keep (B, L) bool or None -> (B, L, H) and each layer's attention (or None)."""
        attentions = []
        for layer in self.layer:
            x, probs = layer(x, keep, output_attentions)
            attentions.append(probs)
        return x, attentions


class BertPooler(nn.Module):
    """tanh(dense(h_[CLS])): only for the NSP / SOP objectives."""

    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, hidden):
        return torch.tanh(self.dense(hidden[:, 0]))


class SpanBertModel(nn.Module):
    """Embeddings + encoder (+ a pooler for NSP/SOP). Returns the last hidden states (B, L, H)."""

    def __init__(self, config: SpanBertConfig):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if config.pair_objective != "none" else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, output_attentions=False):
        # no padding anywhere (a packed batch): no mask at all, which attention runs faster
        keep = None if attention_mask is None or bool(attention_mask.all()) else attention_mask.bool()
        x = self.embeddings(input_ids, token_type_ids)                 # (B, L, H)
        x, attentions = self.encoder(x, keep, output_attentions)
        return x, (attentions if output_attentions else None)


def set_attention_path(model: nn.Module, path: str) -> nn.Module:
    """Make every attention layer of ``model`` compute ``path`` ("sdpa" or "explicit", see
    :mod:`spanbert_edu.attention`); returns ``model``. Training runs choose it by measurement."""
    check_choice("attention", path, ATTENTION_PATHS)
    for m in model.modules():
        if isinstance(m, BertSelfAttention):
            m.path = path
    return model


def init_weights(module: nn.Module, std: float) -> None:
    """BERT's initialisation: normal(0, std) weights, zero biases, LayerNorm 1 / 0."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, std)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
