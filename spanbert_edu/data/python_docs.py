"""The larger offline corpus: the CPython documentation, ``load_corpus("python-docs")``.

Debian and Ubuntu ship the reStructuredText sources of the whole Python manual (tutorial,
library and language reference, HOWTOs, FAQ, What's New; about 1.4 M words, six times the
bundled corpus) in ``python3.X-doc``::

    sudo apt-get install python3.11-doc     # -> /usr/share/doc/python3.11/html/_sources/

or pass any folder holding ``*.rst.txt`` / ``*.rst`` sources (``--docs-path DIR``).

**What is kept.** Prose paragraphs, including the descriptions inside ``.. function::``,
``.. class::``, ``.. note::``, ``.. versionchanged::`` and similar directives (their signature
lines are dropped). Inline markup is reduced to its text: ``:func:`len``` -> ``len``,
```text <url>`_`` -> ``text``, ``**bold**`` -> ``bold``. **What is dropped**: section titles,
literal blocks (after ``::``), code and doctest directives, doctest lines, tables (grid, simple,
``csv-table``, ``list-table``), grammar productions, ``toctree``/``index``/``module`` and other
non-prose directives, directive options, comments, and any paragraph that is under 4 words or
less than 75% letters and spaces (``documents.is_prose``, the same rule as the bundled corpus).

**Documents.** One page is one document, except that a long page (over 3,000 words) is cut at
its top-level sections. The held-out split is by PAGE (a hash of the page path), so the sections
of one page never straddle the two splits.

**No leak into the bundled corpus' held-out split.** The manual restates much of what the
bundled corpus holds (the pydoc topics are generated from the language reference, and the
library pages repeat module docstrings). Training documents from here are cleaned in two ways:

* a library page whose module (or its top-level package) is a held-out bundled document
  (``stdlib/json/__init__.py`` -> ``library/json``; ``stdlib/email/utils.py`` -> ``library/email``
  and ``library/email.utils``) is dropped whole: its subject is the held-out text's subject;
* any paragraph sharing an 8-word sequence with a held-out bundled document is dropped
  (lower-cased, punctuation split off), the usual n-gram decontamination.

``decontamination_report()`` counts what each rule removed. This module owns finding the sources,
cutting pages into documents, the split by page and the decontamination; the reST cleaning
itself lives in :mod:`.rst`.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from .bundled import default_documents
from .documents import MIN_DOCUMENT_WORDS, Document, split_documents
from .rst import clean_inline, rst_sections

__all__ = ["python_docs_documents", "decontamination_report", "docs_path", "clean_inline", "rst_sections"]

DEFAULT_DOCS_PATHS = tuple(Path(f"/usr/share/doc/python3.{minor}/html/_sources") for minor in range(20, 7, -1))
APT_HINT = "sudo apt-get install python3.11-doc   (Debian/Ubuntu; or pass --docs-path DIR)"
LONG_PAGE_WORDS = 3000
NGRAM = 8


def docs_path(path=None) -> Path:
    """The folder of documentation sources: ``path`` if given, else the first installed one."""
    if path is not None:
        p = Path(path)
        if not p.is_dir():
            raise ValueError(f"docs_path={str(path)!r} is not a folder of .rst sources")
        return p
    for candidate in DEFAULT_DOCS_PATHS:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the CPython documentation sources are not installed; install them with\n"
                            f"    {APT_HINT}")


def _page_module(rel: str) -> str | None:
    """``library/json.rst.txt`` -> ``json``; other pages -> None."""
    m = re.match(r"library/([\w.]+)\.rst(\.txt)?$", rel)
    return m.group(1) if m else None


@functools.lru_cache(maxsize=1)
def _heldout_bundled() -> tuple:
    """The bundled corpus's held-out documents, which no python-docs training text may leak."""
    return tuple(split_documents(default_documents(), "heldout", 0.05))


