"""spanbert_edu: SpanBERT (Joshi et al., 2020) for learning.

    >>> from spanbert_edu import SpanMaskingCollator, load_tokenizer, load_corpus
    >>> from spanbert_edu.spans import expected_span_length
    >>> round(expected_span_length(0.2, 10), 3)
    3.797

Modules: ``spans`` (span-length distribution), ``masking`` (every masking scheme),
``collator`` (the Hugging Face collator), ``data`` (corpus, tokenizer, packing), ``model``
(the encoder), ``heads`` (MLM, SBO, NSP/SOP), ``train`` (pretraining), ``evaluate``,
``checkpoint``, ``hf`` (weights to and from Hugging Face BERT), ``authors`` (the authors'
released checkpoint with both heads), ``predict``, ``plots``,
``demo`` and ``cli`` (``python -m spanbert_edu``).
"""
from . import spans
from .interop.authors import from_authors_checkpoint
from .checkpoint import load_pretrained
from .collator import SpanMaskingCollator
from .data import load_corpus, load_tokenizer
from .data.packing import pack_documents
from .heads import SBOHead, SpanBertForPreTraining
from .interop.hf import from_hf_bert, to_hf_bert
from .masking import mask_sequence, MaskingConfig
from .model import SpanBertConfig
from .train import TrainConfig, pretrain

__version__ = "0.1.0"
__all__ = ["spans", "SpanMaskingCollator", "load_corpus", "load_tokenizer", "pack_documents",
           "MaskingConfig", "mask_sequence", "SpanBertConfig", "SpanBertForPreTraining", "SBOHead",
           "pretrain", "TrainConfig", "load_pretrained", "to_hf_bert", "from_hf_bert",
           "from_authors_checkpoint", "__version__"]
