"""The toy world (spanbert_edu.experiments.toy): the language, the masked-fact batches, the probe, the command."""
import json

import numpy as np
import pytest
import torch

from spanbert_edu.batch import IGNORE_INDEX
from spanbert_edu.experiments.toy import ToyConfig, ToyWorld, run_arm
from spanbert_edu.experiments.toy.experiment import fit_probe, masked_facts, probe_ceiling
from spanbert_edu.experiments.toy.report import toy_table
from spanbert_edu.experiments.toy.world import GLUE, RELATIONS

WORLD = ToyWorld()


def test_the_world_is_fixed_by_its_seed():
    again, other = ToyWorld(), ToyWorld(world_seed=1)
    assert again.facts == WORLD.facts and again.people == WORLD.people
    assert other.facts != WORLD.facts
    assert len(set(WORLD.people)) == 40 and not set(WORLD.people) & set(WORLD.value_words)


def test_sentences_state_the_facts_between_uninformative_boundaries():
    ids, facts = WORLD.sentence(7, [2, 0, 1])
    words = WORLD.decode(ids).split()
    assert words[0] == WORLD.people[7]
    assert [f.relation for f in facts] == [2, 0, 1]
    for k, f in enumerate(facts):
        assert tuple(ids[f.start:f.end + 1]) == WORLD.facts[7][f.relation]
        assert 1 <= f.length <= WORLD.max_value_words
        assert words[f.start - 1] == RELATIONS[f.relation][-1]     # x_{s-1}: "in", "likes" or "as"
        assert words[f.end + 1] == GLUE[k]                          # x_{e+1}: ",", "and" or "."


def test_examples_are_reproducible_and_tokenise_back():
    a, b = WORLD.examples(5, seed=[3, 1]), WORLD.examples(5, seed=[3, 1])
    assert [e["input_ids"] for e in a] == [e["input_ids"] for e in b]
    for ex in a:
        assert len(ex["input_ids"]) <= WORLD.max_length and len(ex["facts"]) == 9
        text = WORLD.decode(ex["input_ids"][1:-1])
        assert WORLD.tokenizer(text)["input_ids"] == ex["input_ids"]
        assert len({f.person for f in ex["facts"]}) == 3            # three different people


def test_masked_facts_masks_whole_values_and_points_at_their_boundaries():
    examples = WORLD.examples(6, seed=0)
    batch = masked_facts(WORLD, examples, seed=1)
    mask = WORLD.tokenizer.mask_token_id
    for b, ex in enumerate(examples):
        spans = [(int(s), int(e)) for s, e in batch["span_boundaries"][b].tolist() if s >= 0]
        assert len(spans) == 3
        masked = (batch["input_ids"][b] == mask).nonzero().flatten().tolist()
        assert masked == [p for s, e in spans for p in range(s + 1, e)]
        assert (batch["labels"][b] != IGNORE_INDEX).nonzero().flatten().tolist() == masked
        for k, (s, e) in enumerate(spans):
            want = ex["input_ids"][s + 1:e]
            got = batch["span_labels"][b, k]
            assert got[:len(want)].tolist() == want and (got[len(want):] == IGNORE_INDEX).all()


def test_masked_facts_people_filter():
    examples = WORLD.examples(20, seed=0)
    batch = masked_facts(WORLD, examples, seed=1, people={0, 1, 2})
    for b, ex in enumerate(examples):
        starts = {s + 1 for s, _ in batch["span_boundaries"][b].tolist() if s >= 0}
        assert all(f.person in {0, 1, 2} for f in ex["facts"] if f.start in starts)


def test_probe_reads_what_is_there_and_nothing_else():
    # 3 classes per offset; features that one-hot the answer are read perfectly, noise is not
    rng = np.random.default_rng(0)
    n, v = 600, 3
    y = torch.tensor(rng.integers(v, size=n))
    offsets = torch.tensor(rng.integers(2, size=n))
    lengths = np.full(n, 2)
    onehot = torch.nn.functional.one_hot(y, 8).float() + 0.1 * torch.randn(n, 8)
    noise = torch.randn(n, 8)
    cfg = ToyConfig()
    split = lambda x: ((x[:400], offsets[:400], y[:400], lengths[:400]), (x[400:], offsets[400:], y[400:], lengths[400:]))
    assert fit_probe(*split(onehot), cfg, n_vocab=v)["probe_acc"] == 1.0
    chance = fit_probe(*split(noise), cfg, n_vocab=v)["probe_acc"]
    assert chance < 0.5   # 1/3 expected; 200 test rows: sd 0.033, so 0.5 is 5 sd away


@pytest.mark.parametrize("arm", ["mlm", "mlm+sbo", "untrained"])
def test_run_arm_rows(arm):
    cfg = ToyConfig(steps=20, eval_examples=30, probe_examples=40, probe_epochs=20)
    row = run_arm(WORLD, arm, 0, cfg)
    assert row["arm"] == arm and row["steps"] == (0 if arm == "untrained" else 20)
    assert 0 <= row["probe_acc"] <= 1 and 0 <= row["probe_acc_new_people"] <= 1
    assert (row["sbo_acc"] is None) == (arm != "mlm+sbo")
    assert (row["mlm_acc"] is None) == (arm == "untrained")
    if arm != "untrained":
        assert set(row["mlm_by_length"]) <= set(range(1, WORLD.max_value_words + 1))


def test_probe_ceiling_counts_pairs_the_fit_set_never_showed():
    t = torch.tensor
    fit = (None, t([0, 0, 1]), t([5, 6, 5]), None)
    test = (None, t([0, 1, 1, 2]), t([6, 5, 6, 5]), None)   # (0,6) and (1,5) seen; (1,6), (2,5) not
    assert probe_ceiling(fit, test) == 0.5


def test_toy_command_writes_results(tmp_path, capsys):
    from spanbert_edu.cli import main

    out = tmp_path / "toy.json"
    main(["toy", "--seeds", "1", "--steps", "5", "--out", str(out)])
    result = json.loads(out.read_text())
    assert [r["arm"] for r in result["rows"]] == ["mlm", "mlm+sbo", "untrained"]
    assert {"arm", "seed", "sbo_acc", "probe_acc", "mlm_by_length"} <= set(result["rows"][0])
    assert "| MLM + SBO |" in capsys.readouterr().out
    assert toy_table(result).count("\n") == 4 and "its ceiling" in toy_table(result)
