"""The authors' released SpanBERT with BOTH heads, loaded into ``SpanBertForPreTraining``.

The authors published SpanBERT-large with its MLM and SBO heads as a raw fairseq file
(``spanbert_large_with_head.tar.gz``); the Hugging Face hub release is encoder-only. Their model
(``pretraining/fairseq/models/pair_bert.py``) is wrapped by fairseq, so its state-dict keys are

* ``decoder.bert.*``: the encoder, with BERT's names except that LayerNorm parameters are
  ``gamma`` / ``beta`` (ours: ``weight`` / ``bias``);
* ``decoder.cls.predictions.{transform.dense, transform.LayerNorm, decoder, bias}``: the MLM head;
* ``decoder.cls.pair_target_predictions.{position_embeddings, mlp_layer_norm.linear1,
  mlp_layer_norm.layer_norm1, mlp_layer_norm.linear2, mlp_layer_norm.layer_norm2, decoder,
  bias}``: the SBO head (our ``sbo.{position_embeddings, dense1, LayerNorm1, dense2, LayerNorm2,
  bias}``).

Both decoders are tied to the word embeddings in their code; the converter checks that the saved
copies equal the embeddings and says so when they do not. The SBO position table's size comes
from the weight (the code's default is 20 rows; the README's training command used 15). The
config comes from a BERT-style ``config.json`` beside the weights (inside the archive too), else
from the shapes, with ``num_attention_heads = hidden_size / 64`` (true of every BERT size, but
not of a miniature: give it a ``config.json``). Segment ids are all zeros; the 2-row token-type
table is kept.

Reading is safe: ``torch.load(weights_only=True)``, with only ``argparse.Namespace`` (fairseq
stores its arguments in one) allowed besides tensors; anything else is refused. Archive members
with absolute paths or ``..`` are refused before anything is extracted.
"""
from __future__ import annotations

import argparse
import json
import pickle
import re
import tarfile
import tempfile
import zlib
from pathlib import Path

import torch

from .._checks import BAD_JSON, check_path
from ..heads import SpanBertForPreTraining
from ..model import SpanBertConfig

_SBO_NAMES = {"position_embeddings.weight": "position_embeddings.weight",
              "mlp_layer_norm.linear1.weight": "dense1.weight", "mlp_layer_norm.linear1.bias": "dense1.bias",
              "mlp_layer_norm.layer_norm1.weight": "LayerNorm1.weight",
              "mlp_layer_norm.layer_norm1.bias": "LayerNorm1.bias",
              "mlp_layer_norm.linear2.weight": "dense2.weight", "mlp_layer_norm.linear2.bias": "dense2.bias",
              "mlp_layer_norm.layer_norm2.weight": "LayerNorm2.weight",
              "mlp_layer_norm.layer_norm2.bias": "LayerNorm2.bias", "bias": "bias"}
_WEIGHT_FILES = ("model.pt", "pytorch_model.bin", "checkpoint_best.pt", "checkpoint_last.pt")


