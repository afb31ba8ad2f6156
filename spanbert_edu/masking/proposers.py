"""Span proposers for the linguistic schemes: named entities and noun phrases.

The paper took entities from spaCy's NER (numbers dropped) and noun phrases from spaCy's
parser. Those models are a download away, so the default here is a HEURISTIC that needs
nothing and works on plain words:

* entity (heuristic): a run of capitalised words (``Python Software Foundation``,
  ``SpanBERT``), joined across ``of``/``the``/``van``... when a capitalised word follows; a
  sentence's first word only counts with an inner capital or a name after it; numbers dropped.
* phrase (heuristic): a determiner or possessive (``the``, ``a``, ``this``, ``its`` ...)
  followed by up to three words that are not function words or punctuation
  (``the default value``, ``a mutable object``).

A heuristic, not a parser: it misses lower-case entities and verb-initial phrases and
sometimes swallows a verb. With spaCy and a model installed, ``make_proposers("spacy")`` uses
``doc.ents`` and ``doc.noun_chunks`` instead. Proposers run at data-preparation time
(:func:`spanbert_edu.data.packing.pack_documents`); the collator falls back to the heuristic
on the tokens themselves when an example carries no spans.
"""
from __future__ import annotations

import re

_FUNCTION_WORDS = set("""a an the this that these those its their his her our your my each every
some any no all both of in on at by for with from to into onto over under about as and or but nor
if then else when while is are was were be been being has have had do does did can could may
might must shall should will would not it they we you he she which who whom whose what where how
why than so such there here also only just very more most less least other another same""".split())
_DETERMINERS = set("""a an the this that these those its their his her our your my each every some
any no another""".split())
_CONNECTORS = {"of", "the", "and", "for", "&", "de", "van", "von", "da", "la", "le"}
_NUMBER = re.compile(r"^[\d.,:/%-]+$")
_WORD = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]")


def _is_name(word: str) -> bool:
    """Capitalised somewhere (``Python``, ``SpanBERT``, ``iPhone``), alphanumeric, not a number."""
    return (len(word) > 1 and word.isalnum() and not _NUMBER.match(word)
            and any(c.isupper() for c in word))


def heuristic_entities(words: list[str]) -> list[tuple[int, int]]:
    """Word spans ``(i, j)`` (inclusive) that look like names."""
    spans, i = [], 0
    while i < len(words):
        w = words[i]
        sentence_initial = i == 0 or words[i - 1] in {".", "!", "?", ":"}
        # A capital at the start of a sentence says nothing: there a single word must also
        # have a capital inside (SpanBERT) or be followed by another name (Python Software).
        initial_ok = (not sentence_initial or any(c.isupper() for c in w[1:])
                      or (i + 1 < len(words) and _is_name(words[i + 1])))
        if _is_name(w) and initial_ok and w.lower() not in _FUNCTION_WORDS:
            j = i
            while j + 1 < len(words):
                if _is_name(words[j + 1]):
                    j += 1
                elif (words[j + 1].lower() in _CONNECTORS and j + 2 < len(words)
                      and _is_name(words[j + 2])):
                    j += 2
                else:
                    break
            spans.append((i, j))
            i = j + 1
        else:
            i += 1
    return spans


def heuristic_noun_phrases(words: list[str]) -> list[tuple[int, int]]:
    """Word spans ``(i, j)`` (inclusive): a determiner and up to three content words."""
    spans, i = [], 0
    while i < len(words):
        if words[i].lower() in _DETERMINERS:
            j = i
            while (j + 1 < len(words) and j - i < 3 and words[j + 1][:1].isalnum()
                   and words[j + 1].lower() not in _FUNCTION_WORDS):
                j += 1
            if j > i:
                spans.append((i, j))
                i = j + 1
                continue
        i += 1
    return spans


_WORD_PROPOSERS = {"entity": heuristic_entities, "phrase": heuristic_noun_phrases}


def heuristic_proposer(kind: str):
    """A function sentence -> character spans ``[(start, end_exclusive), ...]``."""
    word_fn = _WORD_PROPOSERS[kind]

    def propose(sentence: str):
        matches = list(_WORD.finditer(sentence))
        return [(matches[i].start(), matches[j].end()) for i, j in word_fn([m.group() for m in matches])]

    propose.__name__ = f"heuristic_{kind}"
    return propose


_NUMERIC_LABELS = {"CARDINAL", "ORDINAL", "QUANTITY", "PERCENT", "MONEY", "DATE", "TIME"}


def spacy_proposer(kind: str, nlp):
    """Character spans from a spaCy pipeline: ``doc.ents`` (numbers dropped, as in the paper)
    or ``doc.noun_chunks``. ``nlp`` is any callable returning a spaCy-like ``Doc``."""
    def propose(sentence: str):
        doc = nlp(sentence)
        if kind == "entity":
            return [(e.start_char, e.end_char) for e in doc.ents if e.label_ not in _NUMERIC_LABELS]
        return [(c.start_char, c.end_char) for c in doc.noun_chunks]

    propose.__name__ = f"spacy_{kind}"
    return propose


def make_proposers(backend: str = "heuristic", spacy_model: str = "en_core_web_sm", nlp=None):
    """``{"entity": f, "phrase": g}``. ``backend``: "heuristic", "spacy" or "auto" (spaCy when
    it and the model load, the heuristic otherwise)."""
    if backend not in ("heuristic", "spacy", "auto"):
        raise ValueError(f"backend must be one of ['auto', 'heuristic', 'spacy'], got {backend!r}")
    if backend != "heuristic" and nlp is None:
        try:
            import spacy

            nlp = spacy.load(spacy_model)
        except (ImportError, OSError) as err:
            if backend == "spacy":
                raise ImportError(f"backend='spacy' needs spaCy and the model {spacy_model!r} "
                                  f"(pip install spacy; python -m spacy download {spacy_model})") from err
    if nlp is not None:
        return {k: spacy_proposer(k, nlp) for k in ("entity", "phrase")}
    return {k: heuristic_proposer(k) for k in ("entity", "phrase")}


def propose_token_spans(tokens: list[str], word_start, maskable, kinds=("entity", "phrase")):
    """The heuristic on tokens alone (the collator's fallback): words are rebuilt by joining
    ``##`` pieces; returns ``{kind: [(s, e), ...]}`` in token positions (inclusive)."""
    bounds = []
    for i in range(len(tokens)):
        if maskable[i] and (word_start[i] or not bounds or bounds[-1][1] != i - 1):
            bounds.append((i, i))
        elif maskable[i]:
            bounds[-1] = (bounds[-1][0], i)
    words = ["".join(t[2:] if t.startswith("##") else t for t in tokens[s:e + 1]) for s, e in bounds]
    return {kind: [(bounds[i][0], bounds[j][1]) for i, j in _WORD_PROPOSERS[kind](words)] for kind in kinds}
