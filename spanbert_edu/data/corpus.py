"""Corpora as lists of documents: the bundled default, a folder of text files, a HF dataset.

The default corpus needs no download: it is English prose that ships inside CPython itself,
the reference-manual topics of ``pydoc_data`` and the docstrings of the standard library
(read with :mod:`ast`, never imported). It is deterministic for a given Python version.

The held-out split is by document (never a document cut in two), chosen by a hash of the
document id, so adding documents elsewhere does not move existing ones between splits.

Not covered here: tokenisation and packing into blocks (:mod:`spanbert_edu.data.packing`).
"""
from __future__ import annotations

import ast
import functools
import hashlib
import os
import re
import sysconfig
import warnings
from dataclasses import dataclass
from pathlib import Path

from .._checks import check_choice, check_real

SPLITS = ("train", "heldout", "all")


@dataclass(frozen=True)
class Document:
    """One document: paragraphs separated by blank lines."""

    doc_id: str
    text: str


# ---------------------------------------------------------------------------------------
# The bundled default corpus
# ---------------------------------------------------------------------------------------
_UNDERLINE = re.compile(r"^\s*([*=~^\-#])\1{2,}\s*$")  # "*****" or "=====" under a title
_SKIP_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "__pycache__",
              "turtledemo", "encodings", "ensurepip", "pydoc_data", "venv"}


def _prose_paragraphs(text: str) -> list[str]:
    """Keep the prose of reST-ish text: drop indented code, doctests and title underlines."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.split("\n")
                 if ln.strip() and not ln.startswith((" ", "\t", ">>>", "..."))
                 and not _UNDERLINE.match(ln)]
        para = " ".join(ln.strip() for ln in lines)
        para = re.sub(r"^[*\-] ", "", para)  # a bullet's marker is not prose
        para = re.sub(r"(\w)- (\w)", r"\1-\2", para)  # "built-" + newline + "in"
        words = para.split()
        letters = sum(ch.isalpha() or ch == " " for ch in para)
        if len(words) >= 4 and letters >= 0.75 * len(para):
            paragraphs.append(" ".join(words))
    return paragraphs


def _pydoc_documents() -> list[Document]:
    from pydoc_data.topics import topics  # the language reference, as pydoc shows it

    docs = []
    for name in sorted(topics):
        paras = _prose_paragraphs(topics[name])
        if paras:
            docs.append(Document(f"pydoc/{name}", "\n\n".join(paras)))
    return docs


def _stdlib_documents() -> list[Document]:
    root = Path(sysconfig.get_paths()["stdlib"])
    docs = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for fname in sorted(f for f in filenames if f.endswith(".py")):
            path = Path(dirpath) / fname
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue  # a few stdlib files are templates or in other encodings
            paras = []
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    paras += _prose_paragraphs(ast.get_docstring(node) or "")
            if paras:
                docs.append(Document(f"stdlib/{path.relative_to(root).as_posix()}", "\n\n".join(paras)))
    return docs


@functools.lru_cache(maxsize=1)
def default_documents() -> tuple[Document, ...]:
    """Every document of the bundled corpus (about 2 MB of text; a few seconds, then cached)."""
    docs = [d for d in _pydoc_documents() + _stdlib_documents() if len(d.text.split()) >= 20]
    return tuple(docs)


# ---------------------------------------------------------------------------------------
# Other sources
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
def split_documents(docs, split: str, heldout_fraction: float) -> list[Document]:
    """Deterministic split by document: the ``heldout_fraction`` with the smallest id hashes."""
    check_choice("split", split, SPLITS)
    fraction = check_real("heldout_fraction", heldout_fraction)
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"heldout_fraction must be in [0, 1), got {heldout_fraction!r}")
    if split == "all":
        return list(docs)
    n_heldout = round(fraction * len(docs))
    if fraction > 0 and len(docs) >= 2:
        n_heldout = min(max(1, n_heldout), len(docs) - 1)  # both splits non-empty
    ranked = sorted(docs, key=lambda d: hashlib.sha1(d.doc_id.encode()).hexdigest())
    heldout_ids = {d.doc_id for d in ranked[:n_heldout]}
    return [d for d in docs if (d.doc_id in heldout_ids) == (split == "heldout")]


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
    if "+" in source and not Path(source).exists():
        return [d for part in source.split("+") for d in load_corpus(
            part, split, heldout_fraction=heldout_fraction, hf_config=hf_config, hf_split=hf_split,
            text_column=text_column, docs_path=docs_path)]
    if source == "python-docs":
        from .python_docs import python_docs_documents

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
