"""What masking actually produced: realised span lengths after merging and the budget cut.

The sampler draws lengths from the truncated geometric, but the masked spans a model sees
differ: adjacent and overlapping spans merge, the budget cuts the last one, and a word can be
several tokens. ``realised_span_lengths`` measures that on real packed examples.
"""
from __future__ import annotations

import numpy as np

from ..batch import IGNORE_INDEX
from .engine import MaskingConfig, mask_batch
from .reference import masked_runs
from .vocab import ReplacementVocab
from .words import maskable_positions, non_maskable_ids, word_starts_from_word_ids


def realised_span_lengths(examples, tokenizer, config: MaskingConfig = MaskingConfig(),
                          draws: int = 4, seed: int = 0) -> dict:
    """Merged masked runs over ``draws`` maskings of ``examples``: lengths in words and tokens."""
    L = max(len(e["input_ids"]) for e in examples)
    ids = np.full((len(examples), L), tokenizer.pad_token_id, dtype=np.int64)
    word_ids = np.full((len(examples), L), -1, dtype=np.int64)
    for b, e in enumerate(examples):
        ids[b, :len(e["input_ids"])] = e["input_ids"]
        word_ids[b, :len(e["word_ids"])] = e["word_ids"]
    maskable = maskable_positions(ids, non_maskable_ids(tokenizer))
    word_start = word_starts_from_word_ids(word_ids)
    vocab = ReplacementVocab.uniform(len(tokenizer), tokenizer.mask_token_id, tokenizer.all_special_ids)
    rng = np.random.default_rng(seed)
    words, tokens = [], []
    for _ in range(draws):
        masked = mask_batch(ids, word_start, maskable, config, vocab, rng)["labels"] != IGNORE_INDEX
        offsets, lengths, n_words = masked_runs(masked, word_ids)
        tokens += lengths[offsets == 0].tolist()   # one entry per run: its first token
        words += n_words[offsets == 0].tolist()
    return {"words": np.array(words), "tokens": np.array(tokens)}
