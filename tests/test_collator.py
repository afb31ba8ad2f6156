"""SpanMaskingCollator: outputs, padding, seeds, DataLoader, Trainer, bad input."""
import numpy as np
import pytest
import torch

from spanbert_edu import SpanMaskingCollator
from spanbert_edu.masking import SCHEMES

TEXTS = ["The Python Software Foundation maintains the reference implementation of Python.",
         "A mapping object maps hashable values to arbitrary objects.",
         "Short one."]


@pytest.fixture(scope="module")
def batch_examples(heldout_examples):
    return heldout_examples[:16]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_outputs_shapes_and_targets(tokenizer, batch_examples, scheme):
    out = SpanMaskingCollator(tokenizer, scheme=scheme, seed=0)(batch_examples)
    B, L = len(batch_examples), max(len(e["input_ids"]) for e in batch_examples)
    assert set(out) == {"input_ids", "attention_mask", "labels", "span_boundaries", "span_labels"}
    assert out["input_ids"].shape == out["labels"].shape == out["attention_mask"].shape == (B, L)
    assert out["span_boundaries"].shape[:1] == (B,) and out["span_boundaries"].shape[2] == 2
    assert out["span_labels"].shape[:2] == out["span_boundaries"].shape[:2]
    assert out["span_labels"].shape[2] == 15
    assert all(v.dtype == torch.int64 for v in out.values())
    for b, ex in enumerate(batch_examples):
        n = len(ex["input_ids"])
        original = torch.tensor(ex["input_ids"])
        labels = out["labels"][b]
        masked = labels != -100
        assert (out["attention_mask"][b, :n] == 1).all() and (out["attention_mask"][b, n:] == 0).all()
        assert not masked[n:].any() and not masked[0] and not masked[n - 1]  # no pad/CLS/SEP
        assert int(masked.sum()) == int(np.ceil(0.15 * (n - 2)))
        assert (labels[masked] == original[masked[:n]]).all()
        for (left, right), span in zip(out["span_boundaries"][b].tolist(), out["span_labels"][b]):
            if left < 0:
                assert right == -1 and (span == -100).all()
                continue
            assert masked[left + 1:right].all() and not masked[left] and not masked[right]
            k = min(right - left - 1, 15)
            assert (span[:k] == original[left + 1:left + 1 + k]).all() and (span[k:] == -100).all()


def test_same_seed_same_batches_and_word_ids_optional(tokenizer, batch_examples):
    a = SpanMaskingCollator(tokenizer, seed=5)
    b = SpanMaskingCollator(tokenizer, seed=5)
    no_word_ids = [{"input_ids": e["input_ids"]} for e in batch_examples]  # the ## rule instead
    for _ in range(3):
        x, y = a(batch_examples), b(no_word_ids)
        assert all(torch.equal(x[k], y[k]) for k in x)
    assert not torch.equal(SpanMaskingCollator(tokenizer, seed=6)(batch_examples)["labels"], x["labels"])


def test_hugging_face_style_examples(tokenizer):
    """Dicts straight from ``tokenizer(text)``: token_type_ids pass through, bare id lists work."""
    examples = [dict(tokenizer(t)) for t in TEXTS]
    out = SpanMaskingCollator(tokenizer, seed=0)(examples)
    assert out["token_type_ids"].shape == out["input_ids"].shape
    bare = SpanMaskingCollator(tokenizer, seed=0, return_span_targets=False)([e["input_ids"] for e in examples])
    assert set(bare) == {"input_ids", "attention_mask", "labels"}
    padded = SpanMaskingCollator(tokenizer, seed=0, pad_to_multiple_of=8)(examples)
    assert padded["input_ids"].shape[1] % 8 == 0


def test_row_without_maskable_tokens_is_left_alone(tokenizer, batch_examples):
    empty = {"input_ids": [tokenizer.cls_token_id, tokenizer.sep_token_id]}
    out = SpanMaskingCollator(tokenizer, seed=0)([empty] + batch_examples[:2])
    assert (out["labels"][0] == -100).all()
    assert out["input_ids"][0, :2].tolist() == empty["input_ids"]


def test_plain_dataloader_and_worker_streams(tokenizer, batch_examples):
    loader = torch.utils.data.DataLoader(batch_examples, batch_size=4,
                                         collate_fn=SpanMaskingCollator(tokenizer, seed=1))
    batches = list(loader)
    assert len(batches) == 4 and all(b["input_ids"].shape[0] == 4 for b in batches)
    # two workers must not repeat each other's masks (each gets its own seeded stream)
    same = [batch_examples[0]] * 4
    loader = torch.utils.data.DataLoader([same[0]] * 8, batch_size=4, num_workers=2,
                                         collate_fn=SpanMaskingCollator(tokenizer, seed=1),
                                         multiprocessing_context="fork")
    first, second = list(loader)
    assert not torch.equal(first["labels"], second["labels"])


class TinySpanModel(torch.nn.Module):
    """A stand-in for the model issue: BERT MLM loss plus an SBO-shaped loss from the boundaries."""

    def __init__(self, vocab_size):
        super().__init__()
        from transformers import BertConfig, BertForMaskedLM

        cfg = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=64, max_position_embeddings=160)
        self.bert = BertForMaskedLM(cfg)
        self.sbo = torch.nn.Linear(64, vocab_size)

    def forward(self, input_ids, attention_mask, labels, span_boundaries, span_labels, **kw):
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask, labels=labels,
                        output_hidden_states=True)
        h = out.hidden_states[-1]                                        # (B, L, H)
        idx = span_boundaries.clamp(min=0)                               # (B, S, 2)
        pair = torch.gather(h, 1, idx.flatten(1)[..., None].expand(-1, -1, h.size(-1)))
        logits = self.sbo(pair.reshape(h.size(0), -1, 2 * h.size(-1)))  # (B, S, V)
        target = span_labels[..., 0]                                     # first token of each span
        sbo = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, ignore_index=-100)
        return {"loss": out.loss + sbo}


