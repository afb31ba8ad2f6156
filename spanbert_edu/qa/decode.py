"""From start/end logits back to answer text: the best span of each example, over all its windows.

It owns ``decode``, with the semantics of Hugging Face's ``run_qa`` post-processing. For each
window (feature) of an example, the ``n_best`` highest start logits and the ``n_best`` highest
end logits are paired; a pair (s, e) is a candidate when both tokens are context tokens (their
offset is not ``None``), ``e >= s`` and the span has at most ``max_answer_length`` tokens. Its
score is ``start[s] + end[e]`` and its text is ``context[offsets[s][0]:offsets[e][1]]``, cut
from the ORIGINAL context, so the answer keeps the context's casing and spacing (the tokens,
with their ``##`` pieces, would not). The best candidate over all windows wins.

SQuAD v2.0 (``version_2=True``): the "no answer" score of a window is ``start[0] + end[0]``
(both at [CLS]); the example's null score is the SMALLEST over its windows (HF's "min null
score": the window most confident that the answer is somewhere in it), and the prediction is
``""`` when the null score beats the best span score by more than ``null_threshold``.

Not covered here: windowing (:mod:`.features`), scoring predictions (:mod:`.metrics`).
"""
from __future__ import annotations

import collections

import numpy as np

from .._checks import check_int, check_real
from .features import CLS_INDEX


def _as_numpy(name: str, logits, shape: tuple[int, int]) -> np.ndarray:
    """Logits as a float64 numpy array of ``shape`` (a tensor may be on any device, any dtype)."""
    if hasattr(logits, "detach"):  # a torch tensor
        logits = logits.detach().float().cpu().numpy()
    logits = np.asarray(logits, dtype=np.float64)
    if logits.shape != shape:
        raise ValueError(f"{name} must have shape (features, tokens) = {shape}, got {logits.shape}")
    return logits


def _window_candidates(offsets, start, end, n_best: int, max_answer_length: int):
    """{(char start, char end): score} of the allowed (s, e) pairs of one window."""
    candidates = {}
    # the n_best highest logits, ties broken by position so the result never depends on the sort
    for s in np.argsort(-start, kind="stable")[:n_best]:
        for e in np.argsort(-end, kind="stable")[:n_best]:
            if offsets[s] is None or offsets[e] is None:
                continue  # a question token, [CLS], [SEP] or padding: not part of the context
            if e < s or e - s + 1 > max_answer_length:
                continue
            span = (offsets[s][0], offsets[e][1])
            candidates[span] = max(candidates.get(span, -np.inf), float(start[s] + end[e]))
    return candidates


def _decode_example(context, windows, n_best, max_answer_length, version_2, null_threshold):
    """The prediction and n-best list of one example from its windows' (offsets, start, end)."""
    best = {}  # (char start, char end) -> best score over the windows (overlaps repeat spans)
    for offsets, start, end in windows:
        for span, score in _window_candidates(offsets, start, end, n_best, max_answer_length).items():
            best[span] = max(best.get(span, -np.inf), score)
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:n_best]
    nbest = [{"text": context[a:b], "score": score, "start": a, "end": b} for (a, b), score in ranked]
    prediction = nbest[0]["text"] if nbest else ""
    if version_2:
        null_score = min(float(start[CLS_INDEX] + end[CLS_INDEX]) for _, start, end in windows)
        if not nbest or null_score > nbest[0]["score"] + null_threshold:
            prediction = ""
        nbest.append({"text": "", "score": null_score, "start": None, "end": None})
        nbest.sort(key=lambda c: -c["score"])
    return prediction, nbest


def decode(examples, features, start_logits, end_logits, n_best: int = 20, max_answer_length: int = 30,
           version_2: bool = False, null_threshold: float = 0.0) -> tuple[dict, dict]:
    """Answer text for every example (see the module docstring).

    ``examples``: the list given to ``make_features``; ``features``: what it returned (with
    ``train=False``, or True: only ``example_index`` and ``offset_mapping`` are read);
    ``start_logits``, ``end_logits``: (N, L) numpy arrays or tensors, one row per feature.

    Returns ``(predictions, nbest)``: ``{id: text}`` and ``{id: [{"text", "score", "start",
    "end"}, ...]}``, best first, ``start``/``end`` character offsets into the context (end
    exclusive). The same span seen in two overlapping windows is listed once, with its higher
    score. With ``version_2`` the list also holds the null answer (``text ""``, ``start``/``end``
    None). An example with no allowed span predicts ``""``.
    """
    n_best = check_int("n_best", n_best, minimum=1)
    max_answer_length = check_int("max_answer_length", max_answer_length, minimum=1)
    null_threshold = check_real("null_threshold", null_threshold)
    if not isinstance(version_2, bool):
        raise TypeError(f"version_2 must be True or False, got {version_2!r}")
    shape = tuple(features.input_ids.shape)
    start_logits = _as_numpy("start_logits", start_logits, shape)
    end_logits = _as_numpy("end_logits", end_logits, shape)
    if len(features) and max(features.example_index) >= len(examples):
        raise ValueError(f"features come from {max(features.example_index) + 1} or more examples but "
                         f"examples has {len(examples)}: pass the list given to make_features")
    windows = collections.defaultdict(list)  # example index -> [(offsets, start, end), ...]
    for i, ex_i in enumerate(features.example_index):
        windows[ex_i].append((features.offset_mapping[i], start_logits[i], end_logits[i]))
    predictions, nbest = {}, {}
    for ex_i, example in enumerate(examples):
        if not windows[ex_i]:
            raise ValueError(f"example {ex_i} (id={example.id!r}) has no feature: pass the features "
                             "made from these examples")
        predictions[example.id], nbest[example.id] = _decode_example(
            example.context, windows[ex_i], n_best, max_answer_length, version_2, null_threshold)
    return predictions, nbest
