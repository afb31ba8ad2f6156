"""Fill a blank with the MLM head, the SBO head or both; rank candidate fillers (FitBERT-style).

    >>> fill_span(model, tokenizer, "The [BLANK] of France is Paris.", n_tokens=1)
    >>> rank_spans(model, tokenizer, "Return a [BLANK] of the list.", ["copy", "shallow copy", "dog"])

The blank becomes ``n_tokens`` [MASK] tokens. The MLM head scores each masked position from the
whole sentence; the SBO head from the two tokens around the blank and the offset alone (the
paper's span boundary representation). ``head="both"`` multiplies the two distributions
(adds log-probabilities) and renormalises: a product of experts. Works with any
``SpanBertForPreTraining``: the bundled model, your own runs, the authors' SpanBERT-large.
"""
from __future__ import annotations

import torch

from .._checks import check_choice, check_int
from ..heads import SpanBertForPreTraining
from .predict import ask_heads, top_tokens

BLANK = "[BLANK]"
HEADS = ("mlm", "sbo", "both")


def _check_model(model, tokenizer) -> None:
    """A pretraining model (both heads) and a tokenizer with [CLS], [SEP] and [MASK]: anything else
    failed deep inside with an AttributeError."""
    if not isinstance(model, SpanBertForPreTraining):
        raise TypeError(f"model must be a SpanBertForPreTraining (both heads), got {type(model).__name__}")
    specials = [getattr(tokenizer, f"{name}_token_id", None) for name in ("cls", "sep", "mask")]
    if not callable(tokenizer) or None in specials:
        raise TypeError(f"tokenizer must be a tokenizer with [CLS], [SEP] and [MASK] tokens (load_tokenizer()), "
                        f"got {type(tokenizer).__name__}")


def _masked_input(tokenizer, text: str, n_tokens: int):
    if not isinstance(text, str) or text.count(BLANK) != 1:
        raise ValueError(f"text must contain {BLANK} exactly once, got {text!r}")
    before, after = text.split(BLANK)
    left = tokenizer(before, add_special_tokens=False)["input_ids"]
    right = tokenizer(after, add_special_tokens=False)["input_ids"]
    ids = [tokenizer.cls_token_id, *left, *[tokenizer.mask_token_id] * n_tokens, *right, tokenizer.sep_token_id]
    s = 1 + len(left)
    return torch.tensor([ids]), s, s + n_tokens - 1


def _log_probs(model, ids, s, e):
    """(n, V) log-probabilities of each head at the blank's positions (SBO: None when the blank
    touches [CLS]/[SEP] or is longer than the head's position table)."""
    mlm, sbo = ask_heads(model, ids, s, e, log=True)
    inside = s - 1 >= 1 and e + 1 < ids.shape[1] - 1 and e - s + 1 <= model.config.max_span_targets
    return mlm, sbo if inside else None


def fill_span(model, tokenizer, text_with_blank: str, n_tokens: int, head: str = "both", top_k: int = 5) -> list:
    """The top-k fillers at each of the blank's ``n_tokens`` positions:
    ``[{"offset": k, "mlm": [(token, p)], "sbo": [...] or None, "both": [...] or None}]``,
    restricted to ``head`` ("mlm", "sbo" or "both": all three)."""
    _check_model(model, tokenizer)
    # at most what the position table holds beside [CLS] and [SEP] (10**30 was an OverflowError)
    check_int("n_tokens", n_tokens, minimum=1, maximum=model.config.max_position_embeddings - 2)
    check_int("top_k", top_k, minimum=1)
    if top_k > len(tokenizer):
        raise ValueError(f"top_k must be at most the vocabulary size ({len(tokenizer)}), got {top_k}")
    check_choice("head", head, HEADS)
    ids, s, e = _masked_input(tokenizer, text_with_blank, n_tokens)
    mlm, sbo = _log_probs(model, ids, s, e)
    if head == "sbo" and sbo is None:
        raise ValueError("the SBO head needs a real token on each side of the blank (not [CLS]/[SEP]) "
                         f"and at most {model.config.max_span_targets} tokens; use head='mlm'")
    top = lambda lp: top_tokens(tokenizer, lp.exp(), top_k)
    rows = []
    for k in range(n_tokens):
        both = (mlm[k] + sbo[k]).log_softmax(-1) if sbo is not None else None
        row = {"offset": k, "mlm": top(mlm[k]) if head in ("mlm", "both") else None,
               "sbo": top(sbo[k]) if sbo is not None and head in ("sbo", "both") else None,
               "both": top(both) if both is not None and head == "both" else None}
        rows.append(row)
    return rows


def rank_spans(model, tokenizer, text_with_blank: str, candidates) -> list:
    """Score each candidate filler by the log-likelihood of its tokens in the blank (all masked at
    once, as FitBERT does): ``mlm`` and ``sbo`` are mean log-probabilities per token (so that
    longer fillers are not penalised for their length), ``score`` their sum. When the SBO head
    cannot score some candidate (the blank touches [CLS]/[SEP], or the filler is longer than its
    position table), every ``score`` is ``mlm`` alone, so that all are ranked by the same rule.
    Returns the candidates, best first."""
    _check_model(model, tokenizer)
    if isinstance(candidates, str) or not candidates:
        raise ValueError(f"candidates must be a non-empty list of strings, got {candidates!r}")
    if not isinstance(candidates, (list, tuple)):  # 5: "'int' object is not iterable"; a dict: its keys
        raise TypeError(f"candidates must be a list of strings, got {candidates!r} ({type(candidates).__name__})")
    results = []
    for text in candidates:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"every candidate must be a non-empty string, got {text!r}")
        target = tokenizer(text, add_special_tokens=False)["input_ids"]
        if not target:  # e.g. only characters the tokenizer strips: it would score as NaN
            raise ValueError(f"candidate {text!r} tokenizes to no tokens at all")
        ids, s, e = _masked_input(tokenizer, text_with_blank, len(target))
        mlm, sbo = _log_probs(model, ids, s, e)
        index = torch.tensor(target)[:, None]
        results.append({"candidate": text, "tokens": len(target), "mlm": float(mlm.gather(1, index).mean()),
                        "sbo": float(sbo.gather(1, index).mean()) if sbo is not None else None})
    with_sbo = all(r["sbo"] is not None for r in results)
    for r in results:
        r["score"] = r["mlm"] + (r["sbo"] if with_sbo else 0.0)
    return sorted(results, key=lambda r: -r["score"])


def format_fill(rows) -> str:
    lines = []
    for row in rows:
        for name in HEADS:
            if row[name] is not None:
                guesses = "  ".join(f"{t} {p:.2f}" for t, p in row[name])
                lines.append(f"  p{row['offset']}  {name.upper():>4}: {guesses}")
    return "\n".join(lines)
