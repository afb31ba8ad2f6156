"""The batch contract: what the collator hands the model, key by key, and how it is padded.

Every pretraining batch is a dict of int64 tensors (numpy arrays with ``return_tensors="np"``);
B = rows, L = tokens per row after padding, S = the most SBO spans any row has (at least 1),
T = ``max_span_targets``:

=====================  ============  ==========================================================
key                    shape         contents, and the padding value
=====================  ============  ==========================================================
``input_ids``          (B, L)        tokens after 80/10/10 replacement; [PAD] after each row
``attention_mask``     (B, L)        1 for a real token, 0 for padding
``labels``             (B, L)        the original id at masked positions, ``IGNORE_INDEX`` elsewhere
``span_boundaries``    (B, S, 2)     positions of x_{s-1} and x_{e+1} per masked span, ``NO_SPAN``
                                     where a row has fewer than S spans
``span_labels``        (B, S, T)     the span's first T original tokens, ``IGNORE_INDEX`` beyond
                                     its end and for missing spans
``token_type_ids``     (B, L)        segment ids, only for NSP / SOP pairs (0 padding)
``next_sentence_label``,             (B,) 0/1, only for NSP / SOP pairs (``PAIR_OBJECTIVES``)
``sentence_order_label``
=====================  ============  ==========================================================

A position or SBO target marked ``IGNORE_INDEX`` carries no loss: it is PyTorch's
``cross_entropy`` default and Hugging Face's label padding, so the batch also trains a plain
``BertForMaskedLM``. The collator writes these values; the heads and the evaluation read them.
"""

IGNORE_INDEX = -100   # labels / span_labels: no target at this position
NO_SPAN = -1          # span_boundaries: this row has no span in this slot

# What a row is: one sequence (SpanBERT), or two segments with BERT's next-sentence label (NSP)
# or ALBERT's sentence-order label (SOP). The data packs rows this way; the model adds the head.
PAIR_OBJECTIVES = ("none", "nsp", "sop")

BATCH_KEYS = ("input_ids", "attention_mask", "labels", "span_boundaries", "span_labels")
