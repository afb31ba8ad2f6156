"""``python -m spanbert_edu demo``: masking alone, no training. Corpus -> tokenizer ->
single-sequence blocks -> one batch masked with every scheme, printed and saved.

    python -m spanbert_edu demo [--batch-size 8] [--max-length 128] [--seed 0] [--out runs/demo]

What it prints, per scheme: one example with the masked spans marked, and the batch's budget
(masked / maskable tokens), its merged spans, their mean length and the SBO-eligible share.
``render_masked`` is the library function the notebooks use for the same picture.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..collator import SpanMaskingCollator
from ..data import load_corpus, load_tokenizer
from ..data.packing import pack_documents
from .._checks import check_int
from ..batch import IGNORE_INDEX
from ..masking import masked_runs, SCHEMES
from ..masking.proposers import make_proposers
from ..spans import expected_span_length, sample_span_lengths


def render_masked(tokenizer, original_ids, masked_ids, labels) -> str:
    """Tokens as text, masked spans in ``⟦ ⟧``: ``[MASK]`` as is, a random replacement as
    ``~token``, a kept token as ``=token``; special tokens and padding are left out."""
    orig = tokenizer.convert_ids_to_tokens(list(original_ids))
    new = tokenizer.convert_ids_to_tokens(list(masked_ids))
    special = set(tokenizer.all_special_ids) - {tokenizer.mask_token_id}
    pieces, inside = [], False
    for i, (o, n, lab) in enumerate(zip(orig, new, labels)):
        is_target = lab != IGNORE_INDEX
        if is_target and not inside:
            pieces.append("⟦")
        if not is_target and inside:
            pieces.append("⟧")
        inside = is_target
        if not is_target and int(original_ids[i]) in special:
            continue
        pieces.append(n if not is_target or n == tokenizer.mask_token else
                      f"={o}" if n == o else f"~{n}")
    if inside:
        pieces.append("⟧")
    text = " ".join(pieces).replace("⟦ ", "⟦").replace(" ⟧", "⟧")
    return text.replace(" ##", "").replace("=##", "=").replace("~##", "~")


def batch_statistics(batch, maskable_counts) -> dict:
    """Budget and span numbers of one collated batch (numpy or torch tensors)."""
    labels = np.asarray(batch["labels"])
    masked = labels != IGNORE_INDEX
    offsets, run_lengths, _ = masked_runs(masked)
    lengths = run_lengths[offsets == 0].tolist()  # one entry per run
    n_sbo = int((np.asarray(batch["span_boundaries"])[..., 0] >= 0).sum())
    return {"masked_tokens": int(masked.sum()), "maskable_tokens": int(sum(maskable_counts)),
            "masked_fraction": float(masked.sum() / max(1, sum(maskable_counts))),
            "spans": len(lengths), "mean_span_tokens": float(np.mean(lengths)) if lengths else 0.0,
            "sbo_spans": n_sbo, "sbo_share": n_sbo / max(1, len(lengths))}


def run_demo(batch_size: int = 8, max_length: int = 128, seed: int = 0, out: str | None = "runs/demo",
             schemes=SCHEMES, echo=print) -> dict:
    """Run the demonstration; returns (and saves to ``out``) a summary dict."""
    check_int("batch_size", batch_size, minimum=1)
    check_int("max_length", max_length, minimum=8)
    t0 = time.perf_counter()
    train, heldout = load_corpus("default", "train"), load_corpus("default", "heldout")
    echo(f"corpus: {len(train)} training and {len(heldout)} held-out documents "
         f"({sum(len(d.text) for d in train + heldout) / 1e6:.2f} MB of text from this Python)")
    tokenizer = load_tokenizer()
    echo(f"tokenizer: cased WordPiece, {len(tokenizer)} tokens (bundled vocab.txt)")
    examples = pack_documents(heldout, tokenizer, max_length=max_length, proposers=make_proposers("heuristic"))
    echo(f"packed the held-out documents into {len(examples)} blocks of <= {max_length} tokens "
         f"([CLS] sentences [SEP], one document per block)")
    mean, simulated = expected_span_length(0.2, 10), sample_span_lengths(100_000, seed=seed).mean()
    echo(f"span lengths (words): closed-form mean {mean:.3f}, simulated {simulated:.3f} (10^5 draws)\n")

    rng = np.random.default_rng(seed)
    batch_examples = [examples[i] for i in sorted(rng.choice(len(examples), batch_size, replace=False))]
    maskable_counts = [len(e["input_ids"]) - 2 for e in batch_examples]
    summary = {"seed": seed, "batch_size": batch_size, "max_length": max_length, "schemes": {}}
    rendered = []
    for scheme in schemes:
        collator = SpanMaskingCollator(tokenizer, scheme=scheme, seed=seed)
        batch = collator(batch_examples)
        stats = batch_statistics(batch, maskable_counts)
        summary["schemes"][scheme] = stats
        text = render_masked(tokenizer, batch_examples[0]["input_ids"], batch["input_ids"][0].tolist(),
                             batch["labels"][0].tolist())
        rendered.append(f"== {scheme} ==\n{text}\n")
        echo(f"== {scheme}: {stats['masked_tokens']}/{stats['maskable_tokens']} tokens masked "
             f"({stats['masked_fraction']:.1%}), {stats['spans']} spans, mean "
             f"{stats['mean_span_tokens']:.2f} tokens, {stats['sbo_share']:.0%} with SBO targets")
        echo(text + "\n")
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    if out is not None:
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        (out_dir / "masks.txt").write_text("\n".join(rendered))
        echo(f"saved {out_dir / 'summary.json'} and {out_dir / 'masks.txt'} ({summary['seconds']} s)")
    return summary
