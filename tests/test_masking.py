"""Masking: the budget, whole words, merging, 80/10/10, SBO targets; reference vs batched."""
import numpy as np
import pytest
from conftest import as_arrays, candidates_of
from hypothesis import given, settings
from hypothesis import strategies as st

from spanbert_edu.batch import IGNORE_INDEX

from spanbert_edu.masking import mask_batch, mask_sequence, MaskingConfig, ReplacementVocab, SCHEMES

from spanbert_edu.masking.reference import merge_runs

from spanbert_edu.masking.words import continuation_table, word_starts_from_word_ids, word_starts_from_wordpiece

MASK, CLS, SEP, PAD = 4, 2, 3, 0
SPECIAL = [PAD, 1, CLS, SEP, MASK]
VOCAB = ReplacementVocab.uniform(100, MASK, SPECIAL)


def run_both(ids, ws, maskable, config, seed, candidates=None, vocab=VOCAB):
    """(masked ids, labels, sbo boundaries list) from the reference and from the batched masker."""
    ref = mask_sequence(ids, ws, maskable, config, vocab, rng=seed, candidates=candidates)
    bat = mask_batch(ids[None], ws[None], maskable[None], config, vocab, np.random.default_rng(seed),
                     [candidates or {}])
    bounds = [tuple(b) for b in bat["span_boundaries"][0] if b[0] >= 0]
    return (ref.input_ids, ref.labels, ref.sbo_boundaries), (bat["input_ids"][0], bat["labels"][0], bounds)


@st.composite
def sequences(draw):
    """[CLS] words [SEP] [PAD]... with 1-3 pieces per word; ids 10..99 (piece ids irrelevant)."""
    n_words = draw(st.integers(0, 40))
    pieces = draw(st.lists(st.integers(1, 3), min_size=n_words, max_size=n_words))
    word_ids = [None] + [w for w, k in enumerate(pieces) for _ in range(k)] + [None]
    n_pad = draw(st.integers(0, 5))
    ids = [CLS] + draw(st.lists(st.integers(10, 99), min_size=len(word_ids) - 2,
                                max_size=len(word_ids) - 2)) + [SEP] + [PAD] * n_pad
    word_ids += [None] * n_pad
    ids = np.array(ids)
    maskable = ~np.isin(ids, SPECIAL)
    n_tok = len(word_ids) - 2 - n_pad
    entity = []
    if n_tok >= 2:
        s = draw(st.integers(1, n_tok))
        entity = [(s, draw(st.integers(s, n_tok)))]
    return ids, word_starts_from_word_ids(word_ids), maskable, {"entity": entity, "phrase": entity}


def check_invariants(ids, ws, maskable, config, out_ids, labels, bounds):
    masked = labels != IGNORE_INDEX
    n = int(maskable.sum())
    assert masked.sum() == config.budget(n)                     # exactly the budget
    assert not (masked & ~maskable).any()                            # no special / padding
    assert (labels[masked] == ids[masked]).all()                     # labels are the originals
    assert (out_ids[~masked] == ids[~masked]).all()                  # nothing else changes
    runs = merge_runs(masked)
    if config.scheme != "subword":                                   # whole words, but the last
        word_end = np.r_[ws[1:] | ~maskable[1:], True]
        partial = sum(not ws[s] or not word_end[e] for s, e in runs)
        assert partial <= 1
    for left, right in bounds:                                       # SBO neighbours are ordinary
        assert maskable[left] and maskable[right] and not masked[left] and not masked[right]
        assert masked[left + 1:right].all()


@pytest.mark.parametrize("scheme", SCHEMES)
@given(seq=sequences(), seed=st.integers(0, 2 ** 16), replacement=st.sampled_from(["span", "token"]))
@settings(max_examples=40, deadline=None)
def test_invariants_hold_for_any_sequence(scheme, seq, seed, replacement):
    ids, ws, maskable, candidates = seq
    config = MaskingConfig(scheme=scheme, replacement=replacement)
    for out_ids, labels, bounds in run_both(ids, ws, maskable, config, seed, candidates):
        check_invariants(ids, ws, maskable, config, out_ids, labels, bounds)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_invariants_on_the_bundled_corpus(scheme, heldout_examples, tokenizer, uniform_vocab):
    config = MaskingConfig(scheme=scheme)
    for k, ex in enumerate(heldout_examples[:40]):
        ids, ws, maskable = as_arrays(ex, tokenizer.all_special_ids)
        for out_ids, labels, bounds in run_both(ids, ws, maskable, config, k, candidates_of(ex), uniform_vocab):
            check_invariants(ids, ws, maskable, config, out_ids, labels, bounds)


