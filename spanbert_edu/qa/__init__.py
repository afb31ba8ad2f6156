"""Fine-tuning for span selection: extractive question answering, as SpanBERT is evaluated.

* :mod:`.model` - ``SpanBertForQuestionAnswering``: the encoder and a start/end pointer;
* :mod:`.data` - questions: SQuAD v1.1/v2.0 files, ``hf:`` datasets, built-in offline tasks;
* :mod:`.features` - long contexts cut into overlapping windows, answers mapped to tokens;
* :mod:`.decode` - n-best start/end pairs back to answer text from the original context;
* :mod:`.metrics` - SQuAD's official exact match and F1;
* :mod:`.config`, :mod:`.loop` - ``FinetuneConfig`` and ``finetune`` (``python -m spanbert_edu finetune``).
"""
from .config import FinetuneConfig
from .loop import finetune
from .model import SpanBertForQuestionAnswering

__all__ = ["SpanBertForQuestionAnswering", "FinetuneConfig", "finetune"]
