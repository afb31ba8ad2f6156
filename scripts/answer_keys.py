"""The numbers in the answer keys of docs/instructor.md, computed with the library.

    python scripts/answer_keys.py

Every exercise at the end of a notebook that asks for a quantity the library can compute in
seconds gets a line here, labelled [NN.k] (notebook NN, exercise k; [06.gfk] for notebook 06's
"Going further"). Exercises that need a training run are not run here: the guide quotes the
committed results in spanbert_edu/assets/results/ instead, and this script prints those too, so
that every number in the guide can be traced to one command. Seeded; under a minute on a 2-core
CPU (most of it the bundled model reading held-out text for notebooks 03 and 05). It only reads,
never writes.
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from spanbert_edu import (MaskingConfig, SBOHead, SpanBertConfig, SpanBertForPreTraining,
                          SpanMaskingCollator, load_corpus, load_pretrained, load_tokenizer,
                          mask_sequence, pack_documents)
from spanbert_edu.data.pairs import pack_pairs
from spanbert_edu.experiments.results import committed_result
from spanbert_edu.masking import ReplacementVocab
from spanbert_edu.masking.engine import mask_batch
from spanbert_edu.masking.proposers import make_proposers
from spanbert_edu.masking.reference import merge_runs
from spanbert_edu.masking.stats import realised_span_lengths
from spanbert_edu.masking.words import maskable_positions, non_maskable_ids, word_starts_from_word_ids
from spanbert_edu.presentation.diagrams import EXAMPLE_SENTENCE
from spanbert_edu.presentation.predict import format_predictions, heldout_sentences, predict_span
from spanbert_edu.qa.data import load_qa
from spanbert_edu.qa.metrics import f1
from spanbert_edu.spans import expected_span_length, sample_span_lengths, span_length_pmf

T0 = time.perf_counter()
tokenizer = load_tokenizer()
heldout_docs = load_corpus("default", "heldout")


def say(label, text):
    print(f"[{label}] {text}")


def mean_sd(values):
    values = np.asarray(values, float)
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def encode(sentence):
    """ids, word_start, maskable and word_ids of one sentence, as the notebooks build them."""
    enc = tokenizer(sentence)
    ids = np.array(enc["input_ids"])
    return (ids, word_starts_from_word_ids(enc.word_ids()), maskable_positions(ids, tokenizer.all_special_ids),
            enc.word_ids())


VOCAB = ReplacementVocab.uniform(len(tokenizer), tokenizer.mask_token_id, tokenizer.all_special_ids)


# ----------------------------------------------------------------------------- notebook 01
def notebook_01(blocks_512):
    p, n, m = 0.3, 8, 2
    N, q = n - m + 1, 1 - p
    closed = m - 1 + 1 / p - N * q ** N / (1 - q ** N)          # the derivation's last line
    direct = span_length_pmf(p, n, m) @ np.arange(m, n + 1)
    say("01.1", f"truncated mean on 2..8 at p=0.3: formula {closed:.4f}, library "
                f"expected_span_length(0.3, 8, 2) = {expected_span_length(p, n, m):.4f}, direct sum {direct:.4f}")

    lo, hi = 1e-6, 1.0                   # the mean falls from 5.5 (p -> 0) to 1 (p = 1): bisect
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expected_span_length(mid, 10) > 3.0 else (lo, mid)
    say("01.2", f"truncated mean on 1..10 equals 3.0 at p = {lo:.4f} (check: {expected_span_length(lo, 10):.6f})")

    exact = span_length_pmf(0.2, 10)[5:].sum()
    draws = sample_span_lengths(10**6, 0.2, 10, seed=0)
    lengths = realised_span_lengths(blocks_512, tokenizer, draws=4, seed=0)   # the notebook's measurement
    say("01.3", f"sampled spans longer than 5 words at p=0.2: {exact:.4f} exactly, {(draws > 5).mean():.4f} "
                f"in 10^6 draws; realised runs (notebook 01 section 4, {len(lengths['words'])} runs): "
                f"{(lengths['words'] > 5).mean():.4f} longer than 5 words, {(lengths['words'] > 10).mean():.4f} "
                f"longer than 10, mean {lengths['words'].mean():.2f} words; "
                f"{(lengths['tokens'] > 5).mean():.4f} longer than 5 TOKENS")

    say("01.4", f"expected span length, truncated to 1..10: p=0.2 -> {expected_span_length(0.2, 10):.3f}, "
                f"p=0.3 -> {expected_span_length(0.3, 10):.3f} words; share of 1-word spans "
                f"{span_length_pmf(0.2, 10)[0]:.3f} -> {span_length_pmf(0.3, 10)[0]:.3f}")


# ----------------------------------------------------------------------------- notebook 02
def run_stats(sentence, config, draws, seed):
    """Over ``draws`` maskings: partly masked words, and merged runs (words per run)."""
    ids, word_start, maskable, word_ids = encode(sentence)
    pieces = {w: word_ids.count(w) for w in set(word_ids) if w is not None}
    rng = np.random.default_rng(seed)
    partial_draws = partial_words = touched_words = touched_multi = partial_multi = 0
    run_words, runs_per_draw = [], []
    for _ in range(draws):
        masked = mask_sequence(ids, word_start, maskable, config, VOCAB, rng=rng).labels != -100
        hit = {}
        for t in np.flatnonzero(masked):
            hit[word_ids[t]] = hit.get(word_ids[t], 0) + 1
        partial = [w for w, k in hit.items() if k < pieces[w]]
        partial_draws += bool(partial)
        partial_words += len(partial)
        touched_words += len(hit)
        touched_multi += sum(pieces[w] > 1 for w in hit)
        partial_multi += sum(pieces[w] > 1 for w in partial)
        runs = merge_runs(masked)
        runs_per_draw.append(len(runs))
        run_words += [len({word_ids[t] for t in range(s, e + 1)}) for s, e in runs]
    return dict(partial_draws=partial_draws / draws, partial_words=partial_words / draws,
                partial_share=partial_words / touched_words, partial_multi=partial_multi / max(touched_multi, 1),
                run_words=np.array(run_words), runs=np.mean(runs_per_draw), pieces=pieces)


def notebook_02(blocks_512):
    sub = run_stats(EXAMPLE_SENTENCE, MaskingConfig(scheme="subword"), 1000, seed=0)
    multi = sum(k > 1 for k in sub["pieces"].values())
    spans = run_stats(EXAMPLE_SENTENCE, MaskingConfig(scheme="span"), 1000, seed=0)
    say("02.1", f"scheme='subword', 1,000 draws on the example sentence ({len(sub['pieces'])} words, {multi} of "
                f"them multi-piece, budget 5 of 32 tokens): {sub['partial_draws']:.1%} of draws leave at least one "
                f"word partly masked; {sub['partial_words']:.2f} such words per draw; {sub['partial_share']:.1%} of "
                f"the words touched, {sub['partial_multi']:.1%} of the multi-piece words touched. For contrast, "
                f"scheme='span': {spans['partial_draws']:.1%} of draws (only the budget's cut splits a word)")

    widget = "Random spans of whole words, not single subword tokens, are what SpanBERT hides from the encoder."
    parts = []
    for p in (1.0, 0.2, 0.05):
        st = run_stats(widget, MaskingConfig(geometric_p=p), 1000, seed=0)
        parts.append(f"p={p}: sampler mean {expected_span_length(p, 10):.2f} words, realised runs "
                     f"{st['run_words'].mean():.2f} words ({(st['run_words'] == 1).mean():.0%} one word), "
                     f"{st['runs']:.2f} runs per draw")
    ww = run_stats(widget, MaskingConfig(scheme="whole_word"), 1000, seed=0)
    say("02.2", "the widget's default sentence, ratio 0.15 (budget " +
                f"{MaskingConfig().budget(int(encode(widget)[2].sum()))} tokens), 1,000 draws: " + "; ".join(parts) +
                f"; scheme='whole_word' for comparison: runs {ww['run_words'].mean():.2f} words, {ww['runs']:.2f} per draw")

    words = tokens_in_multi = multi_words = tokens = 0
    for ex in blocks_512:
        ids = [w for w in ex["word_ids"] if w is not None and w >= 0]
        counts = np.bincount(np.unique(ids, return_inverse=True)[1])
        words += len(counts)
        multi_words += int((counts > 1).sum())
        tokens += int(counts.sum())
        tokens_in_multi += int(counts[counts > 1].sum())
    say("02.3", f"held-out blocks: {multi_words / words:.1%} of words are multi-piece but they hold "
                f"{tokens_in_multi / tokens:.1%} of the tokens, so an anchor drawn over subword positions lands "
                f"in a multi-piece word {tokens_in_multi / tokens:.1%} of the time, one drawn over words "
                f"{multi_words / words:.1%}")

    proposers = make_proposers("heuristic")
    for sentence in ("Yesterday Alice met Bob in Paris.",
                     "He has worked for Google and Microsoft since 2010.",
                     "the python interpreter reads the file, and then Python runs it."):
        found = {kind: [sentence[a:b] for a, b in propose(sentence)] for kind, propose in proposers.items()}
        say("02.4", f"{sentence!r}: entity {found['entity']}, phrase {found['phrase']}")


# ----------------------------------------------------------------------------- notebook 03
def sbo_by_offset(model, batch, zero_position):
    """Per-target SBO loss and hit of the bundled head, with p_i as trained or replaced by zeros."""
    head = model.sbo
    with torch.no_grad():
        hidden, _ = model.bert(batch["input_ids"], batch["attention_mask"])
        labels = batch["span_labels"]
        b, s, i = (labels != -100).nonzero(as_tuple=True)
        left, right = batch["span_boundaries"][b, s, 0], batch["span_boundaries"][b, s, 1]
        p_i = head.position_embeddings(i)
        if zero_position:
            p_i = torch.zeros_like(p_i)
        y = head.mlp(torch.cat([hidden[b, left], hidden[b, right], p_i], dim=-1))
        logits = y @ model.word_embeddings.t() + head.bias
        target = labels[b, s, i]
        return F.cross_entropy(logits.float(), target, reduction="none"), logits.argmax(-1) == target, i


def notebook_03(model, blocks_128):
    sentence = ("The Python Software Foundation maintains the reference implementation of the language, "
                "which Guido van Rossum first released.")
    batch = SpanMaskingCollator(tokenizer, seed=3, mlm_probability=0.3)([{"input_ids": tokenizer(sentence)["input_ids"]}])
    with_p, _, offs = sbo_by_offset(model, batch, False)
    without, _, _ = sbo_by_offset(model, batch, True)
    say("03.2", f"notebook 03's batch ({len(offs)} targets, offsets {offs.tolist()}): SBO loss {with_p.mean():.3f} "
                f"with p_i, {without.mean():.3f} with p_i = 0; per target with -> without: " +
                ", ".join(f"p{o}: {a:.2f}->{z:.2f}" for o, a, z in zip(offs.tolist(), with_p.tolist(), without.tolist())))
    collate = SpanMaskingCollator(tokenizer, seed=1234)
    batch = collate([{"input_ids": ex["input_ids"]} for ex in blocks_128])
    loss_p, hit_p, offs = sbo_by_offset(model, batch, False)
    loss_z, hit_z, _ = sbo_by_offset(model, batch, True)
    rows = []
    for lo, hi in ((0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (6, 14)):
        sel = (offs >= lo) & (offs <= hi)
        rows.append(f"offset {lo if lo == hi else f'{lo}-{hi}'} (n={int(sel.sum())}): loss {loss_p[sel].mean():.2f}"
                    f"->{loss_z[sel].mean():.2f}, acc {hit_p[sel].float().mean():.3f}->{hit_z[sel].float().mean():.3f}")
    say("03.2", f"{len(blocks_128)} held-out blocks of 128 tokens, masks from seed 1234 ({len(offs)} SBO targets), "
                f"with p_i -> p_i = 0: overall loss {loss_p.mean():.2f}->{loss_z.mean():.2f}, accuracy "
                f"{hit_p.float().mean():.3f}->{hit_z.float().mean():.3f}; " + "; ".join(rows))

    c = SpanBertConfig.preset("small")
    params = SpanBertForPreTraining(c).num_parameters()
    matrix = c.vocab_size * c.hidden_size
    say("03.3", f"small preset: V x H = {c.vocab_size} x {c.hidden_size} = {matrix:,} per decoder matrix. The model "
                f"has {params:,} parameters with both decoders tied to the input embeddings; untied MLM and SBO "
                f"decoders would add {2 * matrix:,} ({2 * matrix / params:.0%} more, {params + 2 * matrix:,} in all); "
                f"tying only SBO to an already tied MLM decoder saves {matrix:,}")


# ----------------------------------------------------------------------------- notebook 04
def notebook_04(docs):
    single = pack_documents(docs, tokenizer, max_length=128)
    nsp = pack_pairs(docs, tokenizer, max_length=128, objective="nsp", seed=0)
    text = lambda ex: sum(1 for t in ex["input_ids"] if t not in (tokenizer.cls_token_id, tokenizer.sep_token_id))
    seg_a = [ex["token_type_ids"].count(0) - 2 for ex in nsp]        # A without [CLS] and its [SEP]
    same_doc = [text(ex) if ex["next_sentence_label"] == 0 else a for ex, a in zip(nsp, seg_a)]
    say("04.3", f"{len(docs)} held-out documents, max_length 128: one sequence holds {np.mean([text(e) for e in single]):.1f} "
                f"text tokens on average ({len(single)} examples); an NSP pair holds {np.mean([text(e) for e in nsp]):.1f} "
                f"({len(nsp)} pairs), segment A {np.mean(seg_a):.1f}, and only {np.mean(same_doc):.1f} come from one "
                f"document (B is from another document in {sum(e['next_sentence_label'] for e in nsp)} of {len(nsp)} pairs)")
    rows = committed_result("ablation_laptop.json")
    for arm in ("span", "span_1seq_sbo", "span_2seq_nsp"):
        say("04.1-2", f"committed ablation_laptop.json, arm {arm}: span MLM accuracy "
                      f"{mean_sd([r['mlm_span_acc'] for r in rows if r['arm'] == arm])} (3 seeds, tiny, 1,000 steps)")


# ----------------------------------------------------------------------------- notebook 05
def notebook_05(model):
    found, positions, first = 0, [0, 0], None
    picks = heldout_sentences(300, seed=0)
    for sentence, span in picks:
        pred = predict_span(model, tokenizer, sentence, span)
        sbo_only = [r["sbo"] is not None and r["sbo"][0][0] == r["answer"] != r["mlm"][0][0] for r in pred["rows"]]
        positions[0] += sum(sbo_only)
        positions[1] += sum(r["mlm"][0][0] == r["answer"] != (r["sbo"] or [[None]])[0][0] for r in pred["rows"])
        found += any(sbo_only)
        if first is None and all(r["sbo"][0][0] == r["answer"] for r in pred["rows"]) and any(sbo_only):
            first = pred
    say("05.1", f"held-out spans heldout_sentences(300, seed=0): {found} spans hold a token the SBO head gets right "
                f"(top-1) and the MLM head wrong ({positions[0]} tokens; the reverse: {positions[1]} tokens)")
    if first is not None:
        print(format_predictions(first))

    rng, hits = np.random.default_rng(0), {}
    for sentence, _ in heldout_sentences(200, seed=1, min_words=12):
        words = sentence.split()
        start = int(rng.integers(1, len(words) - 7))
        pred = predict_span(model, tokenizer, sentence, " ".join(words[start:start + 6]))
        for r in pred["rows"]:
            h = hits.setdefault(min(r["offset"], 9), [0, 0, 0])
            h[0] += 1
            h[1] += r["mlm"][0][0] == r["answer"]
            h[2] += r["sbo"] is not None and r["sbo"][0][0] == r["answer"]
    say("05.2", "6-word spans in 200 held-out sentences, top-1 accuracy by token offset (MLM / SBO): " +
                ", ".join(f"p{o}{'+' if o == 9 else ''} {m / n:.2f}/{s / n:.2f} (n={n})" for o, (n, m, s) in sorted(hits.items())))


# ----------------------------------------------------------------------------- notebook 06
def notebook_06(blocks_128):
    L = max(len(e["input_ids"]) for e in blocks_128)
    ids = np.full((len(blocks_128), L), tokenizer.pad_token_id, dtype=np.int64)
    word_ids = np.full((len(blocks_128), L), -1, dtype=np.int64)
    for b, e in enumerate(blocks_128):
        ids[b, :len(e["input_ids"])], word_ids[b, :len(e["word_ids"])] = e["input_ids"], e["word_ids"]
    maskable, word_start = maskable_positions(ids, non_maskable_ids(tokenizer)), word_starts_from_word_ids(word_ids)
    config, rng = MaskingConfig(), np.random.default_rng(0)
    t = time.perf_counter()
    for _ in range(3):
        for row in range(len(ids)):
            mask_sequence(ids[row], word_start[row], maskable[row], config, VOCAB, rng=rng)
    per_row = (time.perf_counter() - t) / 3
    t = time.perf_counter()
    for _ in range(3):
        mask_batch(ids, word_start, maskable, config, VOCAB, rng)
    batched = (time.perf_counter() - t) / 3
    say("06.gf1", f"a batch of {len(ids)} x {L} tokens: the per-sequence reference mask_sequence {1000 * per_row:.0f} ms, "
                  f"the library's mask_batch {1000 * batched:.0f} ms ({per_row / batched:.1f}x); timings vary with the machine")

    parts = []
    for name, H, V in (("small", 256, 8192), ("base preset", 768, 8192), ("SpanBERT-large", 1024, 28996)):
        count = lambda P: sum(p.numel() for n, p in SBOHead(H, V, position_size=P).named_parameters() if n != "bias")
        parts.append(f"{name} (H={H}): {count(200):,} with P=200, {count(H):,} with P=H ({count(H) - count(200):+,})")
    say("06.gf3", "SBO head parameters without its vocabulary bias: " + "; ".join(parts))


# ----------------------------------------------------------------------------- notebooks 07-09 (committed results)
def notebook_07():
    rows = committed_result("ablation_laptop.json")
    per_seed = {arm: {r["seed"]: r["mlm_span_acc"] for r in rows if r["arm"] == arm} for arm in ("span", "subword")}
    say("07.1", "committed span MLM accuracy by seed, span vs subword: " +
                ", ".join(f"seed {s}: {per_seed['span'][s]:.4f} vs {per_seed['subword'][s]:.4f}" for s in sorted(per_seed["span"])))
    seconds = np.mean([r["seconds"] for r in rows if r["arm"] in per_seed])
    say("07.1", f"one arm-seed run took {seconds:.0f} s on average (pretraining + cloze fine-tuning), so the "
                f"five-seed rerun of two arms is about {10 * seconds / 60:.0f} min")
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    own = {a: np.mean([r["heldout_mlm_acc_own_masks"] for r in rows if r["arm"] == a]) for a in arms}
    say("07.2", "committed heldout_mlm_acc_own_masks (each arm on its own scheme's masks, the training run's 4 "
                "held-out batches) vs span MLM accuracy (span masks, all held-out blocks), and own-masks minus the "
                "span arm's own-masks: " +
                "; ".join(f"{a} {mean_sd([r['heldout_mlm_acc_own_masks'] for r in rows if r['arm'] == a])} vs "
                          f"{mean_sd([r['mlm_span_acc'] for r in rows if r['arm'] == a])} ({own[a] - own['span']:+.3f})"
                          for a in arms))


def notebook_08():
    rows = committed_result("toy_world.json")["rows"]
    for arm, key in (("mlm", "mlm_by_length"), ("mlm+sbo", "mlm_by_length"), ("mlm+sbo", "sbo_by_length")):
        by = {k: np.mean([r[key][k] for r in rows if r["arm"] == arm]) for k in rows[0]["mlm_by_length"]}
        say("08.1", f"committed toy_world.json (max_value_words=5, 3 seeds), arm {arm}, {key.split('_')[0].upper()} head "
                    "accuracy by fact length in tokens: " + ", ".join(f"{k}: {v:.3f}" for k, v in by.items()))


def notebook_09():
    examples = load_qa("cloze", "heldout")
    golds = [e.answers[0]["text"] for e in examples]
    n_tokens, best_f1 = [], []
    for gold in golds:
        enc = tokenizer(gold, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        n_tokens.append(len(offsets))
        # the best any decoder can do with max_answer_length=2: a 1- or 2-token piece of the gold
        best_f1.append(max(f1(gold[offsets[i][0]:offsets[j][1]], gold)
                           for i in range(len(offsets)) for j in range(i, min(i + 2, len(offsets)))))
    n_tokens = np.array(n_tokens)
    say("09.2", f"{len(golds)} held-out cloze answers: {(n_tokens > 2).mean():.1%} are longer than 2 tokens (mean "
                f"{n_tokens.mean():.2f}, max {n_tokens.max()}), so with max_answer_length=2 exact match is at most "
                f"{100 * (n_tokens <= 2).mean():.1f} and F1 at most {100 * np.mean(best_f1):.1f} (a perfect model; "
                f"default 30 tokens: 100 and 100)")
    rows = committed_result("span_selection.json")["rows"]
    for arm in ("bundled (reference)", "scratch small (reference)"):
        for n in (250, 4000):
            f = [r["f1"] for r in rows if r["arm"] == arm and r["n_labels"] == n]
            if f:
                say("09.1", f"committed span_selection.json, {arm}, {n} labels: F1 {mean_sd(f)} over {len(f)} fine-tuning runs")


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(1)   # small matrices: a second thread gains little and stalls when the CPU is shared
    blocks_512 = pack_documents(heldout_docs, tokenizer, max_length=512)
    blocks_128 = pack_documents(heldout_docs[:20], tokenizer, max_length=128)
    model, _ = load_pretrained()
    model.eval()
    notebook_01(blocks_512)
    notebook_02(blocks_512)
    notebook_03(model, blocks_128)
    notebook_04(heldout_docs[:20])
    notebook_05(model)
    notebook_06(blocks_128)
    notebook_07()
    notebook_08()
    notebook_09()
    print(f"done in {time.perf_counter() - T0:.0f} s")
