"""SQuAD's official scores: exact match and token F1, each the best over the gold answers.

It owns the answer normalisation (lower case, punctuation removed, the articles a/an/the
removed, whitespace collapsed), ``exact_match`` and ``f1`` of one prediction, and
``squad_metrics`` over a whole set of questions, on SQuAD's 0-100 scale, as the official v1.1
and v2.0 evaluation scripts compute them:

* F1 is the harmonic mean of the token precision and recall of the normalised answers; when
  either side has no tokens it is 1 if both have none, else 0.
* An unanswerable question (v2.0) has the gold answers ``[""]``: it scores 100 only for the
  prediction ``""``. As in the v2.0 script, gold answers that normalise to nothing are dropped
  first (and a question left with none counts as unanswerable).

Not covered here: producing the predictions (:mod:`.decode`).
"""
from __future__ import annotations

import collections
import re
import string

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: ``"The Cat!"`` -> ``"cat"``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {text!r} ({type(text).__name__})")
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _golds(gold) -> list[str]:
    """The gold answers as a list of strings: ``"x"`` -> ``["x"]``; no gold at all -> ``[""]``."""
    golds = [gold] if isinstance(gold, str) else list(gold)
    if not all(isinstance(g, str) for g in golds):
        raise TypeError(f"gold must be a string or a list of strings, got {gold!r}")
    golds = [g for g in golds if normalize_answer(g)]  # as the v2.0 script: drop empty golds
    return golds or [""]


def _f1_one(prediction: str, gold: str) -> float:
    pred_tokens, gold_tokens = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = sum((collections.Counter(pred_tokens) & collections.Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold) -> float:
    """1.0 if the normalised prediction equals a normalised gold answer, else 0.0. ``gold``: one
    answer or a list of them (the maximum is taken); ``[]`` or ``""`` means unanswerable."""
    prediction = normalize_answer(prediction)
    return max(float(prediction == normalize_answer(g)) for g in _golds(gold))


def f1(prediction: str, gold) -> float:
    """Token F1 in [0, 1] against the best of the gold answers (``gold`` as in exact_match)."""
    normalize_answer(prediction)  # the type check, with its message
    return max(_f1_one(prediction, g) for g in _golds(gold))


def _mean_scores(predictions, examples, prefix: str = "") -> dict:
    em = sum(exact_match(predictions[e.id], [a["text"] for a in e.answers]) for e in examples)
    f = sum(f1(predictions[e.id], [a["text"] for a in e.answers]) for e in examples)
    n = len(examples)
    return {f"{prefix}exact_match": 100 * em / n, f"{prefix}f1": 100 * f / n, f"{prefix}n": n}


def squad_metrics(predictions: dict, examples) -> dict:
    """Exact match and F1 (0-100) of ``predictions`` (``{id: text}``) on ``examples``.

    Returns ``{"exact_match", "f1", "n"}``, and, when the examples hold both answerable and
    unanswerable questions, the same three for each kind: ``"has_answer_exact_match"``,
    ``"has_answer_f1"``, ``"has_answer_n"``, ``"no_answer_exact_match"``, ``"no_answer_f1"``,
    ``"no_answer_n"``.

    Every example must have a prediction: a missing id is REFUSED (a ValueError naming it), not
    scored 0, because a missing prediction almost always means predictions and examples come
    from different sets. Predictions for ids not among the examples are ignored, so a subset of
    the examples can be scored.
    """
    if not isinstance(predictions, dict):
        raise TypeError(f"predictions must be a dict {{id: text}}, got {type(predictions).__name__}")
    examples = list(examples)
    if not examples:
        raise ValueError("examples must be a non-empty list of QAExample, got an empty one")
    missing = [e.id for e in examples if e.id not in predictions]
    if missing:
        raise ValueError(f"predictions lacks {len(missing)} of the {len(examples)} question ids, e.g. "
                         f"{missing[:3]}: give a prediction ('' for no answer) for every question")
    for e in examples:
        if not isinstance(predictions[e.id], str):
            raise TypeError(f"predictions[{e.id!r}] must be a string, got {predictions[e.id]!r}")
    scores = _mean_scores(predictions, examples)
    has = [e for e in examples if not e.is_impossible]
    if has and len(has) < len(examples):
        scores.update(_mean_scores(predictions, has, "has_answer_"))
        scores.update(_mean_scores(predictions, [e for e in examples if e.is_impossible], "no_answer_"))
    return scores
