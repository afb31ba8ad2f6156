"""Extractive question answering examples: what one is, and every way to get a list of them.

It owns ``QAExample`` (a question, a context and the character spans that answer it) and the
loaders: SQuAD v1.1/v2.0 JSON files (``read_squad``), Hugging Face datasets in SQuAD's columns
(``load_hf_squad``), the built-in offline tasks (``TASKS``: the ``"cloze"`` task made from the
bundled corpus), and ``load_qa``, the one dispatch over all three.

Every loader checks that each answer's text stands in its context at its ``answer_start``, so
the code downstream (:mod:`.features`) can trust the character offsets.

Not covered here: tokenisation into windows (:mod:`.features`), turning logits back into answer
text (:mod:`.decode`), scoring (:mod:`.metrics`).
"""
from __future__ import annotations

import collections
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._checks import check_choice, check_int
from ..data import load_corpus
from ..data.examples import joined_text
from ..data.packing import split_sentences


@dataclass
class QAExample:
    """One question about one context. ``answers`` holds ``{"text": str, "answer_start": int}``
    dicts (``answer_start`` a character offset into ``context``); ``[]`` means unanswerable."""

    id: str
    question: str
    context: str
    answers: list[dict] = field(default_factory=list)

    @property
    def is_impossible(self) -> bool:
        return not self.answers


def _checked_example(qid, question, context, answers, where: str) -> QAExample:
    """A QAExample whose every answer is ``context[start:start + len(text)]``, or a ValueError
    naming ``where`` (the file or dataset) and the question id."""
    for name, value in (("id", qid), ("question", question), ("context", context)):
        if not isinstance(value, str):
            raise ValueError(f"{where}: question id={qid!r} has a {name} that is not a string: {value!r}")
    checked = []
    for a in answers:
        text, start = (a.get("text"), a.get("answer_start")) if isinstance(a, dict) else (None, None)
        if not isinstance(text, str) or isinstance(start, bool) or not isinstance(start, int):
            raise ValueError(f"{where}: question id={qid!r} has an answer {a!r}; each answer must be "
                             '{"text": str, "answer_start": int}')
        found = context[start:start + len(text)]
        if start < 0 or found != text:
            raise ValueError(f"{where}: question id={qid!r}: answer {text!r} is not at answer_start={start} "
                             f"of its context (found {found!r} there)")
        checked.append({"text": text, "answer_start": start})
    return QAExample(qid, question, context, checked)


# ---------------------------------------------------------------------------------------
# SQuAD files and Hugging Face datasets
# ---------------------------------------------------------------------------------------
def read_squad(path: str | os.PathLike) -> list[QAExample]:
    """Every question of a SQuAD v1.1 or v2.0 JSON file, in file order.

    A v2.0 question with ``"is_impossible": true`` becomes an example with ``answers == []``
    (its ``plausible_answers`` are not answers and are dropped).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a string or path, got {path!r} ({type(path).__name__})")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path={str(path)!r}: no such file")
    try:
        squad = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"path={str(path)!r} is not a JSON file: {err}") from None
    if not isinstance(squad, dict) or not isinstance(squad.get("data"), list):
        raise ValueError(f"path={str(path)!r} is not in SQuAD's format: it needs a top-level "
                         '{"data": [{"title", "paragraphs": [...]}]}')
    examples = []
    for article in squad["data"]:
        for paragraph in article.get("paragraphs", []):
            for qa in paragraph.get("qas", []):
                answers = qa.get("answers", [])
                if qa.get("is_impossible", False) and answers:
                    raise ValueError(f"{path}: question id={qa.get('id')!r} is marked is_impossible "
                                     f"but has answers {answers!r}")
                examples.append(_checked_example(qa.get("id"), qa.get("question"),
                                                 paragraph.get("context"), answers, str(path)))
    return examples


SQUAD_COLUMNS = ("id", "question", "context", "answers")


def load_hf_squad(name: str, split: str, config: str | None = None) -> list[QAExample]:
    """A Hugging Face dataset in SQuAD's columns: a hub name such as ``"rajpurkar/squad"`` or
    ``"rajpurkar/squad_v2"`` (online, via ``datasets.load_dataset``), or a local folder written
    by ``save_to_disk`` (a ``DatasetDict`` is indexed by ``split``; a lone ``Dataset`` is
    used whole, whatever ``split`` says)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    try:
        import datasets
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("loading a Hugging Face dataset needs `pip install datasets`") from err
    if Path(name).is_dir():
        ds = datasets.load_from_disk(name)
        if isinstance(ds, datasets.DatasetDict):
            check_choice("split", split, list(ds.keys()))
            ds = ds[split]
    else:
        ds = datasets.load_dataset(name, config, split=split)
    missing = [c for c in SQUAD_COLUMNS if c not in ds.column_names]
    if missing:
        raise ValueError(f"name={name!r} lacks the columns {missing}; SQuAD's are {list(SQUAD_COLUMNS)}, "
                         f"it has {ds.column_names}")
    examples = []
    for qid, question, context, answers in zip(*(ds[c] for c in SQUAD_COLUMNS)):
        # the answers column is {"text": [...], "answer_start": [...]}: one dict per answer here
        pairs = [{"text": t, "answer_start": s} for t, s in zip(answers["text"], answers["answer_start"])]
        examples.append(_checked_example(qid, question, context, pairs, f"{name} ({split})"))
    return examples


# ---------------------------------------------------------------------------------------
# The built-in cloze task
# ---------------------------------------------------------------------------------------
CLOZE_SPLITS = ("train", "heldout", "validation")  # "validation" is "heldout", HF's name for it