def test_works_as_trainer_data_collator(tokenizer, batch_examples, tmp_path):
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4,
                             report_to=[], use_cpu=True, save_strategy="no", logging_steps=1,
                             remove_unused_columns=False)
    trainer = Trainer(model=TinySpanModel(len(tokenizer)), args=args, train_dataset=batch_examples,
                      data_collator=SpanMaskingCollator(tokenizer, seed=0))
    result = trainer.train()
    assert trainer.state.global_step == 2 and np.isfinite(result.training_loss)


def test_bad_input_is_rejected_clearly(tokenizer, batch_examples):
    collator = SpanMaskingCollator(tokenizer, seed=0)
    with pytest.raises(TypeError, match="all be dicts or all be id sequences"):
        collator([batch_examples[0], batch_examples[1]["input_ids"]])
    with pytest.raises(TypeError, match="non-empty list"):
        collator([])
    with pytest.raises(ValueError, match="has no 'input_ids'"):
        collator([{"ids": [1, 2]}])
    with pytest.raises(TypeError, match="1-D sequence of ints"):
        collator([{"input_ids": ["a", "b"]}])
    with pytest.raises(ValueError, match=r"mlm_probability must be in the open interval \(0, 1\), got 1.2"):
        SpanMaskingCollator(tokenizer, mlm_probability=1.2)
    with pytest.raises(ValueError, match="geometric_p must be in \\(0, 1\\], got 0"):
        SpanMaskingCollator(tokenizer, geometric_p=0)
    with pytest.raises(ValueError, match="scheme must be one of"):
        SpanMaskingCollator(tokenizer, scheme="spans")
    with pytest.raises(ValueError, match="unigram_counts must have one count per token"):
        SpanMaskingCollator(tokenizer, unigram_counts=np.ones(10))


def test_tokenizer_without_mask_token_is_rejected(tokenizer):
    from transformers import BertTokenizerFast

    from spanbert_edu.data.tokenizer import VOCAB_FILE

    no_mask = BertTokenizerFast(vocab=str(VOCAB_FILE), do_lower_case=False, mask_token=None)
    with pytest.raises(ValueError, match="tokenizer has no mask token"):
        SpanMaskingCollator(no_mask)


def test_other_tokenizers_fall_back_to_uniform_with_a_warning(tokenizer, tmp_path):
    from transformers import BertTokenizerFast

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "##c"]))
    other = BertTokenizerFast(vocab=str(vocab), do_lower_case=False)
    with pytest.warns(UserWarning, match="drawing random replacements uniformly"):
        collator = SpanMaskingCollator(other)
    assert collator.vocab.probs[5:].tolist() == pytest.approx([1 / 3] * 3)
    assert collator.vocab.probs[:5].sum() == 0


def test_unk_is_masked_like_any_token(tokenizer, batch_examples):
    """As the authors: [UNK] stands for a real word, so it counts towards n, can be masked and
    can bound a span; [CLS]/[SEP]/[PAD]/[MASK] never are."""
    unk = tokenizer.unk_token_id
    examples = []
    for ex in batch_examples:
        ids = list(ex["input_ids"])
        ids[1:-1:3] = [unk] * len(ids[1:-1:3])          # every third text token becomes [UNK]
        examples.append({"input_ids": ids})
    masked_unk = bounded_by_unk = 0
    for seed in range(5):
        out = SpanMaskingCollator(tokenizer, seed=seed)(examples)
        for b, ex in enumerate(examples):
            n = len(ex["input_ids"])
            masked = out["labels"][b, :n] != -100
            assert int(masked.sum()) == int(np.ceil(0.15 * (n - 2)))   # [UNK] counts towards n
            assert not masked[0] and not masked[n - 1]
            masked_unk += int((out["labels"][b, :n][masked] == unk).sum())
            for left, right in out["span_boundaries"][b].tolist():
                if left >= 0:
                    bounded_by_unk += ex["input_ids"][left] == unk or ex["input_ids"][right] == unk
    assert masked_unk > 0 and bounded_by_unk > 0


def test_boolean_masks_and_none_word_ids_in_any_container():
    """Ragged rows with numpy boolean masks, and word_ids with None as a list, a tuple or a numpy
    object array: all accepted, and the same batch as plain int lists give."""
    import numpy as np

    from spanbert_edu import SpanMaskingCollator, load_tokenizer

    tok = load_tokenizer()
    a, b = tok("Return a shallow copy of the list."), tok("Remove all items.")
    plain = [{"input_ids": e["input_ids"], "attention_mask": [1] * len(e["input_ids"]),
              "word_ids": [-1 if w is None else w for w in e.word_ids()]} for e in (a, b)]
    fancy = [{"input_ids": a["input_ids"], "attention_mask": np.ones(len(a["input_ids"]), bool),
              "word_ids": tuple(a.word_ids())},
             {"input_ids": b["input_ids"], "attention_mask": np.ones(len(b["input_ids"]), bool),
              "word_ids": np.array(b.word_ids(), dtype=object)}]
    one, two = SpanMaskingCollator(tok, seed=5)(plain), SpanMaskingCollator(tok, seed=5)(fancy)
    assert all((one[k] == two[k]).all() for k in one)
