"""The bundled default corpus, ``load_corpus("default")``: prose that ships inside CPython.

It needs no download: the reference-manual topics of ``pydoc_data`` and the docstrings of the
standard library (read with :mod:`ast`, never imported). It is deterministic for a given Python
version, whose standard library IS the corpus. This module owns reading those sources and
cleaning their reST-ish text into prose paragraphs; what counts as prose is
:func:`.documents.is_prose`.
"""
from __future__ import annotations

import ast
import functools
import os
import re
import sysconfig
from pathlib import Path

from .documents import MIN_DOCUMENT_WORDS, Document, is_prose

_UNDERLINE = re.compile(r"^\s*([*=~^\-#])\1{2,}\s*$")  # "*****" or "=====" under a title
# Not the library's own prose: tests, demos and tools, third-party and vendored code, generated
# codec tables, and pydoc_data (read whole as the pydoc topics).
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
        if is_prose(para):
            paragraphs.append(" ".join(para.split()))
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
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)  # sorted: a fixed order
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
    docs = [d for d in _pydoc_documents() + _stdlib_documents() if len(d.text.split()) >= MIN_DOCUMENT_WORDS]
    return tuple(docs)
