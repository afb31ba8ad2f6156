r"""The pretraining heads: masked LM, the Span Boundary Objective, and (optionally) NSP / SOP.

For a masked span :math:`x_s..x_e` and the target at offset :math:`i` inside it, SBO predicts
the token from the span's two boundary tokens and the offset only:

.. math::
    h_0 = [x_{s-1}; x_{e+1}; p_i], \quad
    h_1 = \mathrm{LayerNorm}(\mathrm{GeLU}(W_1 h_0)), \quad
    y_i = \mathrm{LayerNorm}(\mathrm{GeLU}(W_2 h_1)),

then scores :math:`y_i` against the INPUT word-embedding matrix (tied) plus a bias of its own.
:math:`p_i` is a learned relative-position embedding of size 200 (not H), as in the authors'
code; :math:`W_1: (2H + 200) \to H`, :math:`W_2: H \to H`.

The MLM head is BERT's (dense, GeLU, LayerNorm, tied decoder + bias), computed only at the masked
positions: scoring all L positions against the vocabulary would waste most of the step.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .batch import IGNORE_INDEX
from .model import SpanBertConfig, SpanBertModel, init_weights


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x):
        return self.LayerNorm(F.gelu(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    """MLM: transform, then scores against the tied word embeddings plus ``bias``."""

    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.transform = BertPredictionHeadTransform(c)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))

    def forward(self, hidden, word_embeddings):                     # hidden (N, H)
        # F.linear adds the bias inside the matrix multiply (one pass over the (N, V) logits)
        return F.linear(self.transform(hidden), word_embeddings, self.bias)  # (N, V)


class BertPreTrainingHeads(nn.Module):
    """Named ``cls`` in the model, as in Hugging Face (``cls.predictions``, ``cls.seq_relationship``)."""

    def __init__(self, c: SpanBertConfig):
        super().__init__()
        self.predictions = BertLMPredictionHead(c)
        self.seq_relationship = nn.Linear(c.hidden_size, 2) if c.pair_objective != "none" else None


class SBOHead(nn.Module):
    """The Span Boundary Objective head. Works on hidden states from any encoder (ours or a
    Hugging Face ``BertModel``): pass the last hidden states and the collator's targets."""

    def __init__(self, hidden_size: int, vocab_size: int, position_size: int = 200,
                 max_span_targets: int = 15, layer_norm_eps: float = 1e-12):
        super().__init__()
        self.position_embeddings = nn.Embedding(max_span_targets, position_size)  # p_i
        self.dense1 = nn.Linear(2 * hidden_size + position_size, hidden_size)    # W_1
        self.LayerNorm1 = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dense2 = nn.Linear(hidden_size, hidden_size)                        # W_2
        self.LayerNorm2 = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))                        # own bias

    @classmethod
    def from_config(cls, c: SpanBertConfig) -> "SBOHead":
        return cls(c.hidden_size, c.vocab_size, c.sbo_position_size, c.max_span_targets, c.layer_norm_eps)

    def representations(self, hidden, span_boundaries, span_labels):
        """y_i for every SBO target, and the targets: ((N, H), (N,)).

        hidden (B, L, H); span_boundaries (B, S, 2), NO_SPAN for no span; span_labels (B, S, T)
        (the batch contract, :mod:`spanbert_edu.batch`)."""
        T = span_labels.size(-1)
        if T > self.position_embeddings.num_embeddings:
            raise ValueError(f"span_labels has {T} targets per span, more than the head's "
                             f"max_span_targets={self.position_embeddings.num_embeddings}")
        target = span_labels != IGNORE_INDEX                                # (B, S, T)
        b, s, i = target.nonzero(as_tuple=True)                            # one row per target
        left, right = span_boundaries[b, s, 0], span_boundaries[b, s, 1]   # positions of x_{s-1}, x_{e+1}
        h0 = torch.cat([hidden[b, left], hidden[b, right], self.position_embeddings(i)], dim=-1)
        return self.mlp(h0), span_labels[b, s, i]                          # (N, H), (N,)

    def mlp(self, h0):
        """The two-layer MLP: [x_{s-1}; x_{e+1}; p_i] (..., 2H + P) -> y_i (..., H)."""
        h1 = self.LayerNorm1(F.gelu(self.dense1(h0)))                      # (..., H)
        return self.LayerNorm2(F.gelu(self.dense2(h1)))                    # (..., H)

    def forward(self, hidden, span_boundaries, span_labels, word_embeddings):
        """Logits (N, V) against the tied input embeddings, and the targets (N,)."""
        y, targets = self.representations(hidden, span_boundaries, span_labels)
        return F.linear(y, word_embeddings, self.bias), targets


