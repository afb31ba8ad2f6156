"""The span-selection experiment: its statistics by hand, and the runner (smoke budget)."""
import json
import math

import pytest

from spanbert_edu.experiments import span_selection as S
from spanbert_edu.experiments.stats import t_quantile


@pytest.mark.parametrize("q, df, table", [(0.975, 1, 12.706), (0.975, 2, 4.303), (0.975, 4, 2.776),
                                          (0.975, 10, 2.228), (0.95, 3, 2.353), (0.8, 4, 0.941),
                                          (0.999, 1, 318.309), (0.5, 7, 0.0)])
def test_t_quantile_matches_the_printed_table(q, df, table):
    assert t_quantile(q, df) == pytest.approx(table, abs=1e-3)


def test_t_quantile_tends_to_the_normal_and_refuses_bad_input():
    assert t_quantile(0.975, 10_000) == pytest.approx(1.960, abs=1e-3)
    with pytest.raises(ValueError, match="q must be in"):
        t_quantile(0.2, 3)
    with pytest.raises(ValueError, match="df must be >= 1"):
        t_quantile(0.975, 0.5)


def _rows(arm, per_seed):
    """Rows whose fine-tuning seeds average to ``per_seed[k]`` for pretraining seed k (f1 = +-1 around it)."""
    return [{"arm": arm, "pretrain_seed": k, "finetune_seed": f, "n_labels": 10, "f1": v + (1 if f else -1),
             "exact_match": v / 2} for k, v in enumerate(per_seed) for f in (0, 1)]


def test_arm_difference_by_hand():
    rows = _rows("span", [10, 12, 14]) + _rows("subword", [5, 5, 8])
    d = S.arm_difference(rows, "span", "subword", 10)
    # means 12 and 6; sample variances 4 and 3 over 3 seeds: se = sqrt(4/3 + 3/3)
    assert d["difference"] == pytest.approx(6.0)
    assert d["se"] == pytest.approx(math.sqrt(7 / 3))
    df = (7 / 3) ** 2 / ((4 / 3) ** 2 / 2 + 1 ** 2 / 2)  # Welch-Satterthwaite
    assert d["df"] == pytest.approx(df)
    assert d["half_width"] == pytest.approx(t_quantile(0.975, df) * math.sqrt(7 / 3))
    # 80% power at 95% confidence: (t_0.975 + t_0.80) standard errors
    assert d["detectable"] == pytest.approx((t_quantile(0.975, df) + t_quantile(0.8, df)) * math.sqrt(7 / 3))
    assert d["significant"] and d["units"] == (3, 3)
    same = S.arm_difference(_rows("a", [10, 12, 14]) + _rows("b", [11, 12, 13]), "a", "b", 10)
    assert same["difference"] == pytest.approx(0.0) and not same["significant"]
    with pytest.raises(ValueError, match="at least 2 units"):
        S.arm_difference(_rows("a", [1]) + _rows("b", [2, 3]), "a", "b", 10)
    flat = S.arm_difference(_rows("a", [5, 5]) + _rows("b", [4, 4]), "a", "b", 10)
    assert math.isnan(flat["half_width"]) and not flat["significant"]   # no spread: no verdict


def test_summarise_averages_finetune_seeds_first():
    (cell,) = S.summarise(_rows("span", [10, 12, 14]))
    assert cell["seeds"] == 3 and cell["runs"] == 6
    assert cell["f1"] == pytest.approx((12.0, 2.0))   # mean and sample sd of 10, 12, 14, not of the 6 runs


def test_smoke_run_writes_every_row_and_resumes(tmp_path):
    rows = S.run_span_selection("smoke", tmp_path, arms=["scratch", "span_sbo"], echo=lambda *a: None)
    spec = S.BUDGETS["smoke"]
    assert len(rows) == 2 * len(spec["labels"]) * len(spec["finetune_seeds"])
    assert {r["arm"] for r in rows} == {"scratch", "span_sbo"}
    for r in rows:
        assert set(r) >= {"arm", "pretrain_seed", "finetune_seed", "n_labels", "exact_match", "f1"}
        assert 0 <= r["exact_match"] <= r["f1"] + 1e-9 <= 100 + 1e-9 and r["n"] > 0
    saved = json.loads((tmp_path / "span_selection_smoke.json").read_text())
    assert saved["rows"] == json.loads(json.dumps(rows)) and saved["finetune"] == spec["finetune"]
    # the scratch arm's "pretraining" is its seeded random encoder, saved as a step-0 checkpoint
    assert (tmp_path / "smoke" / "pretrain" / "scratch-seed0" / "checkpoints" / "step-000000" / "model.safetensors").is_file()
    again = S.run_span_selection("smoke", tmp_path, arms=["scratch", "span_sbo"], echo=lambda *a: None)
    assert again == rows                                      # finished rows are read back, not rerun
    assert "| scratch |" in S.span_selection_table(rows)     # one seed: no differences, and no crash


def test_run_refuses_unknown_budget_and_arm(tmp_path):
    with pytest.raises(ValueError, match="budget must be one of"):
        S.run_span_selection("huge", tmp_path)
    with pytest.raises(ValueError, match=r"unknown arms \['bert'\]"):
        S.run_span_selection("smoke", tmp_path, arms=["bert"])
