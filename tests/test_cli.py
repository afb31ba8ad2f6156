"""The main job: ``python -m spanbert_edu demo``."""
import json
import subprocess
import sys

import numpy as np

from spanbert_edu.cli import main
from spanbert_edu.presentation.demo import render_masked


def test_demo_masks_a_batch_with_every_scheme(tmp_path, capsys):
    main(["demo", "--batch-size", "4", "--max-length", "64", "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    printed = capsys.readouterr().out
    assert set(summary["schemes"]) == {"subword", "whole_word", "span", "entity", "phrase", "ernie"}
    budgets = {s["masked_tokens"] for s in summary["schemes"].values()}
    assert len(budgets) == 1                                   # one shared budget
    for stats in summary["schemes"].values():
        assert 0.15 <= stats["masked_fraction"] < 0.25         # ceil per 62-token row
    assert summary["schemes"]["span"]["mean_span_tokens"] > summary["schemes"]["subword"]["mean_span_tokens"]
    assert "closed-form mean 3.797" in printed and "⟦" in printed
    assert (tmp_path / "masks.txt").read_text().count("== ") == 6


def test_module_entry_point_help():
    out = subprocess.run([sys.executable, "-m", "spanbert_edu", "demo", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--batch-size" in out


def test_render_masked_marks_mask_random_and_kept(tokenizer):
    ids = tokenizer("alpha beta gamma delta")["input_ids"]     # [CLS] ... [SEP]
    new = list(ids)
    new[1], new[2] = tokenizer.mask_token_id, tokenizer.convert_tokens_to_ids("the")
    labels = np.full(len(ids), -100)
    labels[1:4] = ids[1:4]
    text = render_masked(tokenizer, ids, new, labels)
    assert text.startswith("⟦[MASK] ~the =") and "⟧" in text and "[CLS]" not in text