def _heldout_bundled_modules() -> set[str]:
    modules = set()
    for d in _heldout_bundled():
        if d.doc_id.startswith("stdlib/"):
            parts = d.doc_id[len("stdlib/"):].removesuffix(".py").split("/")
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            modules.add(".".join(parts))
            modules.add(parts[0])
    return modules


def _ngrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+|[^\w\s]", text.lower())
    return {tuple(words[k:k + NGRAM]) for k in range(len(words) - NGRAM + 1)}


@functools.lru_cache(maxsize=1)
def _heldout_bundled_ngrams() -> frozenset:
    return frozenset(g for d in _heldout_bundled() for g in _ngrams(d.text))


@functools.lru_cache(maxsize=4)
def _pages(root: str) -> tuple:
    """(relative path, sections) for every source page, sorted by path."""
    base = Path(root)
    files = sorted(p for p in base.rglob("*") if p.is_file() and p.name.endswith((".rst.txt", ".rst")))
    if not files:
        raise ValueError(f"docs_path={root!r} holds no .rst or .rst.txt files")
    pages = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"{f} is not UTF-8 text: {err}") from None
        pages.append((f.relative_to(base).as_posix(), tuple((t, tuple(p)) for t, p in rst_sections(text))))
    return tuple(pages)


def _page_documents(rel: str, sections) -> list[Document]:
    page_id = "python-docs/" + re.sub(r"\.rst(\.txt)?$", "", rel)
    n_words = sum(len(p.split()) for _, paras in sections for p in paras)
    if n_words <= LONG_PAGE_WORDS:
        paras = [p for _, ps in sections for p in ps]
        return [Document(page_id, "\n\n".join(paras))] if paras else []
    return [Document(f"{page_id}#{k}", "\n\n".join(ps)) for k, (_, ps) in enumerate(sections) if ps]


def python_docs_documents(split: str = "train", *, path=None, heldout_fraction: float = 0.05,
                          decontaminate: bool = True) -> list[Document]:
    """Documents of the CPython manual for ``split`` ("train", "heldout", "all"); see the module
    docstring for what is kept, how pages are split and how the training split is decontaminated."""
    root = docs_path(path)
    pages = _pages(str(root))
    # Hold out by page: split a list of one stand-in document per page, then expand.
    stand_ins = [Document(rel, "") for rel, _ in pages]
    chosen = {d.doc_id for d in split_documents(stand_ins, split, heldout_fraction)}
    modules = _heldout_bundled_modules() if decontaminate and split != "heldout" else set()
    grams = _heldout_bundled_ngrams() if decontaminate and split != "heldout" else frozenset()
    docs = []
    for rel, sections in pages:
        if rel not in chosen or _page_module(rel) in modules:
            continue
        if grams:
            sections = [(t, [p for p in ps if not (_ngrams(p) & grams)]) for t, ps in sections]
        docs += [d for d in _page_documents(rel, sections) if len(d.text.split()) >= MIN_DOCUMENT_WORDS]
    return docs


def decontamination_report(path=None) -> dict:
    """How many training pages and paragraphs each leak rule removed, and the words kept."""
    root = docs_path(path)
    pages = _pages(str(root))
    train_pages = {d.doc_id for d in split_documents([Document(r, "") for r, _ in pages], "train", 0.05)}
    modules, grams = _heldout_bundled_modules(), _heldout_bundled_ngrams()
    dropped_pages = sorted(r for r in train_pages if _page_module(r) in modules)
    n_paras = dropped_paras = words_dropped = 0
    for rel, sections in pages:
        if rel in train_pages and rel not in dropped_pages:
            for _, ps in sections:
                for p in ps:
                    n_paras += 1
                    if _ngrams(p) & grams:
                        dropped_paras += 1
                        words_dropped += len(p.split())
    kept = sum(len(d.text.split()) for d in python_docs_documents("train", path=path))
    return {"pages_dropped_by_module": dropped_pages, "paragraphs": n_paras,
            "paragraphs_dropped_by_ngram": dropped_paras, "words_dropped_by_ngram": words_dropped,
            "train_words_kept": kept, "ngram": NGRAM}

