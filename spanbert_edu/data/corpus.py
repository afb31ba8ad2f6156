"""``load_corpus``, the one entry to every corpus, and the loaders of outside text.

It owns the dispatch on ``source`` (``"default"``, ``"python-docs"``, a file or folder, ``"hf:"``,
and ``+`` mixtures) and the two loaders of text that does not ship with the package: a folder of
``.txt`` files and a Hugging Face dataset (WikiText rows regrouped into articles).

Not covered here: the built-in corpora themselves (:mod:`.bundled`, :mod:`.python_docs`), what a
document is and how it is split (:mod:`.documents`), tokenisation and packing into blocks
(:mod:`spanbert_edu.data.packing`).
"""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from .._checks import check_choice
from .bundled import default_documents
from .documents import SPLITS, Document, split_documents
from .python_docs import python_docs_documents

# ---------------------------------------------------------------------------------------
# Outside text: a folder of .txt files, a Hugging Face dataset
# ---------------------------------------------------------------------------------------
def _folder_documents(path: Path) -> list[Document]:
    files = [path] if path.is_file() else sorted(path.rglob("*.txt"))
    if not files:
        raise ValueError(f"source={str(path)!r} holds no .txt files")
    docs = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError as err:
            raise ValueError(f"{f} is not UTF-8 text ({err.reason} at byte {err.start}); "
                             "convert it, e.g. with iconv -t utf-8") from None
        if not text:
            if path.is_file():
                raise ValueError(f"source={str(path)!r} is an empty file")
            warnings.warn(f"skipping empty file {f}")
            continue
        docs.append(Document(f.relative_to(path).as_posix() if path.is_dir() else f.name, text))
    return docs


_WIKITEXT_HEADING = re.compile(r"^ = [^=].* = $")
_WIKITEXT_ESCAPES = {" @-@ ": "-", " @,@ ": ",", " @.@ ": "."}


def _rows_to_documents(rows: list[str], name: str) -> list[Document]:
    """Each non-empty row is a document, except WikiText, whose rows are lines of articles."""
    if any(_WIKITEXT_HEADING.match(r.rstrip("\n")) for r in rows[:1000]):
        docs, current = [], []
        for row in rows + [" = END = "]:
            if _WIKITEXT_HEADING.match(row.rstrip("\n")) and current:
                text = "\n\n".join(current)
                for old, new in _WIKITEXT_ESCAPES.items():
                    text = text.replace(old, new)
                docs.append(Document(f"{name}/{len(docs)}", text))
                current = []
            elif row.strip() and not row.strip().startswith("="):
                current.append(row.strip())
        return docs
    return [Document(f"{name}/{i}", r.strip()) for i, r in enumerate(rows) if r.strip()]


def _hf_documents(name: str, config: str | None, split: str, text_column: str) -> list[Document]:
    """A Hugging Face dataset: a hub name or a local dataset folder (load_dataset's rules)."""
    try:
        import datasets
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("loading a Hugging Face dataset needs `pip install datasets`") from err
    if Path(name, "dataset_info.json").exists() or Path(name, "state.json").exists():
        ds = datasets.load_from_disk(name)  # a folder written by Dataset.save_to_disk
        ds = ds[split] if isinstance(ds, datasets.DatasetDict) else ds
    else:
        ds = datasets.load_dataset(name, config, split=split)
    if text_column not in ds.column_names:
        raise ValueError(f"text_column={text_column!r} is not a column of {name!r}; "
                         f"columns: {ds.column_names}")
    return _rows_to_documents(list(ds[text_column]), name)


# ---------------------------------------------------------------------------------------
# The public loader
# ---------------------------------------------------------------------------------------
def load_corpus(source: str | os.PathLike = "default", split: str = "train", *,
                heldout_fraction: float = 0.05, hf_config: str | None = None,
                hf_split: str = "train", text_column: str = "text",
                docs_path: str | os.PathLike | None = None) -> list[Document]:
    """Load documents.

    ``source``: ``"default"`` (the bundled corpus), ``"python-docs"`` (the CPython manual, six
    times larger, from Debian's ``python3.11-doc`` or ``docs_path``; see
    :mod:`spanbert_edu.data.python_docs`), a ``.txt`` file or a folder of them (each file one
    document), or ``"hf:<name>"`` for a Hugging Face dataset, e.g.
    ``load_corpus("hf:Salesforce/wikitext", hf_config="wikitext-103-raw-v1")`` (online), or
    ``"hf:<local folder>"``. Join sources with ``+`` for a mixture:
    ``"default+python-docs"`` is each source's split, concatenated.
    ``split``: ``"train"``, ``"heldout"`` or ``"all"``.
    """
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a string or path, got {source!r} ({type(source).__name__})")
    source = os.fspath(source)
    if not source.strip() or any(not part.strip() for part in source.split("+")):
        # "" would be the current folder: whatever .txt files happen to be there
        raise ValueError(f"source must name a corpus ('default', 'python-docs', a folder, a .txt file "
                         f"or hf:<name>, joined with '+'), got {source!r}")
    if "+" in source and not Path(source).exists():
        return [d for part in source.split("+") for d in load_corpus(
            part, split, heldout_fraction=heldout_fraction, hf_config=hf_config, hf_split=hf_split,
            text_column=text_column, docs_path=docs_path)]
    if source == "python-docs":  # split by page there; check the split before looking for the docs
        check_choice("split", split, SPLITS)
        return python_docs_documents(split, path=docs_path, heldout_fraction=heldout_fraction)
    if source == "default":
        docs = list(default_documents())
    elif source.startswith("hf:"):
        docs = _hf_documents(source[3:], hf_config, hf_split, text_column)
    elif Path(source).exists():
        docs = _folder_documents(Path(source))
    else:
        raise ValueError(f"source={source!r} is not 'default', 'python-docs', an existing file "
                         "or folder, or 'hf:<dataset name>'")
    if not docs:
        raise ValueError(f"source={source!r} gave an empty corpus (no document with text)")
    return split_documents(docs, split, heldout_fraction)
