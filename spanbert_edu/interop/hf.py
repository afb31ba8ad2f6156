"""Weights both ways between ``SpanBertForPreTraining`` and Hugging Face BERT.

Our parameter names are BERT's, so the state dicts line up key for key; the only differences:

* HF always has segment embeddings. Exporting a single-sequence model (``type_vocab_size=0``)
  writes a one-row table of zeros, which adds nothing: the outputs stay identical.
* HF's MLM decoder weight is tied to the word embeddings and its bias to ``cls.predictions.bias``.
* The SBO head has no HF counterpart: exporting drops it, importing starts it fresh.

``from_hf_bert("SpanBERT/spanbert-base-cased")`` (online) loads the released encoder; that
checkpoint has no MLM or SBO weights, so both heads start fresh there.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from ..heads import SpanBertForPreTraining
from ..model import SpanBertConfig

_SHARED = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
           "intermediate_size", "max_position_embeddings", "hidden_dropout_prob",
           "attention_probs_dropout_prob", "layer_norm_eps", "initializer_range", "pad_token_id")


def to_hf_bert(model):
    """Our model as Hugging Face BERT with the same outputs: a ``SpanBertForPreTraining`` becomes
    a ``transformers.BertForMaskedLM`` (encoder and MLM head; SBO dropped), a fine-tuned
    ``SpanBertForQuestionAnswering`` (it has ``qa_outputs``) a ``BertForQuestionAnswering``."""
    import transformers

    if not isinstance(getattr(model, "config", None), SpanBertConfig):
        raise TypeError(f"model must be a SpanBertForPreTraining or SpanBertForQuestionAnswering, got "
                        f"{type(model).__name__}")
    c = model.config
    qa = hasattr(model, "qa_outputs")
    hf_class = transformers.BertForQuestionAnswering if qa else transformers.BertForMaskedLM
    hf = hf_class(transformers.BertConfig(**{k: getattr(c, k) for k in _SHARED}, hidden_act="gelu",
                                          type_vocab_size=max(1, c.type_vocab_size)))
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("sbo.")
             and not k.startswith("bert.pooler.") and not k.startswith("cls.seq_relationship.")}
    if c.type_vocab_size == 0:
        state["bert.embeddings.token_type_embeddings.weight"] = torch.zeros(1, c.hidden_size)
    missing, unexpected = hf.load_state_dict(state, strict=False)
    tied = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}
    if set(missing) - tied or unexpected:
        raise RuntimeError(f"weight names did not line up: missing {sorted(set(missing) - tied)}, "
                           f"unexpected {unexpected}")
    if not qa:
        hf.tie_weights()
    return hf.train(model.training)


def _hf_config_to_ours(hf_config, **overrides) -> SpanBertConfig:
    if getattr(hf_config, "hidden_act", "gelu") != "gelu":
        raise ValueError(f"hidden_act must be 'gelu' (exact), got {hf_config.hidden_act!r}")
    values = {k: getattr(hf_config, k) for k in _SHARED}
    values["pad_token_id"] = hf_config.pad_token_id if hf_config.pad_token_id is not None else 0
    values["type_vocab_size"] = hf_config.type_vocab_size
    return SpanBertConfig.from_dict({**values, **overrides})


def from_hf_bert(bert_or_name, **config_overrides) -> SpanBertForPreTraining:
    """A ``SpanBertForPreTraining`` from a HF ``BertModel`` / ``BertForMaskedLM`` /
    ``BertForPreTraining`` or a name / folder for ``from_pretrained``: the encoder (and MLM head
    when the source has one) from HF, a fresh SBO head. ``config_overrides`` go to our config
    (e.g. ``max_span_targets``)."""
    if isinstance(bert_or_name, str):
        from transformers import BertForMaskedLM

        # a hub name is "name" or "owner/name"; anything else is a folder, and a missing one gets
        # our message rather than the hub client's
        looks_local = bert_or_name.startswith((".", "/", "~")) or bert_or_name.count("/") > 1 or "\\" in bert_or_name
        if looks_local and not Path(bert_or_name).expanduser().is_dir():
            raise ValueError(f"bert_or_name={bert_or_name!r}: no such folder (a hub name is 'owner/name'; "
                             "a local model is a folder written by save_pretrained)")
        bert_or_name = BertForMaskedLM.from_pretrained(bert_or_name)
    if not hasattr(bert_or_name, "config") or not hasattr(bert_or_name, "state_dict"):
        raise TypeError(f"bert_or_name must be a Hugging Face BERT model or a name, got "
                        f"{type(bert_or_name).__name__}")
    config = bert_or_name.config
    if getattr(config, "model_type", None) != "bert":
        raise ValueError(f"bert_or_name must be a BERT model (model_type 'bert'), got model_type "
                         f"{getattr(config, 'model_type', None)!r} ({type(bert_or_name).__name__}); "
                         "other architectures name and shape their weights differently")
    if getattr(config, "is_decoder", False) or getattr(config, "add_cross_attention", False):
        raise ValueError("bert_or_name is configured as a decoder (is_decoder / add_cross_attention); "
                         "SpanBERT is a bidirectional encoder, so its outputs would differ")
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        raise ValueError(f"bert_or_name uses position_embedding_type={config.position_embedding_type!r}; "
                         "SpanBERT (and this encoder) has absolute position embeddings only")
    source = bert_or_name.state_dict()
    decoder, embeddings = source.get("cls.predictions.decoder.weight"), source.get("bert.embeddings.word_embeddings.weight")
    if decoder is not None and embeddings is not None and not torch.equal(decoder, embeddings):
        raise ValueError("bert_or_name has an MLM decoder that is not tied to its word embeddings; this "
                         "model's MLM head scores against the input embeddings, so its logits would differ")
    if not any(k.startswith("bert.") for k in source):  # a bare BertModel
        source = {f"bert.{k}": v for k, v in source.items()}
    model = SpanBertForPreTraining(_hf_config_to_ours(bert_or_name.config, **config_overrides))
    ours = model.state_dict()
    loaded = {k: v for k, v in source.items() if k in ours and v.shape == ours[k].shape}
    model.load_state_dict(loaded, strict=False)
    encoder_missing = [k for k in ours if k.startswith("bert.") and k not in loaded
                       and not k.startswith("bert.pooler.")]
    if encoder_missing:
        raise ValueError(f"the source model lacks encoder weights {encoder_missing[:5]}...")
    # the pooler and NSP have no use here; the decoder is the tied embedding matrix, and its bias
    # HF's alias of cls.predictions.bias
    unused = ("bert.pooler.", "cls.seq_relationship.", "cls.predictions.decoder.")
    dropped = sorted(k for k in source if k not in loaded and not k.startswith(unused))
    if dropped:
        warnings.warn(f"from_hf_bert keeps the encoder and MLM head only; dropped {len(dropped)} weights of "
                      f"{type(bert_or_name).__name__}: {dropped[:6]}", stacklevel=2)
    return model


def export_hf(model, out, tokenizer=None) -> Path:
    """Write a folder that ``transformers.AutoModelForMaskedLM.from_pretrained(out)`` loads (the
    encoder and the MLM head), plus ``sbo_head.safetensors`` and ``sbo_head.json`` for
    :func:`load_sbo_head`; for a fine-tuned ``SpanBertForQuestionAnswering``, a folder that
    ``AutoModelForQuestionAnswering`` and the ``question-answering`` pipeline load. ``out`` must
    be new or empty (nothing is ever deleted)."""
    from safetensors.torch import save_file

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"out={str(out)!r} exists and is not an empty folder; choose a new one")
    out.mkdir(parents=True, exist_ok=True)
    to_hf_bert(model).save_pretrained(out)
    if tokenizer is not None:
        tokenizer.save_pretrained(out)
    if not hasattr(model, "sbo"):  # a fine-tuned QA model: AutoModelForQuestionAnswering loads it all
        return out
    save_file({k: v.detach().cpu().contiguous() for k, v in model.sbo.state_dict().items()},
              str(out / "sbo_head.safetensors"))
    c = model.config
    (out / "sbo_head.json").write_text(json.dumps({
        "hidden_size": c.hidden_size, "vocab_size": c.vocab_size, "position_size": c.sbo_position_size,
        "max_span_targets": c.max_span_targets, "layer_norm_eps": c.layer_norm_eps}, indent=2))
    return out


def load_sbo_head(folder):
    """The ``SBOHead`` that :func:`export_hf` wrote next to a Hugging Face model. Use it on the HF
    model's last hidden states: ``head(hidden, span_boundaries, span_labels, model.bert.embeddings.word_embeddings.weight)``."""
    from safetensors.torch import load_file

    from ..heads import SBOHead

    folder = Path(folder)
    if not (folder / "sbo_head.json").is_file():
        raise ValueError(f"{folder} has no sbo_head.json (written by spanbert-edu export-hf)")
    head = SBOHead(**json.loads((folder / "sbo_head.json").read_text()))
    head.load_state_dict(load_file(str(folder / "sbo_head.safetensors")))
    return head.eval()
