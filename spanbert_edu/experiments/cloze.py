"""A downstream span-selection task made from raw documents, with no labelling by hand.

Cloze-style extractive reading comprehension: take a sentence of a document and a multi-word
span of it that occurs again elsewhere in the same document. The **question** is the sentence
with the span replaced by ``[MASK]``; the **context** is a window of the rest of the document
around the span's other occurrence; the **answer** is that occurrence. A model must find it, as
in SQuAD, and is scored by exact match and token F1 (SQuAD's normalisation).

Not a benchmark anyone reports: a laptop-scale stand-in that rewards the same skill SQuAD
rewards, selecting a span of the context.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.packing import split_sentences
from ..qa.metrics import exact_match
from ..qa.metrics import f1 as f1_score  # SQuAD's official scores, as fine-tuning reports them


@dataclass
class ClozeExample:
    question: str
    context: str
    answer: str
    answer_start: int  # character offset of the answer in the context


def make_cloze_examples(documents, min_words: int = 2, max_words: int = 4, context_words: int = 60,
                        max_question_words: int = 40, per_document: int = 20, seed: int = 0) -> list[ClozeExample]:
    """Up to ``per_document`` examples per document (see the module docstring)."""
    rng = np.random.default_rng(seed)
    examples = []
    for doc in documents:
        text = doc if isinstance(doc, str) else doc.text
        words = [s.split() for s in split_sentences(text)]
        where = collections.defaultdict(set)  # n-gram -> the sentences it occurs in
        for k, ws in enumerate(words):
            for n in range(min_words, max_words + 1):
                for i in range(len(ws) - n + 1):
                    where[tuple(ws[i:i + n])].add(k)
        candidates = []
        for k, ws in enumerate(words):
            if len(ws) > max_question_words:
                continue
            for n in range(min_words, max_words + 1):
                for i in range(len(ws) - n + 1):
                    gram = tuple(ws[i:i + n])
                    others = where[gram] - {k}
                    if others and sum(c.isalpha() for c in "".join(gram)) >= 6 and gram[-1][-1].isalnum():
                        candidates.append((k, i, gram, min(others)))
        for c in rng.permutation(len(candidates))[:per_document]:
            k, i, gram, j = candidates[c]
            around = [w for m in range(max(0, j - 2), min(len(words), j + 3)) if m != k for w in words[m]]
            offset = sum(len(words[m]) for m in range(max(0, j - 2), j) if m != k)
            at = next(a for a in range(offset, offset + len(words[j])) if tuple(around[a:a + len(gram)]) == gram)
            lo = max(0, at - context_words // 2)
            window = around[lo:at + len(gram) + context_words // 2]
            before = " ".join(around[lo:at])
            question = " ".join(words[k][:i] + ["[MASK]"] + words[k][i + len(gram):])
            examples.append(ClozeExample(question, " ".join(window), " ".join(gram),
                                         len(before) + (1 if before else 0)))
    return examples


def encode(examples, tokenizer, max_length: int = 128, with_segments: bool = False):
    """Tensors for a span-selection model: input_ids, attention_mask, (token_type_ids),
    start/end token positions of the answer (examples whose answer is cut off are dropped)."""
    enc = tokenizer([e.question for e in examples], [e.context for e in examples], truncation="only_second",
                    max_length=max_length, padding="max_length", return_offsets_mapping=True,
                    return_token_type_ids=True)
    keep, starts, ends = [], [], []
    for i, e in enumerate(examples):
        seq, offsets = enc.sequence_ids(i), enc["offset_mapping"][i]
        a, b = e.answer_start, e.answer_start + len(e.answer)
        toks = [t for t, (s, (x, y)) in enumerate(zip(seq, offsets)) if s == 1 and x < b and y > a]
        if toks and offsets[toks[0]][0] == a and offsets[toks[-1]][1] == b:
            keep.append(i)
            starts.append(toks[0])
            ends.append(toks[-1])
    batch = {"input_ids": torch.tensor([enc["input_ids"][i] for i in keep]),
             "attention_mask": torch.tensor([enc["attention_mask"][i] for i in keep]),
             "start_positions": torch.tensor(starts), "end_positions": torch.tensor(ends),
             "context_mask": torch.tensor([[s == 1 for s in enc.sequence_ids(i)] for i in keep])}
    if with_segments:
        batch["token_type_ids"] = torch.tensor([enc["token_type_ids"][i] for i in keep])
    return batch, [examples[i] for i in keep], [enc["offset_mapping"][i] for i in keep]


class SpanSelector(nn.Module):
    """A pretrained encoder + Linear(H, 2): start and end logits over the tokens."""

    def __init__(self, encoder):
        super().__init__()
        self.bert = encoder
        self.qa_outputs = nn.Linear(encoder.config.hidden_size, 2)
        nn.init.normal_(self.qa_outputs.weight, std=0.02)
        nn.init.zeros_(self.qa_outputs.bias)

    def forward(self, input_ids, attention_mask, context_mask, token_type_ids=None):
        hidden, _ = self.bert(input_ids, attention_mask, token_type_ids)
        start, end = self.qa_outputs(hidden).unbind(-1)                 # (B, L) each
        return start.masked_fill(~context_mask, -1e4), end.masked_fill(~context_mask, -1e4)


def finetune_and_evaluate(encoder, tokenizer, train_examples, test_examples, steps: int = 200,
                          batch_size: int = 16, learning_rate: float = 1e-3, max_length: int = 128,
                          max_answer_tokens: int = 12, seed: int = 0) -> dict:
    """Fine-tune a copy of ``encoder`` with a span-selection head; exact match and F1 on the test set."""
    import copy

    torch.manual_seed(seed)
    segments = encoder.config.type_vocab_size > 0
    model = SpanSelector(copy.deepcopy(encoder)).train()
    train, _, _ = encode(train_examples, tokenizer, max_length, segments)
    test, kept, offsets = encode(test_examples, tokenizer, max_length, segments)
    opt = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    n = len(train["input_ids"])
    for step in range(steps):
        idx = torch.as_tensor(rng.choice(n, size=min(batch_size, n), replace=False))
        inputs = {k: v[idx] for k, v in train.items() if k not in ("start_positions", "end_positions")}
        start, end = model(**inputs)
        loss = (F.cross_entropy(start, train["start_positions"][idx]) + F.cross_entropy(end, train["end_positions"][idx])) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    em = f1 = 0.0
    with torch.no_grad():
        inputs = {k: v for k, v in test.items() if k not in ("start_positions", "end_positions")}
        start, end = model(**inputs)
        # best (s, e) with s <= e < s + max_answer_tokens
        scores = start[:, :, None] + end[:, None, :]
        L = scores.size(-1)
        allowed = torch.triu(torch.ones(L, L, dtype=torch.bool)) & ~torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=max_answer_tokens)
        flat = scores.masked_fill(~allowed, -1e9).flatten(1).argmax(-1)
        for k, (ex, off) in enumerate(zip(kept, offsets)):
            s, e = divmod(int(flat[k]), L)
            prediction = ex.context[off[s][0]:off[e][1]]
            em += exact_match(prediction, ex.answer)
            f1 += f1_score(prediction, ex.answer)
    count = max(1, len(kept))
    return {"exact_match": 100 * em / count, "f1": 100 * f1 / count, "train_examples": n, "test_examples": len(kept)}
