"""The batch contract of spanbert_edu.batch, checked on what the collator writes and the heads read."""
import numpy as np
import torch

from spanbert_edu import SpanBertConfig, SpanBertForPreTraining, SpanMaskingCollator
from spanbert_edu.batch import BATCH_KEYS, IGNORE_INDEX, NO_SPAN


def test_collator_output_follows_the_contract(tokenizer, heldout_examples):
    examples = heldout_examples[:6]
    batch = SpanMaskingCollator(tokenizer, seed=0, return_tensors="np")(examples)
    assert tuple(batch) == BATCH_KEYS
    assert all(v.dtype == np.int64 for v in batch.values())
    B, L = batch["input_ids"].shape
    S, T = batch["span_boundaries"].shape[1], batch["span_labels"].shape[2]
    assert batch["labels"].shape == batch["attention_mask"].shape == (B, L)
    assert batch["span_boundaries"].shape == (B, S, 2) and batch["span_labels"].shape == (B, S, T) and T == 15
    # labels: the original token where masked, IGNORE_INDEX elsewhere (never at padding)
    masked = batch["labels"] != IGNORE_INDEX
    original = np.full((B, L), tokenizer.pad_token_id)
    for b, e in enumerate(examples):
        original[b, :len(e["input_ids"])] = e["input_ids"]
    assert (batch["labels"][masked] == original[masked]).all()
    assert not (masked & (batch["attention_mask"] == 0)).any()
    # a missing span slot is NO_SPAN in both boundaries and IGNORE_INDEX in every target
    missing = (batch["span_boundaries"] == NO_SPAN).all(-1)
    assert missing.any() and ((batch["span_boundaries"] == NO_SPAN).any(-1) == missing).all()
    assert (batch["span_labels"][missing] == IGNORE_INDEX).all()
    # a present span's targets are the tokens between its boundaries, then IGNORE_INDEX
    for b, s in zip(*np.nonzero(~missing)):
        left, right = batch["span_boundaries"][b, s]
        inside = original[b, left + 1:right][:T]
        assert (batch["span_labels"][b, s, :len(inside)] == inside).all()
        assert (batch["span_labels"][b, s, len(inside):] == IGNORE_INDEX).all()


def test_the_heads_read_the_contract(tokenizer, heldout_examples):
    batch = SpanMaskingCollator(tokenizer, seed=1)(heldout_examples[:4])
    model = SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=len(tokenizer)))
    out = model(**batch)
    assert len(out.mlm_targets) == int((batch["labels"] != IGNORE_INDEX).sum())
    assert len(out.sbo_targets) == int((batch["span_labels"] != IGNORE_INDEX).sum())
    assert torch.isfinite(out.loss)
