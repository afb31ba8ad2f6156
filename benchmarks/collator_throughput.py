"""Collator throughput: SpanMaskingCollator (each scheme) vs Hugging Face's LM collator vs the
per-sequence reference masker, on the same list-of-dict batch of 64 x 512 from the bundled corpus.

    python benchmarks/collator_throughput.py [--batch-size 64] [--max-length 512] [--repeats 7]

Every collator gets the same examples: ``tokenizer(texts, max_length=512, truncation=True,
padding="max_length", return_offsets_mapping=True)`` rows (input_ids, token_type_ids,
attention_mask, offset_mapping, word_ids). Tokens/s counts B x L (padding included) over the
median of ``--repeats`` timed calls after one warm-up call; ratios are within this one run.
"""
import argparse
import platform
import statistics
import time

import numpy as np
import torch

from spanbert_edu import SpanMaskingCollator, load_corpus, load_tokenizer
from spanbert_edu.masking import mask_batch, mask_sequence, MaskingConfig, ReplacementVocab, SCHEMES
from spanbert_edu.masking.proposers import propose_token_spans
from spanbert_edu.masking.words import maskable_positions, word_starts_from_word_ids


def make_examples(tokenizer, batch_size, max_length):
    docs = sorted(load_corpus("default", "train"), key=lambda d: -len(d.text))[:batch_size]
    enc = tokenizer([d.text for d in docs], max_length=max_length, truncation=True,
                    padding="max_length", return_offsets_mapping=True)
    examples = []
    for i in range(len(docs)):
        ex = {k: list(enc[k][i]) for k in ("input_ids", "token_type_ids", "attention_mask", "offset_mapping")}
        ex["word_ids"] = [-1 if w is None else w for w in enc.word_ids(i)]
        examples.append(ex)
    return examples


def reference_collate(examples, tokenizer, vocab, rng):
    """The per-sequence reference masker, one example at a time (what the notebook teaches)."""
    config = MaskingConfig()
    out = []
    for ex in examples:
        ids = np.asarray(ex["input_ids"])
        maskable = maskable_positions(ids, tokenizer.all_special_ids, ex["attention_mask"])
        out.append(mask_sequence(ids, word_starts_from_word_ids(ex["word_ids"]), maskable, config, vocab, rng))
    return out


def time_calls(fn, repeats):
    fn()  # warm-up (caches, first allocations)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    from transformers import DataCollatorForLanguageModeling

    tokenizer = load_tokenizer(model_max_length=args.max_length)
    examples = make_examples(tokenizer, args.batch_size, args.max_length)
    n_tokens = args.batch_size * args.max_length
    vocab = ReplacementVocab.uniform(len(tokenizer), tokenizer.mask_token_id, tokenizer.all_special_ids)

    rows = []
    for scheme in SCHEMES:
        collator = SpanMaskingCollator(tokenizer, scheme=scheme, seed=0)
        rows.append((f"SpanMaskingCollator scheme={scheme}", time_calls(lambda: collator(examples), args.repeats)))
    # The linguistic schemes again, with spans proposed at data preparation (as pack_documents
    # does) instead of by the collator's fallback on the tokens.
    with_spans = [dict(ex, **{f"{k}_spans": v for k, v in propose_token_spans(
        tokenizer.convert_ids_to_tokens(ex["input_ids"]),
        word_starts_from_word_ids(ex["word_ids"]),
        maskable_positions(ex["input_ids"], tokenizer.all_special_ids, ex["attention_mask"])).items()})
        for ex in examples]
    for scheme in ("entity", "phrase", "ernie"):
        collator = SpanMaskingCollator(tokenizer, scheme=scheme, seed=0)
        rows.append((f"SpanMaskingCollator scheme={scheme}, spans precomputed",
                     time_calls(lambda: collator(with_spans), args.repeats)))
    hf_token = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=0)
    hf_wwm = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, whole_word_mask=True, seed=0)
    rows.append(("HF DataCollatorForLanguageModeling (token)", time_calls(lambda: hf_token(examples), args.repeats)))
    rows.append(("HF DataCollatorForLanguageModeling (whole_word_mask=True)",
                 time_calls(lambda: hf_wwm(examples), args.repeats)))
    rng = np.random.default_rng(0)
    rows.append(("per-sequence reference (span)",
                 time_calls(lambda: reference_collate(examples, tokenizer, vocab, rng), max(1, args.repeats // 3))))

    speed = {name: n_tokens / t for name, t in rows}
    hf_wwm_speed = speed["HF DataCollatorForLanguageModeling (whole_word_mask=True)"]
    ref_speed = speed["per-sequence reference (span)"]
    print(f"batch {args.batch_size} x {args.max_length}, {platform.processor() or platform.machine()}, "
          f"torch threads {torch.get_num_threads()}, median of {args.repeats} calls\n")
    print("| collator | ms / batch | tokens/s | vs HF whole-word | vs reference |")
    print("|---|---:|---:|---:|---:|")
    for name, t in rows:
        print(f"| {name} | {t * 1e3:.1f} | {speed[name] / 1e6:.2f} M | "
              f"{speed[name] / hf_wwm_speed:.2f}x | {speed[name] / ref_speed:.1f}x |")
    span = speed["SpanMaskingCollator scheme=span"]
    print(f"\nspan scheme: {span / hf_wwm_speed:.2f}x HF whole-word (target >= 1), "
          f"{span / ref_speed:.1f}x the per-sequence reference (target >= 10)")

    # The masking step alone, arrays in and arrays out: what batching buys once the
    # list -> array conversion every collator pays is taken out.
    arrays = [(np.asarray(ex["input_ids"]), word_starts_from_word_ids(ex["word_ids"]),
               maskable_positions(ex["input_ids"], tokenizer.all_special_ids, ex["attention_mask"]))
              for ex in examples]
    ids, ws, maskable = (np.stack(a) for a in zip(*arrays))
    config = MaskingConfig()
    t_batched = time_calls(lambda: mask_batch(ids, ws, maskable, config, vocab, rng), args.repeats)
    t_reference = time_calls(lambda: [mask_sequence(*a, config, vocab, rng) for a in arrays],
                             max(1, args.repeats // 3))
    print(f"masking step only (span): batched {t_batched * 1e3:.1f} ms, per-sequence "
          f"{t_reference * 1e3:.1f} ms per batch -> {t_reference / t_batched:.1f}x")


if __name__ == "__main__":
    main()