ARCHIVE_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)  # a cut or corrupt .tar.gz raises any of them


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a tar archive, or a file named as one; a gzip header cut short counts,
    so that it is reported as a damaged archive (``tarfile.is_tarfile`` raised EOFError on it)."""
    if not path.is_file():
        return False
    try:
        return tarfile.is_tarfile(path) or path.name.endswith((".tar.gz", ".tgz", ".tar"))
    except (EOFError, OSError, zlib.error):
        return True


def damaged_archive(path: Path, err: Exception) -> ValueError:
    """The error for an archive that ``ARCHIVE_ERRORS`` says cannot be read."""
    return ValueError(f"{path} is a truncated or corrupt archive ({type(err).__name__}: "
                      f"{str(err)[:120]}); download it again")


def _safe_extract(archive: Path, into: Path) -> None:
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for m in members:
            parts = Path(m.name).parts
            if m.name.startswith(("/", "\\")) or Path(m.name).is_absolute() or ".." in parts:
                raise ValueError(f"{archive} holds an unsafe member path {m.name!r} (absolute or with '..'); "
                                 "refusing to extract it")
            if m.issym() or m.islnk() or m.isdev():
                raise ValueError(f"{archive} holds a link or device member {m.name!r}; refusing to extract it")
        tar.extractall(into, members=members)


def _find_weights(folder: Path, shown: str) -> Path:
    found = [p for name in _WEIGHT_FILES for p in sorted(folder.rglob(name))]
    if not found:
        raise ValueError(f"no weights file ({', '.join(_WEIGHT_FILES)}) under {shown}")
    return found[0]


def _load_state(file: Path, path: str) -> dict:
    """The state dict in ``file``; messages name it as ``path`` (inside an archive: archive:member)."""
    allow = getattr(torch.serialization, "safe_globals", None)  # torch >= 2.5
    try:
        if allow is not None:
            with allow([argparse.Namespace]):
                obj = torch.load(file, map_location="cpu", weights_only=True)
        else:
            obj = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(f"{path} needs code to be unpickled (weights_only loading refused it), so it "
                         f"is not loaded: {str(err).splitlines()[0]}") from None
    except Exception as err:  # empty, truncated, random bytes, a folder: the unpickler raises anything (even IndexError)
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ValueError(f"{path} is not a readable torch weights file ({type(err).__name__}: "
                         f"{first[:120]}); it is empty, truncated or not the authors' file") from None
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]  # a fairseq checkpoint: {"args", "model", "optimizer_history", ...}
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        raise ValueError(f"{path} does not hold a state dict of tensors")
    return obj


def _canonical(state: dict) -> dict:
    """Drop fairseq's ``decoder.`` prefix; ``gamma``/``beta`` -> ``weight``/``bias``."""
    out = {}
    for key, value in state.items():
        key = key[len("decoder."):] if key.startswith("decoder.") else key
        key = re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", key))
        out[key] = value
    return out


