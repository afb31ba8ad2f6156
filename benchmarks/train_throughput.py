"""Training throughput on CPU: our model vs transformers.BertForMaskedLM carrying the same SBO head.

    python benchmarks/train_throughput.py [--preset small] [--batch-size 32] [--max-length 128] [--steps 12]

Same config, same weights (ours exported with ``to_hf_bert``), same batch and masks, same
AdamW step. Each model trains in its own child process (so each peak RSS is its own); the
parent first checks that the two losses agree given equal weights and masks (dropout off).
Tokens/s counts real (non-padding) tokens over the median step after two warm-up steps.
"""
import argparse
import copy
import json
import resource
import statistics
import subprocess
import sys
import time

import torch


def build(preset, max_length, batch_size, seed=0):
    from spanbert_edu import SpanBertConfig, SpanBertForPreTraining, SpanMaskingCollator, load_corpus, load_tokenizer
    from spanbert_edu.data.packing import pack_documents

    tok = load_tokenizer()
    examples = pack_documents(load_corpus("default", "train"), tok, max_length=max_length)
    examples = [e for e in examples if len(e["input_ids"]) > max_length * 3 // 4][:batch_size]
    batch = SpanMaskingCollator(tok, seed=seed)(examples)
    torch.manual_seed(seed)
    ours = SpanBertForPreTraining(SpanBertConfig.preset(preset, vocab_size=len(tok)))
    return ours, batch


class HFWithSBO(torch.nn.Module):
    """BertForMaskedLM (logits at every position, its own loss) + our SBO head on its last layer."""

    def __init__(self, ours):
        super().__init__()
        from spanbert_edu import to_hf_bert

        self.hf = to_hf_bert(ours)
        self.sbo = copy.deepcopy(ours.sbo)

    def forward(self, input_ids, attention_mask, labels, span_boundaries, span_labels, **_):
        out = self.hf(input_ids=input_ids, attention_mask=attention_mask, labels=labels,
                      output_hidden_states=True)
        emb = self.hf.bert.embeddings.word_embeddings.weight
        logits, targets = self.sbo(out.hidden_states[-1], span_boundaries, span_labels, emb)
        return out.loss + torch.nn.functional.cross_entropy(logits, targets)


def loss_of(model, batch):
    out = model(**batch)
    return out if torch.is_tensor(out) else out.loss


def child(which, args):
    ours, batch = build(args.preset, args.max_length, args.batch_size)
    model = ours if which == "ours" else HFWithSBO(ours)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    times = []
    for step in range(args.steps + 2):
        t0 = time.perf_counter()
        loss = loss_of(model, batch)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step >= 2:
            times.append(time.perf_counter() - t0)
    tokens = int(batch["attention_mask"].sum())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens_per_s": tokens / statistics.median(times), "peak_rss_mb": peak_mb,
                      "step_s": statistics.median(times)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--child", choices=["ours", "hf"])
    args = parser.parse_args()
    if args.child:
        return child(args.child, args)

    ours, batch = build(args.preset, args.max_length, args.batch_size)
    hf = HFWithSBO(ours)
    ours.eval(), hf.eval()  # dropout off: the losses must agree
    with torch.no_grad():
        a, b = loss_of(ours, batch).item(), loss_of(hf, batch).item()
    print(f"equal weights and masks, dropout off: loss ours {a:.6f}, HF+SBO {b:.6f}, |diff| {abs(a - b):.2e}")
    results = {}
    for which in ("ours", "hf"):
        cmd = [sys.executable, __file__, "--child", which, "--preset", args.preset, "--batch-size",
               str(args.batch_size), "--max-length", str(args.max_length), "--steps", str(args.steps)]
        results[which] = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    r, h = results["ours"], results["hf"]
    print(f"\npreset {args.preset}, batch {args.batch_size} x {args.max_length}, CPU threads "
          f"{torch.get_num_threads()}, median of {args.steps} training steps (forward, backward, AdamW)\n")
    print("| model | step (s) | tokens/s | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    print(f"| spanbert_edu SpanBertForPreTraining | {r['step_s']:.3f} | {r['tokens_per_s']:.0f} | {r['peak_rss_mb']:.0f} |")
    print(f"| transformers BertForMaskedLM + SBOHead | {h['step_s']:.3f} | {h['tokens_per_s']:.0f} | {h['peak_rss_mb']:.0f} |")
    print(f"\nspeed-up: {r['tokens_per_s'] / h['tokens_per_s']:.2f}x HF (target >= 1.5x); "
          f"peak memory {r['peak_rss_mb'] / h['peak_rss_mb']:.2f}x HF's")


if __name__ == "__main__":
    main()
