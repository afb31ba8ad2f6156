"""spanbert_edu: SpanBERT (Joshi et al., 2020) for learning.

    >>> from spanbert_edu import SpanMaskingCollator, load_tokenizer, load_corpus
    >>> from spanbert_edu.spans import expected_span_length
    >>> round(expected_span_length(0.2, 10), 3)
    3.797

The core, in the order data flows through it: ``spans`` (span lengths), ``masking`` (every
scheme), ``batch`` (the batch contract), ``collator``, ``data``, ``model`` (the encoder),
``heads`` (MLM, SBO, NSP/SOP), ``train`` (pretraining), ``evaluate``, ``checkpoint``. Around it:
``interop`` (Hugging Face BERT, the authors' release), ``presentation`` (what the notebooks and
figures show), ``experiments`` (ablations, cloze, toy world), ``exercises`` (the checkers) and
``cli`` (``python -m spanbert_edu``). ARCHITECTURE.md has the map.
"""
from . import spans
from .collator import SpanMaskingCollator
from .data import load_corpus, load_tokenizer
from .data.packing import pack_documents
from .heads import SBOHead, SpanBertForPreTraining
from .interop.authors import from_authors_checkpoint
from .interop.hf import from_hf_bert, to_hf_bert
from .interop.pretrained import load_pretrained
from .masking import MaskingConfig, mask_sequence
from .model import SpanBertConfig
from .train import TrainConfig, pretrain

__version__ = "0.1.0"
__all__ = ["spans", "SpanMaskingCollator", "load_corpus", "load_tokenizer", "pack_documents",
           "MaskingConfig", "mask_sequence", "SpanBertConfig", "SpanBertForPreTraining", "SBOHead",
           "pretrain", "TrainConfig", "load_pretrained", "to_hf_bert", "from_hf_bert",
           "from_authors_checkpoint", "__version__"]