def _cloze_candidates(sentences, min_words, max_words, max_question_words):
    """(question sentence k, word i, n-gram, sentence j) for each n-gram of a short enough
    sentence k that occurs again in another sentence j of the document (the first such j)."""
    where = collections.defaultdict(set)  # n-gram -> the sentences it occurs in
    for k, words in enumerate(sentences):
        for n in range(min_words, max_words + 1):
            for i in range(len(words) - n + 1):
                where[tuple(words[i:i + n])].add(k)
    candidates = []
    for k, words in enumerate(sentences):
        if len(words) > max_question_words:
            continue
        for n in range(min_words, max_words + 1):
            for i in range(len(words) - n + 1):
                gram = tuple(words[i:i + n])
                others = where[gram] - {k}
                # at least 6 letters and no trailing punctuation: "of the", "it is." say nothing
                if others and sum(c.isalpha() for c in "".join(gram)) >= 6 and gram[-1][-1].isalnum():
                    candidates.append((k, i, gram, min(others)))
    return candidates


def _cloze_example(qid, sentences, k, i, gram, j, context_words) -> QAExample | None:
    """The question is sentence k with ``gram`` masked; the context is about ``context_words``
    words of sentences j-2..j+2 (never k) centred on gram's occurrence in sentence j."""
    question_words = sentences[k][:i] + ["[MASK]"] + sentences[k][i + len(gram):]
    question = " ".join(question_words)
    answer = " ".join(gram)
    if answer in question:  # the span also stands elsewhere in the question: too easy
        return None
    kept = [m for m in range(max(0, j - 2), min(len(sentences), j + 3)) if m != k]
    around = [w for m in kept for w in sentences[m]]
    first = sum(len(sentences[m]) for m in kept if m < j)  # sentence j's first word in ``around``
    at = next(a for a in range(first, first + len(sentences[j])) if tuple(around[a:a + len(gram)]) == gram)
    lo = max(0, at - context_words // 2)
    window = around[lo:at + len(gram) + context_words // 2]
    before = " ".join(window[:at - lo])
    start = len(before) + (1 if before else 0)  # the space after the words before the answer
    answers = [{"text": answer, "answer_start": start}]
    return _checked_example(qid, question, " ".join(window), answers, "cloze")


def make_cloze_qa(documents, seed: int = 0, min_words: int = 2, max_words: int = 4,
                  context_words: int = 60, max_question_words: int = 40,
                  per_document: int = 20) -> list[QAExample]:
    """Up to ``per_document`` cloze questions per document: a sentence with a multi-word span
    replaced by ``[MASK]`` is the question, a window of the same document around another
    occurrence of that span is the context, that occurrence the answer.

    Deterministic given ``seed``; each document draws from its own generator (seeded by the seed
    and its id), so adding a document does not change the questions of the others. Ids are
    ``"<doc_id>#<n>"``.
    """
    seed = check_int("seed", seed, minimum=0)
    per_document = check_int("per_document", per_document, minimum=1)
    examples = []
    for d, doc in enumerate(documents):
        doc_id, text = (f"doc{d}", doc) if isinstance(doc, str) else (doc.doc_id, doc.text)
        sentences = [s.split() for s in split_sentences(text)]
        candidates = _cloze_candidates(sentences, min_words, max_words, max_question_words)
        rng = np.random.default_rng([seed, zlib.crc32(doc_id.encode())])
        made = 0
        for c in rng.permutation(len(candidates)):
            if made == per_document:
                break
            example = _cloze_example(f"{doc_id}#{made}", sentences, *candidates[c], context_words)
            if example is not None:
                examples.append(example)
                made += 1
    return examples


def _unseen(examples, documents) -> list[QAExample]:
    """The examples whose context and question sentence (answer filled in) stand in none of
    ``documents``: the corpus repeats some docstrings word for word in different documents."""
    seen = joined_text(documents)
    return [e for e in examples if e.context not in seen
            and e.question.replace("[MASK]", e.answers[0]["text"]) not in seen]


def cloze_task(split: str = "train", seed: int = 0) -> list[QAExample]:
    """The cloze task on the bundled corpus: ``"train"`` questions come from its training
    documents, ``"heldout"`` (or ``"validation"``) from its held-out ones, disjoint documents;
    a held-out question whose context or sentence also stands in a training document is dropped."""
    check_choice("split", split, CLOZE_SPLITS)
    if split == "train":
        return make_cloze_qa(load_corpus("default", "train"), seed=seed)
    heldout = make_cloze_qa(load_corpus("default", "heldout"), seed=seed)
    return _unseen(heldout, load_corpus("default", "train"))


TASKS = {"cloze": cloze_task}  # name -> function(split, seed) -> list[QAExample]


def load_qa(source: str | os.PathLike, split: str = "train", *, seed: int = 0,
            config: str | None = None) -> list[QAExample]:
    """The one entry to every QA source.

    ``source``: a ``.json`` file in SQuAD's format (the file is one split; ``split`` is not
    used), ``"hf:<name>"`` for a Hugging Face dataset or a local ``save_to_disk`` folder (with
    ``config``), or the name of a built-in task (``TASKS``: ``"cloze"``, drawn with ``seed``).
    """
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a string or path, got {source!r} ({type(source).__name__})")
    source = os.fspath(source)
    if source.endswith(".json"):
        return read_squad(source)
    if source.startswith("hf:"):
        return load_hf_squad(source[3:], split, config)
    if source in TASKS:
        return TASKS[source](split, seed)
    raise ValueError(f"source={source!r} is not a SQuAD .json file, 'hf:<dataset name or folder>', "
                     f"or a built-in task ({sorted(TASKS)})")
