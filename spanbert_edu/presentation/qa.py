"""Ask a QA model a question: its start and end distributions over the context, and the n-best
answers (notebook 09). The computing is the library's (:mod:`spanbert_edu.qa`); this module
only lays it out for a reader.
"""
from __future__ import annotations

import numpy as np

from ..qa.data import QAExample
from ..qa.decode import decode
from ..qa.features import make_features
from ..qa.loop import predict


def answer_question(model, tokenizer, question: str, context: str, n_best: int = 5,
                    max_length: int = 256, max_answer_length: int = 30) -> dict:
    """The model's reading of one question, from its first window: {"tokens", "start", "end"
    (softmax over the context tokens), "answer", "nbest": [{"text", "score"}]} (n-best over
    every window)."""
    for name, text in (("question", question), ("context", context)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    example = QAExample("asked", question, context, [])
    features = make_features([example], tokenizer, max_length=max_length, doc_stride=max_length // 4,
                             max_question_length=min(64, max_length // 4), train=False)
    start, end = predict(model, features)
    # every start and end token is a candidate (not only the top 20): a question typed into the
    # widget gets an answer even from a model that scores padding highest
    predictions, nbest = decode([example], features, start, end, n_best=max_length, max_answer_length=max_answer_length)
    inside = np.array([o is not None for o in features.offset_mapping[0]])          # context tokens
    ids = [i for i, keep in zip(features.input_ids[0].tolist(), inside) if keep]
    soft = lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    return {"tokens": tokenizer.convert_ids_to_tokens(ids), "start": soft(start[0][inside]),
            "end": soft(end[0][inside]), "answer": predictions["asked"],
            "nbest": [{"text": c["text"], "score": float(c["score"])} for c in nbest["asked"][:n_best]]}


def plot_start_end(reading: dict, max_tokens: int = 60):
    """Bars of the start and end probabilities over the first ``max_tokens`` context tokens."""
    from matplotlib.figure import Figure

    tokens = reading["tokens"][:max_tokens]
    x = np.arange(len(tokens))
    fig = Figure(figsize=(max(6.0, 0.22 * len(tokens)), 3.4))
    ax = fig.subplots()
    ax.bar(x - 0.2, reading["start"][:max_tokens], 0.4, color="#457b9d", label="start")
    ax.bar(x + 0.2, reading["end"][:max_tokens], 0.4, color="#e63946", label="end")
    ax.set_xticks(x, tokens, rotation=90, fontsize=7)
    ax.set_ylabel("probability")
    ax.set_title(f"answer: {reading['answer']!r}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def format_nbest(reading: dict) -> str:
    """The n-best answers as text lines, best first: score (start + end logit) and the span."""
    return "\n".join(f"{c['score']:8.2f}  {c['text']!r}" for c in reading["nbest"])
