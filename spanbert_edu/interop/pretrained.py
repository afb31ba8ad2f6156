"""``load_pretrained``: a model and its tokenizer, by folder or by name.

* nothing: the bundled ``small`` checkpoint (:data:`..checkpoint.BUNDLED`);
* a checkpoint folder of ours: :func:`..checkpoint.load_model` and its ``vocab.txt``;
* a release name (:data:`.download.RELEASES`, such as ``"spanbert-large-cased-with-heads"``):
  the authors' SpanBERT-large with both heads, downloaded once (:func:`.download.fetch`) and
  converted (:func:`.authors.from_authors_checkpoint`).

It lives in ``interop/`` because the last route needs the download and the authors' layout; the
core (``checkpoint``) knows only our own folders.
"""
from __future__ import annotations

from .._checks import check_path
from ..checkpoint import BUNDLED, load_model
from ..data import load_tokenizer
from .authors import from_authors_checkpoint
from .download import RELEASES, authors_tokenizer, fetch


def load_pretrained(directory=None, *, echo=print):
    """``(model, tokenizer)``, the model in eval mode. ``directory``: a checkpoint folder (default:
    the bundled ``small`` model), or ``"spanbert-large-cased-with-heads"``, the authors' released
    SpanBERT-large with both heads, downloaded once into the Hugging Face cache (:mod:`.download`);
    ``echo`` is told where that file and its tokenizer came from."""
    if isinstance(directory, str) and directory in RELEASES:
        archive = fetch(directory)
        tokenizer, source = authors_tokenizer(archive)
        echo(f"{directory}: {archive}; tokenizer: {source}")
        model = from_authors_checkpoint(archive)
    else:
        directory = check_path("directory", directory) if directory is not None else BUNDLED
        model = load_model(directory).eval()
        tokenizer, source = load_tokenizer(directory / "vocab.txt"), f"the vocabulary of {directory}"
    if len(tokenizer) != model.config.vocab_size:
        raise ValueError(f"{source} has {len(tokenizer)} tokens, the model expects "
                         f"vocab_size={model.config.vocab_size}")
    return model, tokenizer
