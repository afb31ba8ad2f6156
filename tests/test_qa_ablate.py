"""The cloze span-selection task, SQuAD scoring, and the ablation runner (smoke budget)."""
import json

import pytest

from spanbert_edu.experiments.ablate import ARMS, run_ablation, summarise
from spanbert_edu.data.documents import Document
from spanbert_edu.experiments.cloze import encode, exact_match, f1_score, make_cloze_examples

DOC = Document("d", "The quick brown fox jumps over the lazy dog. Then the quick brown fox sleeps. "
                    "A lazy dog never jumps. Nothing else happens here at all.")


def test_cloze_examples_point_at_the_answer(tokenizer):
    examples = make_cloze_examples([DOC], per_document=50, seed=0)
    assert examples and all(e.context[e.answer_start:e.answer_start + len(e.answer)] == e.answer for e in examples)
    assert all("[MASK]" in e.question and e.answer not in e.question for e in examples)
    assert any(e.answer == "quick brown fox" for e in examples)
    batch, kept, offsets = encode(examples, tokenizer, max_length=64)
    for k, ex in enumerate(kept):
        s, e = int(batch["start_positions"][k]), int(batch["end_positions"][k])
        assert ex.context[offsets[k][s][0]:offsets[k][e][1]] == ex.answer


def test_squad_scoring_by_hand():
    assert exact_match("The Cat sat.", "cat sat") == 1.0          # case, punctuation, articles
    assert exact_match("cat", "cat sat") == 0.0
    assert f1_score("cat sat on", "the cat sat") == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert f1_score("dog", "cat") == 0.0


def test_smoke_ablation_runs_every_arm(tmp_path):
    rows = run_ablation("smoke", tmp_path, echo=lambda *a: None)
    assert [r["arm"] for r in rows] == list(ARMS)
    saved = json.loads((tmp_path / "ablation_smoke.json").read_text())
    assert saved == json.loads(json.dumps(rows))               # what the JSON holds is the run
    for r in rows:
        assert 0 <= r["mlm_span_acc"] <= 1 and 0 <= r["qa_f1"] <= 100 and r["seed"] == 0
        assert (r["sbo_acc"] is not None) == (r["arm"] == "span_1seq_sbo")
    assert {s["arm"] for s in summarise(rows)} == set(ARMS)


def test_ablation_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="budget must be one of"):
        run_ablation("huge", tmp_path)
    with pytest.raises(ValueError, match="unknown arms"):
        run_ablation("smoke", tmp_path, arms=["spam"])