def _read_release(path: Path) -> tuple[dict, dict | None, str]:
    """(state dict, the BERT-style config or None, where that config came from) of the archive,
    folder or weights file. An archive is extracted into a temporary folder, and both the weights
    and the config are read before that folder is removed."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = path
        if is_archive(path):
            try:
                _safe_extract(path, Path(tmp))
            except ARCHIVE_ERRORS as err:
                raise damaged_archive(path, err) from None
            folder = Path(tmp)
        # what the user gave, not the temporary folder an archive was extracted into (gone by then)
        shown = lambda p: f"{path}:{p.relative_to(tmp)}" if folder != path else str(p)
        weights = _find_weights(folder, str(path)) if folder.is_dir() else folder
        state = _canonical(_load_state(weights, shown(weights)))
        config_file = next((p for p in (weights.parent / "config.json", weights.parent / "bert_config.json")
                            if p.is_file()), None)
        if config_file is None:
            return state, None, ""
        where = shown(config_file)
        try:
            bert = json.loads(config_file.read_text(encoding="utf-8"))
        except BAD_JSON as err:
            raise ValueError(f"{where} is not a JSON config ({type(err).__name__}: {str(err)[:120]})") from None
        if not isinstance(bert, dict):
            raise ValueError(f"{where} holds a JSON {type(bert).__name__}, not a BERT config object")
        return state, bert, where


def _config(state: dict, bert: dict | None, where: str, vocab_size: int) -> SpanBertConfig:
    hidden = state["bert.embeddings.word_embeddings.weight"].shape[1]
    sbo_positions, sbo_size = state["cls.pair_target_predictions.position_embeddings.weight"].shape
    values = {"vocab_size": vocab_size, "hidden_size": hidden, "num_attention_heads": max(1, hidden // 64),
              "num_hidden_layers": 1 + max(int(m.group(1)) for k in state
                                           if (m := re.match(r"bert\.encoder\.layer\.(\d+)\.", k))),
              "intermediate_size": state["bert.encoder.layer.0.intermediate.dense.weight"].shape[0],
              "max_position_embeddings": state["bert.embeddings.position_embeddings.weight"].shape[0],
              "type_vocab_size": state["bert.embeddings.token_type_embeddings.weight"].shape[0],
              "sbo_position_size": sbo_size, "max_span_targets": sbo_positions, "pad_token_id": 0}
    if bert is not None:
        for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                    "max_position_embeddings", "type_vocab_size", "hidden_dropout_prob",
                    "attention_probs_dropout_prob", "initializer_range", "layer_norm_eps"):
            if key in bert:
                values[key] = bert[key]
        if bert.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{where}: hidden_act {bert['hidden_act']!r}; only the exact gelu is supported")
    return SpanBertConfig.from_dict(values)


# weights of the release this model has no place for, dropped on purpose: BERT's pooler, the tied
# decoders (the word embeddings are the decoder), and an NSP head where a release has one
_UNUSED = ("bert.pooler.", "cls.predictions.decoder.", "cls.pair_target_predictions.decoder.",
           "cls.seq_relationship.")


def from_authors_checkpoint(path, *, strict_ties: bool = True) -> SpanBertForPreTraining:
    """``SpanBertForPreTraining`` with the encoder, MLM head and SBO head of the authors' file:
    the ``.tar.gz``, its extracted folder, or the weights file inside (see the module docstring).
    ``strict_ties=False`` loads even when a saved decoder differs from the word embeddings."""
    path = check_path("path", path)  # "" searched the whole current folder for weights
    if not isinstance(strict_ties, bool):  # "no" is truthy: it would be strict
        raise TypeError(f"strict_ties must be True or False, got {strict_ties!r}")
    if not path.exists():
        raise ValueError(f"path={str(path)!r} does not exist")
    state, bert, where = _read_release(path)
    need = ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
            "bert.embeddings.token_type_embeddings.weight", "bert.encoder.layer.0.intermediate.dense.weight",
            "cls.predictions.bias", "cls.pair_target_predictions.position_embeddings.weight"]  # what _config reads
    missing = [k for k in need if k not in state]
    if missing:
        raise ValueError(f"{path} is not in the authors' layout: missing {missing} "
                         f"(found keys like {sorted(state)[:3]})")
    embeddings = state["bert.embeddings.word_embeddings.weight"]
    for head in ("cls.predictions.decoder.weight", "cls.pair_target_predictions.decoder.weight"):
        if head in state and not torch.equal(state[head], embeddings):
            message = (f"{head} differs from the word embeddings (max difference "
                       f"{float((state[head] - embeddings).abs().max()):.3g}); the authors' code ties them")
            if strict_ties:
                raise ValueError(message + "; pass strict_ties=False to load the embeddings' copy anyway")
    config = _config(state, bert, where, vocab_size=embeddings.shape[0])
    model = SpanBertForPreTraining(config)
    ours = {}
    for key, value in state.items():
        if key.startswith("bert.") and not key.startswith("bert.pooler."):
            ours[key] = value
        elif key.startswith("cls.predictions.") and not key.startswith("cls.predictions.decoder."):
            ours[key] = value
        elif key.startswith("cls.pair_target_predictions.") and not key.endswith("decoder.weight"):
            name = key[len("cls.pair_target_predictions."):]
            if name not in _SBO_NAMES:
                raise ValueError(f"unexpected SBO weight {key!r} in {path}")
            ours["sbo." + _SBO_NAMES[name]] = value
        elif not key.startswith(_UNUSED):
            raise ValueError(f"unexpected weight {key!r} in {path}: not part of the authors' encoder, MLM "
                             "head or SBO head, and not one this converter knows to drop")
    expected = model.state_dict()
    wrong = [(k, tuple(v.shape), tuple(expected[k].shape)) for k, v in ours.items()
             if k in expected and v.shape != expected[k].shape]
    absent = sorted(set(expected) - set(ours))
    unknown = sorted(set(ours) - set(expected))
    if wrong or absent or unknown:
        raise ValueError(f"{path}: weights do not fit the inferred config: shape mismatches "
                         f"(name, found, expected) {wrong[:3]}, missing {absent[:3]}, unexpected {unknown[:3]}")
    model.load_state_dict(ours)
    return model.eval()