@dataclass
class SpanBertOutput:
    loss: torch.Tensor
    mlm_loss: torch.Tensor
    sbo_loss: torch.Tensor
    mlm_logits: torch.Tensor          # (N_masked, V), rows in the order of labels.nonzero()
    sbo_logits: torch.Tensor | None   # (N_targets, V)
    mlm_targets: torch.Tensor
    sbo_targets: torch.Tensor | None
    pair_loss: torch.Tensor | None = None
    pair_logits: torch.Tensor | None = None
    hidden_states: torch.Tensor | None = None
    attentions: list | None = None

    def __getitem__(self, key):  # so transformers.Trainer can read output["loss"] or output[0]
        if isinstance(key, int):
            return [getattr(self, k) for k in self.keys()][key]
        return getattr(self, key)

    def keys(self):
        return [k for k in self.__dataclass_fields__ if getattr(self, k) is not None]


def _mean_ce(logits, targets):
    """Mean cross-entropy over the rows (in fp32, also under autocast)."""
    if targets.numel() == 0:
        return logits.sum() * 0.0  # keeps the graph: a batch may have no SBO target
    return F.cross_entropy(logits.float(), targets, reduction="sum") / targets.numel()


class SpanBertForPreTraining(nn.Module):
    """Encoder + MLM head + SBO head (+ NSP/SOP head): loss = MLM + sbo_weight * SBO (+ pair).

    ``forward`` takes the collator's batch directly, so ``transformers.Trainer`` can train it.
    """

    def __init__(self, config: SpanBertConfig):
        super().__init__()
        self.config = config
        self.bert = SpanBertModel(config)
        self.cls = BertPreTrainingHeads(config)
        self.sbo = SBOHead.from_config(config)
        init_weights(self, config.initializer_range)

    @property
    def word_embeddings(self):
        return self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, labels=None, span_boundaries=None,
                span_labels=None, token_type_ids=None, next_sentence_label=None,
                sentence_order_label=None, output_attentions=False, output_hidden_states=False):
        """Losses are means over this batch's targets (the training loop rescales them under
        data parallelism). A misspelled keyword is a TypeError, not silently ignored."""
        if labels is None:
            raise ValueError("labels is required: SpanBertForPreTraining computes the pretraining "
                             "loss; use model.bert(...) for hidden states")
        if labels.shape != input_ids.shape:
            raise ValueError(f"labels must have the shape of input_ids {tuple(input_ids.shape)}, "
                             f"got {tuple(labels.shape)}")
        hidden, attentions = self.bert(input_ids, attention_mask, token_type_ids, output_attentions)
        masked = labels != IGNORE_INDEX                                     # (B, L)
        mlm_logits = self.cls.predictions(hidden[masked], self.word_embeddings)  # only masked rows
        mlm_targets = labels[masked]
        mlm_loss = _mean_ce(mlm_logits, mlm_targets)
        loss = mlm_loss
        sbo_logits = sbo_targets = None
        sbo_loss = torch.zeros((), device=hidden.device)
        if self.config.sbo_weight > 0 and span_boundaries is not None and span_labels is not None:
            sbo_logits, sbo_targets = self.sbo(hidden, span_boundaries, span_labels, self.word_embeddings)
            sbo_loss = _mean_ce(sbo_logits, sbo_targets)
            loss = loss + self.config.sbo_weight * sbo_loss
        pair_loss = pair_logits = None
        pair_label = next_sentence_label if next_sentence_label is not None else sentence_order_label
        if self.cls.seq_relationship is not None:
            pair_logits = self.cls.seq_relationship(self.bert.pooler(hidden))  # (B, 2)
            if pair_label is not None:
                pair_loss = _mean_ce(pair_logits, pair_label.view(-1))
                loss = loss + pair_loss
        return SpanBertOutput(loss, mlm_loss, sbo_loss, mlm_logits, sbo_logits, mlm_targets,
                              sbo_targets, pair_loss, pair_logits,
                              hidden if output_hidden_states else None, attentions)

    def num_parameters(self, exclude_embeddings: bool = False) -> int:
        """Parameter count (``exclude_embeddings`` drops the embedding tables, as HF does)."""
        skip = {id(m.weight) for m in self.modules() if isinstance(m, nn.Embedding)} if exclude_embeddings else set()
        return sum(p.numel() for p in self.parameters() if id(p) not in skip)