def test_budget_is_ceil_of_ratio_times_n():
    config = MaskingConfig()
    assert [config.budget(n) for n in (1, 6, 7, 20, 100, 510)] == [1, 1, 2, 3, 15, 77]
    assert config.budget([20, 510]).tolist() == [3, 77]


def test_sequence_without_maskable_tokens_comes_back_unmasked():
    ids = np.array([CLS, SEP, PAD])
    maskable = np.zeros(3, dtype=bool)
    for scheme in SCHEMES:
        (r_ids, r_lab, _), (b_ids, b_lab, _) = run_both(ids, maskable, maskable, MaskingConfig(scheme=scheme), 0)
        assert (r_ids == ids).all() and (b_ids == ids).all()
        assert (r_lab == IGNORE_INDEX).all() and (b_lab == IGNORE_INDEX).all()


def test_fixed_seed_gives_identical_output(heldout_examples, tokenizer):
    ids, ws, maskable = as_arrays(heldout_examples[0], tokenizer.all_special_ids)
    vocab = ReplacementVocab.uniform(len(tokenizer), tokenizer.mask_token_id, tokenizer.all_special_ids)
    a = mask_sequence(ids, ws, maskable, MaskingConfig(), vocab, rng=3)
    b = mask_sequence(ids, ws, maskable, MaskingConfig(), vocab, rng=3)
    assert (a.input_ids == b.input_ids).all() and a.spans == b.spans
    batch = lambda s: mask_batch(ids[None].repeat(4, 0), ws[None].repeat(4, 0), maskable[None].repeat(4, 0),
                                 MaskingConfig(), vocab, np.random.default_rng(s))
    assert all((batch(9)[k] == batch(9)[k]).all() for k in ("input_ids", "span_boundaries", "span_labels"))
    assert (batch(9)["labels"] != batch(10)["labels"]).any()


def test_edge_spans_get_no_sbo_targets():
    # [CLS] a b c [SEP]: mask everything with ratio 0.99 -> one run touching both edges
    ids, ws = np.array([CLS, 11, 12, 13, SEP]), np.array([0, 1, 1, 1, 0], dtype=bool)
    maskable = np.array([0, 1, 1, 1, 0], dtype=bool)
    config = MaskingConfig(mlm_probability=0.99)
    for _, labels, bounds in run_both(ids, ws, maskable, config, 0):
        assert (labels[1:4] == ids[1:4]).all() and bounds == []


def test_sbo_targets_are_the_first_max_span_targets_tokens():
    ids = np.array([CLS] + list(range(10, 40)) + [SEP])
    maskable = np.r_[False, np.ones(30, bool), False]
    config = MaskingConfig(scheme="span", mlm_probability=0.5, max_span_targets=4, geometric_p=0.05)
    out = mask_batch(ids[None], maskable[None], maskable[None], config, VOCAB, np.random.default_rng(0))
    for (left, right), labels in zip(out["span_boundaries"][0], out["span_labels"][0]):
        if left < 0:
            continue
        n = right - left - 1
        expected = list(ids[left + 1:left + 1 + min(n, 4)]) + [IGNORE_INDEX] * max(0, 4 - n)
        assert labels.tolist() == expected


def _span_statistics(impl, examples, special_ids, vocab, config, draws):
    lengths, actions = [], {"mask": 0, "random": 0, "keep": 0}
    rng = np.random.default_rng(0)
    for d in range(draws):
        for ex in examples:
            ids, ws, maskable = as_arrays(ex, special_ids)
            if impl == "reference":
                r = mask_sequence(ids, ws, maskable, config, vocab, rng=rng)
                out, labels = r.input_ids, r.labels
            else:
                o = mask_batch(ids[None], ws[None], maskable[None], config, vocab, rng)
                out, labels = o["input_ids"][0], o["labels"][0]
            for s, e in merge_runs(labels != IGNORE_INDEX):
                lengths.append(e - s + 1)
                seg = out[s:e + 1]
                act = ("mask" if (seg == vocab.mask_token_id).all() else
                       "keep" if (seg == ids[s:e + 1]).all() else "random")
                actions[act] += 1
    return np.array(lengths), actions


