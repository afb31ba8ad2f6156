"""GPU training report: tokens/s and model FLOPs utilisation (MFU) with bf16 autocast and SDPA.

    python benchmarks/gpu_report.py [--preset base] [--batch-size 32] [--max-length 512] [--compile]
                                    [--peak-tflops N]

The batch is the corpus's longest packed blocks cut to one length, so no position is padding
and SDPA may take its flash kernel (the report says whether it can). Each row is measured in the
same run and printed as a ratio against fp32 (the peer): fp32,
bf16 autocast, and with ``--compile`` bf16 + torch.compile. Runs only where a CUDA device exists; otherwise it says so and exits 0. The peak FLOP/s comes
from a table keyed by the device name (dense bf16, from the vendors' data sheets) or from
``--peak-tflops``; an unknown device without it gets tokens/s but no MFU. Never a constant
baked in for one card.

FLOPs per token (training, forward + backward) = 6 N + 12 n_layer H T  (N: non-embedding
parameters, H: hidden size, T: sequence length), the usual estimate (PaLM, appendix B).
"""
import argparse
import statistics
import time
import warnings

import torch

# dense bf16 tensor-core peak, TFLOP/s (no sparsity)
PEAK_BF16_TFLOPS = {
    "H200": 989.0, "H100 SXM": 989.0, "H100 80GB HBM3": 989.0, "H100 NVL": 835.0, "H100 PCIe": 756.0,
    "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10G": 125.0, "RTX 4090": 165.0, "V100": 125.0,
}


def peak_for(name: str, override: float | None):
    if override:
        return override * 1e12, "--peak-tflops"
    for key in sorted(PEAK_BF16_TFLOPS, key=len, reverse=True):  # most specific name first
        if key.lower() in name.lower():
            return PEAK_BF16_TFLOPS[key] * 1e12, f"table entry {key!r}"
    return None, "unknown device: pass --peak-tflops for MFU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="base")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--peak-tflops", type=float, default=None)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("No CUDA device here: this report needs an NVIDIA GPU, so nothing was measured.")
        return

    from spanbert_edu import SpanBertConfig, SpanBertForPreTraining, SpanMaskingCollator, load_corpus, load_tokenizer
    from spanbert_edu.data.packing import pack_documents

    device = torch.device("cuda")
    name = torch.cuda.get_device_name(device)
    tok = load_tokenizer()
    examples = pack_documents(load_corpus("default", "train"), tok, max_length=args.max_length)
    examples = packed_blocks(examples, args.batch_size, tok.sep_token_id)
    batch = {k: v.to(device) for k, v in SpanMaskingCollator(tok, seed=0)(examples).items()}
    c = SpanBertConfig.preset(args.preset, vocab_size=len(tok))
    T = batch["input_ids"].shape[1]
    tokens = int(batch["attention_mask"].sum())
    probe = SpanBertForPreTraining(c)
    n_embed = sum(m.weight.numel() for m in probe.modules() if isinstance(m, torch.nn.Embedding))
    flops_per_token = 6 * (probe.num_parameters() - n_embed) + 12 * c.num_hidden_layers * c.hidden_size * T
    peak, source = peak_for(name, args.peak_tflops)
    print(f"device: {name}; preset {args.preset}, batch {args.batch_size} x {T} ({tokens:,} real tokens, "
          f"no padding), SDPA attention ({flash_note(c, batch, device)}), fused AdamW")
    # the peer is fp32 measured in this same run; each row is a fresh model so memory is its own
    rows = [("fp32", False, False), ("bf16 autocast", True, False)]
    if args.compile:
        rows.append(("bf16 autocast + torch.compile", True, True))
    base = None
    for label, bf16, compiled in rows:
        torch.manual_seed(0)
        model = SpanBertForPreTraining(c).to(device).train()
        torch.cuda.reset_peak_memory_stats()
        step_s = time_steps(model, batch, args.steps, bf16, compiled)
        tokens_per_s = tokens / step_s
        base = base or step_s
        mfu = f"MFU {tokens_per_s * flops_per_token / peak:.1%}" if peak else "MFU n/a"
        print(f"{label:32s} {step_s * 1e3:8.1f} ms/step  {tokens_per_s:>12,.0f} tokens/s  "
              f"{base / step_s:5.2f}x fp32  {mfu}  peak memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
        del model
    print(f"MFU against {peak / 1e12:.0f} TFLOP/s dense bf16 ({source}); fp32 rows use the same peak"
          if peak else f"MFU: not computed ({source})")


def packed_blocks(examples, batch_size, sep_token_id):
    """The ``batch_size`` longest examples, each cut to the shortest one's length (its last
    tokens dropped, ``[SEP]`` kept): no position is padding, so the model passes SDPA no mask
    and SDPA may take its flash kernel. (The sentence packer rarely fills a block exactly: at
    512 the bundled corpus has 24 full blocks, then 511s.)"""
    longest = sorted(examples, key=lambda e: -len(e["input_ids"]))[:batch_size]
    if len(longest) < batch_size:
        raise ValueError(f"batch_size {batch_size} is more than the corpus's {len(longest)} blocks")
    T = len(longest[-1]["input_ids"])
    return [{"input_ids": e["input_ids"][:T - 1] + [sep_token_id], "word_ids": e["word_ids"][:T - 1] + [-1]}
            for e in longest]


def flash_note(config, batch, device):
    """Whether the model's bf16 forward and backward run with SDPA held to its flash kernel alone."""
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel  # torch >= 2.3
    except ImportError:
        return "flash kernel: not checked (torch < 2.3)"
    from spanbert_edu import SpanBertForPreTraining

    model = SpanBertForPreTraining(config).to(device).train()
    with warnings.catch_warnings(record=True) as why:  # SDPA warns why it cannot, then raises
        warnings.simplefilter("always")
        try:
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION), torch.autocast(device.type, dtype=torch.bfloat16):
                model(**batch).loss.backward()
            return "flash kernel: yes"
        except torch.cuda.OutOfMemoryError:
            raise
        except RuntimeError as error:
            reasons = [str(w.message).split(" (Triggered")[0] for w in why] or [str(error).splitlines()[0]]
            return "flash kernel: no; " + " ".join(reasons)[:300]


def time_steps(model, batch, steps, bf16, compiled):
    """Median seconds of one optimizer step, after 3 warm-up steps (5 when compiling)."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    step_model = torch.compile(model) if compiled else model
    warmup = 5 if compiled else 3
    times = []
    for step in range(steps + warmup):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = step_model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if step >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


if __name__ == "__main__":
    main()
