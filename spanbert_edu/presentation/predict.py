"""Boundary predictions: what the MLM head and the SBO head guess for each token of a masked span.

The MLM head sees the whole (masked) sentence at the token's own position; the SBO head sees
only x_{s-1}, x_{e+1} and the offset p_i. Comparing their top-k shows what the span boundary
alone already tells the model.
"""
from __future__ import annotations

import numpy as np
import torch

from ..batch import IGNORE_INDEX


def _span_tokens(enc, text: str, span):
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


@torch.no_grad()
def predict_span(model, tokenizer, text: str, span, top_k: int = 5) -> dict:
    """Mask ``span`` in ``text`` and return both heads' top-k at every position of it.

    Returns {"tokens", "span": (s, e), "rows": [{"offset", "answer", "mlm": [(token, p)],
    "sbo": [(token, p)]}]}.
    """
    enc = tokenizer(text, return_offsets_mapping=True)
    s, e = _span_tokens(enc, text, span)
    ids = torch.tensor([enc["input_ids"]])
    original = ids.clone()
    ids[0, s:e + 1] = tokenizer.mask_token_id
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[0, s:e + 1] = original[0, s:e + 1]
    T = model.config.max_span_targets
    span_labels = torch.full((1, 1, T), IGNORE_INDEX, dtype=torch.long)
    n = min(e - s + 1, T)
    span_labels[0, 0, :n] = original[0, s:s + n]
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = model(input_ids=ids.to(device), attention_mask=torch.ones_like(ids).to(device),
                labels=labels.to(device), span_boundaries=torch.tensor([[[s - 1, e + 1]]], device=device),
                span_labels=span_labels.to(device))
    model.train(was_training)
    mlm = out.mlm_logits.float().softmax(-1).cpu()
    sbo = out.sbo_logits.float().softmax(-1).cpu() if out.sbo_logits is not None else None
    top = lambda probs: [(tokenizer.convert_ids_to_tokens(int(i)), float(p))
                         for p, i in zip(*probs.topk(top_k))]
    rows = []
    for k in range(e - s + 1):
        rows.append({"offset": k, "answer": tokenizer.convert_ids_to_tokens(int(original[0, s + k])),
                     "mlm": top(mlm[k]), "sbo": top(sbo[k]) if sbo is not None and k < n else None})
    return {"tokens": tokenizer.convert_ids_to_tokens(enc["input_ids"]), "span": (s, e), "rows": rows}


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
    """``n`` held-out sentences of the bundled corpus, each with a 2-3 word span to mask."""
    from ..data import load_corpus
    from ..data.packing import split_sentences

    rng = np.random.default_rng(seed)
    sentences = [s for d in load_corpus("default", "heldout") for s in split_sentences(d.text)
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