def test_reference_and_batched_have_the_same_distributions(heldout_examples, tokenizer):
    """Span lengths (tokens, after merging), the budget and the 80/10/10 mix over many draws."""
    vocab = ReplacementVocab.uniform(len(tokenizer), tokenizer.mask_token_id, tokenizer.all_special_ids)
    examples = [e for e in heldout_examples if len(e["input_ids"]) >= 100][:60]
    stats = {impl: _span_statistics(impl, examples, tokenizer.all_special_ids, vocab, MaskingConfig(), 40)
             for impl in ("reference", "batched")}
    (la, aa), (lb, ab) = stats["reference"], stats["batched"]
    assert la.sum() == lb.sum()                                 # same budget, every draw
    # mean run length: difference within 4 standard errors of the difference
    se = np.sqrt(la.var() / len(la) + lb.var() / len(lb))
    assert abs(la.mean() - lb.mean()) < 4 * se
    # two-sample chi-square on run lengths 1..12, 13+ (df = 12, critical 32.909 at alpha 0.001)
    bins = lambda x: np.bincount(np.minimum(x, 13) - 1, minlength=13)
    a, b = bins(la), bins(lb)
    ka, kb = np.sqrt(b.sum() / a.sum()), np.sqrt(a.sum() / b.sum())
    chi2 = (((ka * a - kb * b) ** 2) / np.maximum(a + b, 1)).sum()
    assert chi2 < 32.909
    # 80/10/10 per span in both: each share within 4 standard errors of 0.8 / 0.1 / 0.1
    for actions in (aa, ab):
        n = sum(actions.values())
        for act, p in (("mask", 0.8), ("random", 0.1), ("keep", 0.1)):
            assert abs(actions[act] / n - p) < 4 * np.sqrt(p * (1 - p) / n), (act, actions)


def test_replacement_per_span_vs_per_token(heldout_examples, tokenizer):
    vocab = ReplacementVocab.uniform(len(tokenizer), tokenizer.mask_token_id, tokenizer.all_special_ids)
    mixed = {}
    for replacement in ("span", "token"):
        config = MaskingConfig(replacement=replacement)
        mixed[replacement] = 0
        for k, ex in enumerate(heldout_examples[:60]):
            ids, ws, maskable = as_arrays(ex, tokenizer.all_special_ids)
            o = mask_batch(ids[None], ws[None], maskable[None], config, vocab, np.random.default_rng(k))
            for s, e in merge_runs(o["labels"][0] != IGNORE_INDEX):
                is_mask = o["input_ids"][0][s:e + 1] == tokenizer.mask_token_id
                mixed[replacement] += bool(is_mask.any() and not is_mask.all())
    assert mixed["span"] == 0          # one decision per span: all [MASK] or none
    assert mixed["token"] > 10         # per token: many spans are partly [MASK]


def test_unigram_replacements_follow_the_counts():
    vocab = ReplacementVocab.unigram([50, 0, 100, 300, 600], mask_token_id=1, special_ids=[0])
    draws = vocab.sample(100_000, np.random.default_rng(0))
    freq = np.bincount(draws, minlength=5) / len(draws)
    assert freq[0] == 0 and freq[1] == 0                        # special and zero-count never drawn
    assert np.allclose(freq[2:], [0.1, 0.3, 0.6], atol=4 * np.sqrt(0.25 / 100_000))


def test_wordpiece_rule_agrees_with_word_ids(heldout_examples, tokenizer):
    table = continuation_table(tokenizer)
    for ex in heldout_examples[:50]:
        ids, ws, maskable = as_arrays(ex, tokenizer.all_special_ids)
        assert (word_starts_from_wordpiece(ids, table)[maskable] == ws[maskable]).all()


def test_linguistic_schemes_mask_proposed_spans():
    ids = np.array([CLS] + list(range(10, 30)) + [SEP])
    maskable = np.r_[False, np.ones(20, bool), False]
    config = MaskingConfig(scheme="entity", mlm_probability=0.2)           # budget 4
    hits = 0
    for seed in range(50):
        r = mask_sequence(ids, maskable, maskable, config, VOCAB, rng=seed,
                          candidates={"entity": [(5, 8), (0, 3)]})     # (0, 3) covers [CLS]: ignored
        assert r.labels[0] == IGNORE_INDEX
        hits += bool((r.labels[5:9] != IGNORE_INDEX).all())
    assert hits > 25       # the proposed span is drawn first half the time, and often later


def test_masking_config_rejects_bad_values():
    with pytest.raises(ValueError, match="scheme must be one of"):
        MaskingConfig(scheme="random")
    with pytest.raises(ValueError, match=r"mlm_probability must be in the open interval \(0, 1\), got 1.0"):
        MaskingConfig(mlm_probability=1.0)
    with pytest.raises(ValueError, match="mask_replace_prob \\+ random_replace_prob must be <= 1"):
        MaskingConfig(mask_replace_prob=0.9, random_replace_prob=0.2)
    with pytest.raises(ValueError, match="max_span_length must be >= min_span_length"):
        MaskingConfig(min_span_length=4, max_span_length=2)
