"""finetune: SQuAD files in, predictions.json and eval.json out, exact resume, the command line,
a local Hugging Face BERT as the encoder, and a bad init or label count refused by name (bad
settings and flags: the table in tests/test_bad_input.py)."""
import json
import os
import subprocess
import sys

import pytest
import torch

from spanbert_edu.cli import main
from spanbert_edu.qa import finetune
import spanbert_edu.qa.loop as finetune_module

FACTS = [("Ada", "London", "tea"), ("Bram", "Dublin", "chess"), ("Chen", "Taipei", "jazz"), ("Dana", "Oslo", "rowing"),
         ("Emil", "Prague", "maps"), ("Fatima", "Rabat", "poetry"), ("Goran", "Zagreb", "kites"), ("Hana", "Kyoto", "tennis")]


def _squad(path, facts, version_2=False):
    paragraphs = []
    for k, (who, city, likes) in enumerate(facts):
        context = f"{who} lives in {city} and likes {likes}. Nobody else in the story owns a boat."
        qas = [{"id": f"{k}-city", "question": f"Where does {who} live?",
                "answers": [{"text": city, "answer_start": context.index(city)}]},
               {"id": f"{k}-likes", "question": f"What does {who} like?",
                "answers": [{"text": likes, "answer_start": context.index(likes)}]}]
        if version_2:
            qas.append({"id": f"{k}-boat", "question": f"Which boat does {who} own?", "answers": [], "is_impossible": True})
        paragraphs.append({"context": context, "qas": qas})
    path.write_text(json.dumps({"version": "v2.0" if version_2 else "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}))
    return str(path)


@pytest.fixture()
def files(tmp_path):
    return _squad(tmp_path / "train.json", FACTS[:6]), _squad(tmp_path / "dev.json", FACTS[6:], version_2=True)


def quick(out, train, dev, **kw):
    return dict(init="scratch", preset="tiny", train_file=train, eval_file=dev, steps=6, batch_size=4,
                max_length=48, doc_stride=8, max_question_length=16, warmup_steps=1, save_every=3,
                keep_checkpoints=2, log_every=1, learning_rate=1e-3, out_dir=str(out), progress=False,
                echo=lambda *a: None, **kw)


def test_writes_squad_predictions_and_scores(tmp_path, files):
    result = finetune(**quick(tmp_path / "run", *files))
    predictions = json.loads((tmp_path / "run" / "predictions.json").read_text())
    scores = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert set(predictions) == {f"{k}-{q}" for k in range(2) for q in ("city", "likes", "boat")}
    assert all(isinstance(v, str) for v in predictions.values())
    assert scores["n"] == 6 and 0 <= scores["exact_match"] <= scores["f1"] <= 100
    assert scores["no_answer_n"] == 2 and scores["has_answer_n"] == 4  # v2.0: the no-answer questions are scored
    assert result["eval"] == scores
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step-000003", "step-000006"]


def test_an_interrupted_run_resumes_exactly(tmp_path, files, monkeypatch):
    whole = finetune(**quick(tmp_path / "whole", *files))
    real = finetune_module.append_jsonl

    def crash_at_step_5(path, row, *a):
        if row.get("step") == 5 and row.get("split") == "train":
            raise KeyboardInterrupt  # after step 3's checkpoint, mid-run
        real(path, row, *a)

    monkeypatch.setattr(finetune_module, "append_jsonl", crash_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        finetune(**quick(tmp_path / "cut", *files))
    monkeypatch.setattr(finetune_module, "append_jsonl", real)
    resumed = finetune(**quick(tmp_path / "cut", *files), resume=True)
    a, b = whole["model"].state_dict(), resumed["model"].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["predictions"] == whole["predictions"]
    with pytest.raises(ValueError, match="learning_rate"):
        finetune(**{**quick(tmp_path / "cut", *files), "learning_rate": 5e-4}, resume=True)


def test_the_command_line(tmp_path, files, capsys):
    train, dev = files
    main(["finetune", "--init", "scratch", "--preset", "tiny", "--train-file", train, "--eval-file", dev,
          "--steps", "2", "--batch-size", "4", "--max-length", "48", "--doc-stride", "8",
          "--max-question-length", "16", "--labels", "8", "--out", str(tmp_path / "cli")])
    assert "exact match" in capsys.readouterr().out
    assert json.loads((tmp_path / "cli" / "eval.json").read_text())["n"] == 6
    with pytest.raises(SystemExit) as stop:
        main(["finetune", "--labels", "0", "--out", str(tmp_path / "bad")])
    assert stop.value.code == 2


def test_export_hf_of_a_fine_tuned_checkpoint(tmp_path, files):
    from transformers import AutoModelForQuestionAnswering

    result = finetune(**{**quick(tmp_path / "run", *files), "steps": 3})
    main(["export-hf", result["checkpoint"], str(tmp_path / "hf")])
    hf = AutoModelForQuestionAnswering.from_pretrained(tmp_path / "hf").eval()
    ids = torch.tensor([[2, 100, 101, 3, 200, 201, 202, 3]])
    with torch.no_grad():
        ours, theirs = result["model"].eval()(ids), hf(ids)
    assert (ours.start_logits - theirs.start_logits).abs().max() < 1e-5
    assert (ours.end_logits - theirs.end_logits).abs().max() < 1e-5


def test_a_local_hugging_face_bert_as_the_encoder(tmp_path, files, tokenizer):
    from transformers import BertConfig, BertForMaskedLM

    folder = tmp_path / "tiny-bert"  # a stand-in for hf:bert-base-cased, saved to disk
    BertForMaskedLM(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=64, max_position_embeddings=64)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    result = finetune(**{**quick(tmp_path / "hf", *files), "init": f"hf:{folder}", "steps": 2})
    assert result["model"].config.hidden_size == 32 and result["eval"]["n"] == 6


def test_bad_init_and_too_many_labels(tmp_path, files):
    with pytest.raises(ValueError, match="init must be"):
        finetune(**{**quick(tmp_path / "x", *files), "init": str(tmp_path / "nowhere")})
    with pytest.raises(ValueError, match="labels .100. is more than the 12 training questions"):
        finetune(**{**quick(tmp_path / "y", *files), "labels": 100})


def test_data_parallel_matches_single_process(tmp_path, files):
    """torchrun with 2 CPU processes: both ranks end equal, and equal to one process on the same
    global batch (fp32, dropout off; 1e-5 for the order of the gradient reduction)."""
    from safetensors.torch import load_file

    train, dev = files
    common = ["finetune", "--init", "scratch", "--preset", "tiny", "--train-file", train, "--eval-file", dev,
              "--steps", "4", "--batch-size", "4", "--max-length", "48", "--doc-stride", "8",
              "--max-question-length", "16", "--precision", "fp32", "--dropout", "0", "--save-every", "4"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29553",
                    "-m", "spanbert_edu", *common, "--out", str(tmp_path / "ddp")], check=True, env=env, capture_output=True)
    subprocess.run([sys.executable, "-m", "spanbert_edu", *common, "--out", str(tmp_path / "single")],
                   check=True, env=env, capture_output=True)
    assert json.loads((tmp_path / "ddp" / "ddp.json").read_text())["max_weight_diff_across_ranks"] == 0.0
    a, b = (load_file(str(tmp_path / run / "checkpoints" / "step-000004" / "model.safetensors")) for run in ("ddp", "single"))
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5
    assert json.loads((tmp_path / "ddp" / "eval.json").read_text())["n"] == 6
