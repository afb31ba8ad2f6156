"""Examples for training and evaluation: a corpus split, tokenised and packed into blocks.

``prepare_examples(tokenizer, corpus, split, ...)`` is the one place that turns a corpus name
into the list of packed examples the collator takes. Results are kept in an explicit cache
(``EXAMPLES``, process-wide by default; pass ``cache=None`` to skip it), because the ablation and
the recipe search run many arms on the same data. Treat a returned list as read-only.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re

from .corpus import load_corpus
from .packing import pack_documents, split_sentences

EXAMPLES: dict = {}  # (corpus, split, max_length, ...) -> packed examples


def _vocabulary_key(tokenizer) -> str:
    """Two tokenizers share cached examples only if their vocabularies are the same."""
    vocab = tokenizer.get_vocab()
    return hashlib.sha256("\n".join(sorted(vocab, key=vocab.get)).encode()).hexdigest()


def joined_text(documents) -> str:
    """The documents' texts, whitespace collapsed as ``split_sentences`` leaves it, one per line:
    a sentence or a passage "stands in" the documents when it is a substring of this."""
    return "\n".join(" ".join(d.text.split()) for d in documents)


def without_training_repeats(heldout, train, min_words: int = 6) -> list:
    """``heldout`` documents minus every sentence of ``min_words`` words or more that stands word
    for word in a ``train`` document: the bundled corpus repeats some docstrings across modules,
    and a held-out score should not reward what training showed verbatim. Paragraphs are kept."""
    seen = joined_text(train)
    kept = []
    for doc in heldout:
        paragraphs = [" ".join(s for s in split_sentences(p) if len(s.split()) < min_words or s not in seen)
                      for p in re.split(r"\n\s*\n", doc.text)]
        text = "\n\n".join(p for p in paragraphs if p)
        if text:
            kept.append(dataclasses.replace(doc, text=text))
    return kept


def prepare_examples(tokenizer, corpus: str = "default", split: str = "train", *, max_length: int = 128,
                     linguistic: bool = False, pair_objective: str = "none", seed: int = 0,
                     hf_config: str | None = None, docs_path: str | None = None, cache: dict | None = EXAMPLES):
    """Packed examples of ``corpus``'s ``split`` (the held-out one without the sentences that
    stand verbatim in training documents, :func:`without_training_repeats`).

    ``linguistic``: attach entity/phrase candidate spans (the heuristic proposer) for the
    linguistic masking schemes. ``pair_objective`` "nsp"/"sop": sentence pairs (seeded by
    ``seed``) instead of single sequences."""
    key = (corpus, hf_config, docs_path, split, max_length, linguistic, pair_objective,
           seed if pair_objective != "none" else 0, _vocabulary_key(tokenizer))
    if cache is not None and key in cache:
        return cache[key]
    docs = load_corpus(corpus, split, hf_config=hf_config, docs_path=docs_path)
    if split == "heldout":
        docs = without_training_repeats(docs, load_corpus(corpus, "train", hf_config=hf_config, docs_path=docs_path))
    proposers = None
    if linguistic:
        from ..masking.proposers import make_proposers

        proposers = make_proposers("heuristic")
    if pair_objective != "none":
        from .pairs import pack_pairs

        examples = pack_pairs(docs, tokenizer, max_length, pair_objective, seed=seed, proposers=proposers)
    else:
        examples = pack_documents(docs, tokenizer, max_length=max_length, proposers=proposers)
    if cache is not None:
        cache[key] = examples
    return examples
