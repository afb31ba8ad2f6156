"""What every corpus is made of: ``Document``, the held-out split, and the one prose filter.

Each corpus (:mod:`.bundled`, :mod:`.python_docs`, the loaders of :mod:`.corpus`) builds a list
of ``Document``; this module owns what they share, so that none of them imports another.

* ``split_documents``: the held-out split is by document (never a document cut in two), chosen
  by a hash of the document id, so adding documents elsewhere does not move existing ones
  between splits.
* ``is_prose``: the rule that decides whether a cleaned paragraph is kept, the same for the
  bundled corpus (docstrings, pydoc topics) and the CPython manual (reST pages).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .._checks import check_choice, check_real

SPLITS = ("train", "heldout", "all")
MIN_PROSE_WORDS = 4
MIN_LETTER_SHARE = 0.75  # letters and spaces; code, tables and lists of numbers fall below it
MIN_DOCUMENT_WORDS = 20  # both built-in corpora drop shorter documents (one-line docstrings, stubs)


@dataclass(frozen=True)
class Document:
    """One document: paragraphs separated by blank lines."""

    doc_id: str
    text: str


def is_prose(paragraph: str) -> bool:
    """True if a cleaned paragraph reads as prose: at least 4 words, and at least 75% of its
    characters letters or spaces."""
    if len(paragraph.split()) < MIN_PROSE_WORDS:
        return False
    letters = sum(ch.isalpha() or ch == " " for ch in paragraph)
    return letters >= MIN_LETTER_SHARE * len(paragraph)


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
