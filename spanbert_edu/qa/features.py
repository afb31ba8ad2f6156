"""From QA examples to model inputs: windows of ``[CLS] question [SEP] context [SEP]``.

It owns ``make_features`` and ``QAFeatures``, with the semantics of Hugging Face's ``run_qa``
example. A context longer than one window is cut into several overlapping windows ("features"):
consecutive windows share ``doc_stride`` context tokens, so an answer cut by one window's edge
stands whole in the next. Each feature remembers the example it came from (``example_index``)
and, for each token, the characters of the context it covers (``offset_mapping``; ``None`` for
[CLS], the question, [SEP] and padding), which is how :mod:`.decode` turns token positions back
into text of the original context.

For training, each feature gets the token positions of the answer's first and last tokens,
when the whole answer lies inside its window; otherwise, and for unanswerable questions, both
point at [CLS] (token 0), the "no answer here" target.

Not covered here: the model, decoding logits into text (:mod:`.decode`), scoring (:mod:`.metrics`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .._checks import check_int

TENSOR_KEYS = ("input_ids", "attention_mask", "token_type_ids")
TARGET_KEYS = ("start_positions", "end_positions")
CLS_INDEX = 0  # [CLS] opens every window: the target of "the answer is not in this window"


@dataclass
class QAFeatures:
    """N windows of L tokens. Tensors are int64; the targets exist only for training features."""

    input_ids: torch.Tensor                 # (N, L)
    attention_mask: torch.Tensor            # (N, L)
    token_type_ids: torch.Tensor            # (N, L): 0 question side, 1 context side
    example_index: list[int]                # N: which example (index into the list given) each came from
    offset_mapping: list[list]              # N x L: (char start, char end) in the context, or None
    start_positions: torch.Tensor | None = None  # (N,): answer's first token, or 0
    end_positions: torch.Tensor | None = None    # (N,): answer's last token, or 0

    def __len__(self) -> int:
        return self.input_ids.size(0)

    def batch(self, indices) -> dict:
        """The model's inputs (and targets, for training features) of the windows ``indices``
        (a list of ints, a 1-D tensor or a slice), as a dict of tensors."""
        keys = TENSOR_KEYS + (TARGET_KEYS if self.start_positions is not None else ())
        if not isinstance(indices, slice):
            indices = torch.as_tensor(indices, dtype=torch.long)
            if indices.dim() != 1:
                raise ValueError(f"indices must be 1-D, got shape {tuple(indices.shape)}")
            if len(indices) and not (-len(self) <= int(indices.min()) and int(indices.max()) < len(self)):
                raise ValueError(f"indices must lie in [0, {len(self)}), got min {int(indices.min())}, "
                                 f"max {int(indices.max())}")
        return {k: getattr(self, k)[indices] for k in keys}


def _truncate_question(question: str, tokenizer, max_question_length: int) -> str:
    """The question cut to at most ``max_question_length`` tokens, at a word boundary when it can
    be (a whole-word prefix tokenises exactly as it did inside the full question)."""
    question = question.lstrip()  # as run_qa: leading spaces waste tokens and upset truncation
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(enc["input_ids"]) <= max_question_length:
        return question
    words, offsets = enc.word_ids(), enc["offset_mapping"]
    cut = max_question_length  # first token dropped
    while cut > 0 and words[cut] == words[cut - 1]:
        cut -= 1  # back off to the start of the word the cut would split
    if cut == 0:  # one word longer than the limit: cut inside it
        cut = max_question_length
    return question[:offsets[cut - 1][1]]


def _answer_positions(offsets, sequence_ids, answer) -> tuple[int, int]:
    """(first, last) token of ``answer`` in this window, or (0, 0) unless it lies wholly inside."""
    context = [t for t, s in enumerate(sequence_ids) if s == 1]
    if not context:  # an empty context: nothing to point at but [CLS]
        return CLS_INDEX, CLS_INDEX
    first, last = context[0], context[-1]
    start_char = answer["answer_start"]
    end_char = start_char + len(answer["text"])
    if not (offsets[first][0] <= start_char and end_char <= offsets[last][1]):
        return CLS_INDEX, CLS_INDEX  # the answer starts before or ends after this window
    # the last context token starting at or before the answer, the first ending at or after it
    start = max(t for t in context if offsets[t][0] <= start_char)
    end = min(t for t in context if offsets[t][1] >= end_char)
    return start, end


def _check_arguments(examples, tokenizer, max_length, doc_stride, max_question_length):
    if not isinstance(examples, (list, tuple)) or not examples:
        raise ValueError(f"examples must be a non-empty list of QAExample, got {type(examples).__name__} "
                         f"of length {len(examples) if hasattr(examples, '__len__') else '?'}")
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(f"tokenizer must be a fast (Rust) tokenizer, which gives offset mappings; got "
                        f"{type(tokenizer).__name__}")
    if getattr(tokenizer, "padding_side", "right") != "right":
        raise ValueError(f"tokenizer.padding_side must be 'right' (question first, context second), "
                         f"got {tokenizer.padding_side!r}")
    check_int("max_length", max_length, minimum=8)
    check_int("doc_stride", doc_stride, minimum=0)
    check_int("max_question_length", max_question_length, minimum=1)
    room = max_length - max_question_length - 3  # context tokens a window has at the least
    if doc_stride >= room:
        raise ValueError(f"doc_stride must be below max_length - max_question_length - 3 = {room} (so "
                         f"every window adds new context), got doc_stride={doc_stride}")


def make_features(examples, tokenizer, max_length: int = 384, doc_stride: int = 128,
                  max_question_length: int = 64, train: bool = True) -> QAFeatures:
    """Tokenise ``examples`` (QAExample) into windows of ``max_length`` tokens (see the module
    docstring). ``train=True`` adds the answer targets (from each example's first answer)."""
    _check_arguments(examples, tokenizer, max_length, doc_stride, max_question_length)
    questions = [_truncate_question(e.question, tokenizer, max_question_length) for e in examples]
    enc = tokenizer(questions, [e.context for e in examples], truncation="only_second",
                    max_length=max_length, stride=doc_stride, return_overflowing_tokens=True,
                    return_offsets_mapping=True, padding="max_length", return_token_type_ids=True)
    example_index = list(enc["overflow_to_sample_mapping"])  # window -> its example
    offset_mapping, starts, ends = [], [], []
    for i, ex_i in enumerate(example_index):
        sequence_ids = enc.sequence_ids(i)  # None special, 0 question, 1 context, per token
        offsets = enc["offset_mapping"][i]
        if train:
            example = examples[ex_i]
            start, end = ((CLS_INDEX, CLS_INDEX) if example.is_impossible
                          else _answer_positions(offsets, sequence_ids, example.answers[0]))
            starts.append(start)
            ends.append(end)
        offset_mapping.append([tuple(o) if s == 1 else None for o, s in zip(offsets, sequence_ids)])
    tensors = {k: torch.tensor(enc[k], dtype=torch.long) for k in TENSOR_KEYS}
    targets = ({"start_positions": torch.tensor(starts, dtype=torch.long),
                "end_positions": torch.tensor(ends, dtype=torch.long)} if train else {})
    return QAFeatures(**tensors, example_index=example_index, offset_mapping=offset_mapping, **targets)
