"""Boundary predictions: what the MLM head and the SBO head guess for each token of a masked span.

The MLM head sees the whole (masked) sentence at the token's own position; the SBO head sees
only x_{s-1}, x_{e+1} and the offset p_i. Comparing their top-k shows what the span boundary
alone already tells the model. :func:`ask_heads` is the one place that asks both heads about a
span: :func:`predict_span`, :mod:`.fill` and the notebook widgets all go through it.
"""
from __future__ import annotations

import numpy as np
import torch

from ..batch import IGNORE_INDEX


def span_tokens(enc, text: str, span):
    """Token positions (s, e) of ``span``: a substring of ``text`` or (first_word, last_word)."""
    words = enc.word_ids()
    if isinstance(span, str):
        start = text.find(span)
        if start < 0:
            raise ValueError(f"span={span!r} does not occur in the text")
        tokens = [t for t, (a, b) in enumerate(enc["offset_mapping"]) if words[t] is not None
                  and a < start + len(span) and b > start]
    else:
        first, last = span
        tokens = [t for t, w in enumerate(words) if w is not None and first <= w <= last]
    if not tokens:
        raise ValueError(f"span={span!r} covers no token")
    return tokens[0], tokens[-1]


def mask_span(tokenizer, text: str, span):
    """Tokenise ``text`` and mask ``span`` (see :func:`span_tokens`): every token of it becomes
    [MASK]. Returns (the encoding, the masked input ids (1, L), s, e)."""
    enc = tokenizer(text, return_offsets_mapping=True)
    s, e = span_tokens(enc, text, span)
    ids = torch.tensor([enc["input_ids"]])
    ids[0, s:e + 1] = tokenizer.mask_token_id
    return enc, ids, s, e


@torch.no_grad()
def ask_heads(model, input_ids, s: int, e: int, log: bool = False):
    """Both heads' distributions over the vocabulary for the masked span s..e of ``input_ids``
    (1, L): ``(mlm (n, V), sbo (min(n, max_span_targets), V))`` with n = e - s + 1, float32 on
    the CPU; probabilities, or log-probabilities with ``log=True``.

    The MLM head reads each masked position; the SBO head reads x_{s-1}, x_{e+1} (which may be
    [CLS] or [SEP]) and the offset, for the first ``max_span_targets`` positions. Whether the
    SBO answer means anything (was the head trained? is the boundary a real word?) is the
    caller's call. The model is run in eval mode and left in the mode it was in."""
    if not 1 <= s <= e < input_ids.shape[1] - 1:
        raise ValueError(f"the span needs a token on each side: 1 <= s <= e < {input_ids.shape[1] - 1}, "
                         f"got s={s}, e={e}")
    was_training, device, T = model.training, next(model.parameters()).device, model.config.max_span_targets
    span_labels = torch.full((1, 1, T), IGNORE_INDEX, dtype=torch.long, device=device)
    span_labels[0, 0, :min(e - s + 1, T)] = 0                       # placeholders: only the logits are used
    bounds = torch.tensor([[[s - 1, e + 1]]], device=device)
    try:
        hidden, _ = model.eval().bert(input_ids.to(device))
        sbo_logits, _ = model.sbo(hidden, bounds, span_labels, model.word_embeddings)
        mlm_logits = model.cls.predictions(hidden[0, s:e + 1], model.word_embeddings)
    finally:
        model.train(was_training)
    normalise = (lambda x: x.float().log_softmax(-1).cpu()) if log else (lambda x: x.float().softmax(-1).cpu())
    return normalise(mlm_logits), normalise(sbo_logits)


def top_tokens(tokenizer, probs, k: int) -> list:
    """The ``k`` most probable tokens of a (V,) distribution: [(token, probability)]."""
    return [(tokenizer.convert_ids_to_tokens(int(i)), float(p)) for p, i in zip(*probs.topk(k))]


def predict_span(model, tokenizer, text: str, span, top_k: int = 5) -> dict:
    """Mask ``span`` in ``text`` and return both heads' top-k at every position of it (SBO: None
    for a model trained without it, and past its ``max_span_targets`` positions).

    Returns {"tokens", "span": (s, e), "rows": [{"offset", "answer", "mlm": [(token, p)],
    "sbo": [(token, p)]}]}.
    """
    enc, ids, s, e = mask_span(tokenizer, text, span)
    mlm, sbo = ask_heads(model, ids, s, e)
    if model.config.sbo_weight <= 0:
        sbo = None
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    rows = [{"offset": k, "answer": tokens[s + k], "mlm": top_tokens(tokenizer, mlm[k], top_k),
             "sbo": top_tokens(tokenizer, sbo[k], top_k) if sbo is not None and k < len(sbo) else None}
            for k in range(e - s + 1)]
    return {"tokens": tokens, "span": (s, e), "rows": rows}


def format_predictions(pred: dict) -> str:
    """A text table: the sentence with the span in brackets, then one line per masked token."""
    s, e = pred["span"]
    toks = pred["tokens"][1:-1]
    shown = " ".join(toks[:s - 1] + ["[" + " ".join(toks[s - 1:e]) + "]"] + toks[e:]).replace(" ##", "")
    lines = [shown]
    for row in pred["rows"]:
        fmt = lambda preds: "  ".join(("*" if t == row["answer"] else "") + f"{t} {p:.2f}" for t, p in preds)
        lines.append(f"  p{row['offset']} {row['answer']!r:>14}  MLM: {fmt(row['mlm'])}")
        if row["sbo"] is not None:
            lines.append(f"  {'':>17}  SBO: {fmt(row['sbo'])}")
    return "\n".join(lines)


def heldout_sentences(n: int, seed: int = 0, min_words: int = 8, max_words: int = 25):
    """``n`` held-out sentences of the bundled corpus, each with a 2-3 word span to mask (none
    of them stands verbatim in a training document)."""
    from ..data import load_corpus
    from ..data.examples import without_training_repeats
    from ..data.packing import split_sentences

    rng = np.random.default_rng(seed)
    heldout = without_training_repeats(load_corpus("default", "heldout"), load_corpus("default", "train"))
    sentences = [s for d in heldout for s in split_sentences(d.text)
                 if min_words <= len(s.split()) <= max_words]
    picks = []
    for i in rng.choice(len(sentences), size=min(n, len(sentences)), replace=False):
        words = sentences[i].split()
        length = int(rng.integers(2, 4))
        start = int(rng.integers(1, len(words) - length - 1))
        picks.append((sentences[i], " ".join(words[start:start + length])))
    return picks


def print_heldout_predictions(model, tokenizer=None, n_sentences: int = 3, seed: int = 0, echo=print):
    from ..data import load_tokenizer

    tokenizer = tokenizer or load_tokenizer()
    echo("\nboundary predictions on held-out sentences (* = the right answer):")
    for sentence, span in heldout_sentences(n_sentences, seed):
        echo(format_predictions(predict_span(model, tokenizer, sentence, span)) + "\n")
