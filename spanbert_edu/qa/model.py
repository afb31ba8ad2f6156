r"""``SpanBertForQuestionAnswering``: the encoder and a start/end pointer, as SpanBERT is fine-tuned.

Extractive QA selects a span of the context: each token :math:`t` gets a start score and an end
score from one linear layer on its final hidden state, :math:`[s_t, e_t] = W h_t + b`
(``qa_outputs``: (H, 2), named as Hugging Face's ``BertForQuestionAnswering``), and the answer is
the span :math:`i..j` maximising :math:`s_i + e_j`. The span is chosen by its two boundary
tokens, which is exactly what SpanBERT's span boundary objective trains their states to
summarise. The loss is Hugging Face's: the mean of the start and end cross-entropies over the
tokens, with targets outside the sequence clamped and ignored. A question with no answer
(SQuAD 2.0) points at [CLS] (token 0) with both.

Build one from a pretrained ``SpanBertForPreTraining`` (``from_pretraining``), a checkpoint
folder of ours (``from_checkpoint``), or the bundled model (``from_bundled``); Hugging Face BERT
weights come through :func:`spanbert_edu.interop.hf.from_hf_bert` first.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..model import SpanBertConfig, SpanBertModel, init_weights


@dataclass
class QAOutput:
    loss: torch.Tensor | None
    start_logits: torch.Tensor   # (B, L)
    end_logits: torch.Tensor     # (B, L)

    def __getitem__(self, key):  # transformers.Trainer reads output["loss"]
        return getattr(self, key)


class SpanBertForQuestionAnswering(nn.Module):
    """Encoder + ``qa_outputs`` Linear(H, 2). ``forward`` takes :mod:`.features`' batches."""

    HEAD = "question_answering"  # written into its checkpoints' config.json

    def __init__(self, config: SpanBertConfig):
        super().__init__()
        self.config = config
        self.bert = SpanBertModel(config)
        self.bert.pooler = None                      # as HF's add_pooling_layer=False: unused here
        self.qa_outputs = nn.Linear(config.hidden_size, 2)
        init_weights(self, config.initializer_range)

    @classmethod
    def from_pretraining(cls, pretrained) -> "SpanBertForQuestionAnswering":
        """The encoder of a ``SpanBertForPreTraining`` (copied) and a fresh start/end layer; the
        MLM, SBO and pair heads are pretraining's alone and are left behind."""
        model = cls(copy.deepcopy(pretrained.config))
        encoder = {k: v for k, v in pretrained.bert.state_dict().items() if not k.startswith("pooler.")}
        model.bert.load_state_dict(encoder)
        return model

    @classmethod
    def from_checkpoint(cls, directory) -> "SpanBertForQuestionAnswering":
        """A pretraining checkpoint of ours (``runs/.../step-N``, an export), or a fine-tuned one."""
        from ..checkpoint import load_model, read_config

        if read_config(directory).get("head") == "question_answering":
            return load_model(directory, model_class=cls)
        return cls.from_pretraining(load_model(directory))

    @classmethod
    def from_bundled(cls) -> "SpanBertForQuestionAnswering":
        from ..checkpoint import BUNDLED

        return cls.from_checkpoint(BUNDLED)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, start_positions=None,
                end_positions=None, output_attentions=False) -> QAOutput:
        hidden, _ = self.bert(input_ids, attention_mask, token_type_ids, output_attentions)  # (B, L, H)
        start_logits, end_logits = self.qa_outputs(hidden).float().unbind(-1)             # (B, L) each
        loss = None
        if start_positions is not None and end_positions is not None:
            L = start_logits.size(1)
            # HF's rule: a target outside the sequence is clamped to L and ignored
            start = start_positions.view(-1).clamp(0, L)
            end = end_positions.view(-1).clamp(0, L)
            loss = (F.cross_entropy(start_logits, start, ignore_index=L)
                    + F.cross_entropy(end_logits, end, ignore_index=L)) / 2
        return QAOutput(loss, start_logits, end_logits)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
