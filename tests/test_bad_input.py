"""What a hostile new user found (issue 9): nothing lost, nothing silently wrong, clear errors.

Each case is a repro of a reported defect. Every row (a parametrized case, or a test that is one
case) names its class of defect (``CLASSES``; ``python scripts/bad_input_counts.py`` counts them).
The tables at the end cover every entry point added since issue 9: the download, the authors'
file, the toy world, fill, finetune and its resume, and what the wheel and the sdist carry."""
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from spanbert_edu.checkpoint import is_checkpoint, save_checkpoint
from spanbert_edu.cli import main
from spanbert_edu.heads import SpanBertForPreTraining
from spanbert_edu.model import SpanBertConfig
from spanbert_edu.train import TrainConfig, pretrain

# The classes of defect. Every row of this suite (a parametrized case, or a test that is
# one case) names the class it keeps out; scripts/bad_input_counts.py prints the rows per class.
CLASSES = {"wheel": "1 wheel/install", "files": "2 user files overwritten or deleted",
           "cli": "3 tracebacks from the command line",
           "api": "4 silent wrong results and raw errors in the Python API",
           "fixed": "5 keep it fixed (what a fix must still accept)"}
ROWS = []  # (class, test name), one per row


def table(kind, names, cases, ids=None):
    """``pytest.mark.parametrize(names, cases, ids=ids)``; each case is one row of class ``kind``."""
    assert kind in CLASSES, kind
    cases = list(cases)

    def register(test):
        ROWS.extend((kind, test.__name__) for _ in cases)
        return pytest.mark.parametrize(names, cases, ids=ids)(test)
    return register


def case(kind):
    """The decorated test is one row of class ``kind``."""
    assert kind in CLASSES, kind

    def register(test):
        ROWS.append((kind, test.__name__))
        return test
    return register


QUICK = dict(preset="tiny", batch_size=4, max_length=32, steps=4, warmup_steps=1, log_every=1,
             eval_every=4, eval_batches=1, save_every=2, progress=False, echo=lambda *a: None)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    pretrain(out_dir=str(out), **QUICK)
    return out


def cli(*argv):
    """Run the CLI in-process; returns its exit code (0 when it returns normally)."""
    try:
        main([str(a) for a in argv])
        return 0
    except SystemExit as done:
        return done.code


# --- 1. export never deletes what is not ours ----------------------------------------------
@case("files")
def test_export_refuses_a_folder_with_other_files(run, tmp_path, capsys):
    target = tmp_path / "d"
    target.mkdir()
    (target / "thesis.txt").write_text("x")
    assert cli("export", run / "checkpoints" / "step-000004", target) == 2
    assert "not a spanbert_edu checkpoint" in capsys.readouterr().err
    assert (target / "thesis.txt").read_text() == "x"
    # with --overwrite our files go in and the thesis stays
    assert cli("export", run / "checkpoints" / "step-000004", target, "--overwrite") == 0
    assert (target / "thesis.txt").read_text() == "x" and (target / "model.safetensors").exists()


@table("files", "where", ["checkpoint", "run", "parent_of_run", "inside"])
def test_export_refuses_the_source_and_its_folders(run, where, capsys):
    ck = run / "checkpoints" / "step-000004"
    target = {"checkpoint": ck, "run": run, "parent_of_run": run.parent, "inside": ck / "x"}[where]
    before = sorted(p.name for p in ck.iterdir())
    assert cli("export", ck, target) == 2
    assert "choose a folder outside the run" in capsys.readouterr().err
    assert sorted(p.name for p in ck.iterdir()) == before and is_checkpoint(ck)


@case("files")
def test_export_replaces_an_earlier_export(run, tmp_path):
    ck = run / "checkpoints" / "step-000004"
    assert cli("export", ck, tmp_path / "e") == 0
    assert cli("export", ck, tmp_path / "e", "--half") == 0          # an export of ours: replaced
    meta = json.loads((tmp_path / "e" / "config.json").read_text())
    assert meta["metrics"]["eval_corpus"] == "default" and is_checkpoint(tmp_path / "e")
    assert not list(tmp_path.glob(".old-*")) and not list(tmp_path.glob(".tmp-*"))


@case("files")
def test_save_checkpoint_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("keep me")
    with pytest.raises(ValueError, match="not a spanbert_edu checkpoint"):
        save_checkpoint(tmp_path / "f", SpanBertForPreTraining(SpanBertConfig.preset("tiny")), overwrite=True)
    assert (tmp_path / "f").read_text() == "keep me"


# --- 2. a fresh run into an old run's folder -------------------------------------------------
@case("files")
def test_fresh_run_into_a_used_folder_refuses(run, capsys):
    with pytest.raises(ValueError, match=r"resume=True \(--resume\).*overwrite=True \(--overwrite\)"):
        pretrain(out_dir=str(run), **{**QUICK, "seed": 3})
    assert cli("pretrain", "--preset", "tiny", "--steps", "2", "--out", run, "--no-report") == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err and "Traceback" not in err


@case("files")
def test_overwrite_starts_afresh(tmp_path):
    pretrain(out_dir=str(tmp_path), **QUICK)
    (tmp_path / "notes.txt").write_text("mine")
    result = pretrain(out_dir=str(tmp_path), overwrite=True, **{**QUICK, "steps": 2, "save_every": 1, "seed": 3})
    assert result["checkpoint"].endswith("step-000002")
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-000001", "step-000002"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


# --- 3. resume checks every setting that changes what is trained -----------------------------
@table("api", "change", [{"learning_rate": 5e-3}, {"seed": 7}, {"scheme": "subword"},
                                    {"batch_size": 8}, {"warmup_steps": 2}, {"steps": 6}])
def test_resume_with_other_settings_refuses(run, change):
    key = next(iter(change))
    with pytest.raises(ValueError, match=rf"other settings.*{key}"):
        pretrain(out_dir=str(run), resume=True, **{**QUICK, **change})


@case("fixed")
def test_resume_may_change_how_it_is_watched(tmp_path):
    pretrain(out_dir=str(tmp_path), **{**QUICK, "steps": 2, "save_every": 2})
    with pytest.raises(ValueError):
        pretrain(out_dir=str(tmp_path), resume=True, **QUICK)     # steps 2 -> 4 changes the schedule
    result = pretrain(out_dir=str(tmp_path), resume=True, **{**QUICK, "steps": 2, "save_every": 1, "log_every": 2})
    assert result["checkpoint"].endswith("step-000002")


# --- 4/5. NaN weights are never saved; training arguments are validated ----------------------
@case("api")
def test_nan_weight_decay_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="weight_decay must be a finite number"):
        pretrain(out_dir=str(tmp_path), weight_decay=float("nan"), **QUICK)
    assert not (tmp_path / "checkpoints").exists()


@case("api")
def test_non_finite_weights_stop_without_a_checkpoint(tmp_path, monkeypatch):
    real_step = torch.optim.AdamW.step

    def poisoned(self, *a, **k):
        out = real_step(self, *a, **k)
        with torch.no_grad():
            self.param_groups[0]["params"][0].fill_(float("nan"))
        return out

    monkeypatch.setattr(torch.optim.AdamW, "step", poisoned)
    with pytest.raises(FloatingPointError, match="non-finite at step 1"):
        pretrain(out_dir=str(tmp_path), **QUICK)
    assert not list((tmp_path / "checkpoints").glob("step-*")) if (tmp_path / "checkpoints").exists() else True
    model = SpanBertForPreTraining(SpanBertConfig.preset("tiny"))
    with torch.no_grad():
        model.sbo.bias[0] = float("inf")
    with pytest.raises(FloatingPointError, match="non-finite"):
        save_checkpoint(tmp_path / "x", model)
    assert not (tmp_path / "x").exists()


BAD_TRAIN_ARGS = [
    ("max_grad_norm", -1.0, ValueError), ("max_grad_norm", 0.0, ValueError), ("max_grad_norm", float("nan"), ValueError),
    ("learning_rate", "1e-3", TypeError), ("learning_rate", 0.0, ValueError), ("learning_rate", float("inf"), ValueError),
    ("learning_rate", float("nan"), ValueError), ("weight_decay", -0.1, ValueError), ("weight_decay", float("inf"), ValueError),
    ("weight_decay", "0.01", TypeError), ("sbo_weight", float("nan"), ValueError), ("sbo_weight", -1, ValueError),
    ("steps", 0, ValueError), ("steps", 2.5, TypeError), ("batch_size", True, TypeError), ("seed", -1, ValueError),
    ("scheme", "spans", ValueError), ("preset", "huge", ValueError), ("precision", "fp16", ValueError),
    ("pair_objective", "both", ValueError), ("model_overrides", "x", TypeError),
]


@table("api", "name,value,error", BAD_TRAIN_ARGS)
def test_bad_training_arguments_name_the_argument(name, value, error):
    with pytest.raises(error, match=name):
        TrainConfig(**{name: value})


@table("api", "device", ["gpu7", "cuda:0" if not torch.cuda.is_available() else "nonsense"])
def test_bad_devices_are_refused_clearly(device, tmp_path):
    from spanbert_edu.devices import resolve_device

    with pytest.raises(ValueError, match="device"):
        resolve_device(device)


@case("fixed")
def test_good_edge_values_are_accepted():
    TrainConfig(max_grad_norm=math.inf, weight_decay=0.0, sbo_weight=0.0, learning_rate=1e-9)


# --- 8. resume on a finished run; 11. a torn log line --------------------------------------
@case("cli")
def test_resume_of_a_finished_run_says_so(run, capsys):
    argv = ["pretrain", "--preset", "tiny", "--batch-size", "4", "--max-length", "32", "--steps", "4",
            "--warmup", "1", "--save-every", "2", "--eval-every", "4", "--log-every", "1", "--lr", "1e-3",
            "--out", run, "--resume", "--no-report"]
    assert cli(*argv) == 0
    assert "already complete" in capsys.readouterr().out


@case("files")
def test_torn_last_log_line_is_tolerated(tmp_path):
    pretrain(out_dir=str(tmp_path), **QUICK)
    log = tmp_path / "metrics.jsonl"
    log.write_text(log.read_text() + '{"step": 5, "spl')            # killed mid-write
    pretrain(out_dir=str(tmp_path), resume=True, **QUICK)
    assert all(json.loads(line) for line in log.read_text().splitlines())


@case("cli")
def test_cli_errors_are_one_line_with_flag_names(tmp_path):
    done = subprocess.run([sys.executable, "-m", "spanbert_edu", "pretrain", "--lr", "-1", "--steps", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "--lr must be a number > 0" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# --- 9. the collator refuses bad data instead of passing it on -------------------------------
@pytest.fixture(scope="module")
def tok():
    from spanbert_edu import load_tokenizer

    return load_tokenizer()


def _ex(ids, **extra):
    return {"input_ids": ids, **extra}


BAD_EXAMPLES = [
    ([_ex([2, 9000, 3])], ValueError, r"input_ids'\]\[1\] = 9000 is not a token id"),
    ([_ex([2, -5, 3])], ValueError, "is not a token id"),
    ([_ex([])], ValueError, "is empty"),
    ([_ex(None)], TypeError, "must be a sequence of token ids"),
    ([_ex("hello")], TypeError, "must be a sequence of token ids"),
    ([_ex([2, 50, 3], attention_mask=[1, 1])], ValueError, "attention_mask.*length 2.*length 3"),
    ([_ex([2, 50, 3], token_type_ids=[0] * 5)], ValueError, "token_type_ids"),
    ([_ex([2, 50, 3], special_tokens_mask=[1])], ValueError, "special_tokens_mask"),
    ([], TypeError, "non-empty list"),
    (None, TypeError, "non-empty list"),
]


@table("api", "examples,error,match", BAD_EXAMPLES)
def test_collator_refuses_bad_examples(tok, examples, error, match):
    from spanbert_edu import SpanMaskingCollator

    with pytest.raises(error, match=match):
        SpanMaskingCollator(tok, seed=0)(examples)


@table("api", "counts", ["nan", "negative", "zero"])
def test_collator_refuses_bad_unigram_counts(tok, counts):
    import numpy as np

    from spanbert_edu import SpanMaskingCollator

    values = np.ones(len(tok))
    values[10] = {"nan": np.nan, "negative": -1.0, "zero": 1.0}[counts]
    if counts == "zero":
        values[:] = 0
    with pytest.raises(ValueError, match="unigram_counts"):
        SpanMaskingCollator(tok, unigram_counts=values)


@case("fixed")
def test_collator_accepts_numpy_integer_seeds(tok):
    import numpy as np

    from spanbert_edu import SpanMaskingCollator

    a = SpanMaskingCollator(tok, seed=np.int64(3))([list(range(5, 40))])
    b = SpanMaskingCollator(tok, seed=3)([list(range(5, 40))])
    assert torch.equal(a["input_ids"], b["input_ids"])


# --- 10. widgets show a message instead of crashing ------------------------------------------
@table("api", "sentence", ["", "Hello", "Two words"])
def test_sbo_widget_on_too_short_sentences(tok, sentence):
    from spanbert_edu.presentation.widgets import build_sbo_widget

    panel = build_sbo_widget(SpanBertForPreTraining(SpanBertConfig.preset("tiny")), tok, sentence)
    assert isinstance(panel.result, ValueError) and "at least 3 words" in str(panel.result)


@case("api")
def test_loss_curve_widget_on_a_missing_file(tmp_path):
    from spanbert_edu.presentation.widgets import build_loss_curve_widget

    panel = build_loss_curve_widget({"gone": tmp_path / "missing.jsonl"})
    assert isinstance(panel.result, OSError)


# --- 11. clear errors instead of raw crashes --------------------------------------------------
@case("api")
def test_non_utf8_corpus_file_is_named(tmp_path):
    from spanbert_edu.data import load_corpus

    (tmp_path / "good.txt").write_text("Some words here.")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.txt is not UTF-8"):
        load_corpus(str(tmp_path))


@table("api", "content", ['{"format": 1}', '{"format": 1, "model": null}', "[]", "not json"])
def test_config_without_a_model_is_refused(run, tmp_path, content):
    from spanbert_edu.checkpoint import load_model

    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / "config.json").write_text(content)
    with pytest.raises(ValueError, match="config"):
        load_model(folder)


@case("api")
def test_from_hf_bert_refuses_other_architectures_and_decoders():
    from transformers import BertConfig, BertModel, GPT2Config, GPT2Model

    from spanbert_edu.interop.hf import from_hf_bert

    small = dict(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    with pytest.raises(ValueError, match="model_type 'gpt2'"):
        from_hf_bert(GPT2Model(GPT2Config(vocab_size=100, n_embd=32, n_layer=1, n_head=2)))
    with pytest.raises(ValueError, match="decoder"):
        from_hf_bert(BertModel(BertConfig(**small, is_decoder=True)))


@table("api", "field,value,error", [("layer_norm_eps", float("nan"), ValueError),
                                               ("layer_norm_eps", "1e-12", TypeError),
                                               ("layer_norm_eps", 0.0, ValueError),
                                               ("initializer_range", float("inf"), ValueError),
                                               ("pad_token_id", 8192, ValueError)])
def test_model_config_values(field, value, error):
    with pytest.raises(error, match=field):
        SpanBertConfig(**{field: value})


@case("files")
def test_stale_temporary_folders_are_cleaned(tmp_path):
    pretrain(out_dir=str(tmp_path), **QUICK)
    stale = tmp_path / "checkpoints" / ".tmp-step-000006"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    foreign = tmp_path / "checkpoints" / ".tmp-mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not ours")
    pretrain(out_dir=str(tmp_path), resume=True, **QUICK)
    assert not stale.exists() and (foreign / "notes.txt").exists()


@case("files")
def test_full_disk_names_the_path_and_free_space(tmp_path, monkeypatch):
    import safetensors.torch

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    with pytest.raises(OSError, match=r"could not write .*ck.*MB free"):
        save_checkpoint(tmp_path / "ck", SpanBertForPreTraining(SpanBertConfig.preset("tiny")))
    assert not list(tmp_path.iterdir())                                   # no half checkpoint left


# --- 12. a flipped bit in the weights is caught ------------------------------------------------
@case("api")
def test_weights_checksum_is_verified(tmp_path):
    from spanbert_edu.checkpoint import load_model

    folder = save_checkpoint(tmp_path / "ck", SpanBertForPreTraining(SpanBertConfig.preset("tiny")))
    load_model(folder)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-7] ^= 0x01                                                     # one bit, inside a weight
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_model(folder)


@table("api", "source", ["", "  ", "default+", "+default"])
def test_a_blank_corpus_name_is_refused(source):
    # "" used to read every .txt file of the current folder
    from spanbert_edu.data import load_corpus

    with pytest.raises(ValueError, match="source must name a corpus"):
        load_corpus(source)


@case("api")
def test_figures_refuse_a_blank_folder():
    from spanbert_edu.presentation.figures import make_figures

    with pytest.raises(ValueError, match="out_dir must name a folder"):
        make_figures("")


BLANKED = "Return a [BLANK] of it."


@table("cli", "argv, message", [
    (["fill", "--top-k", "100000", BLANKED], "--top-k must be at most the vocabulary size (8192), got 100000"),
    (["demo", "--batch-size", "0", "--out", ""], "--batch-size must be"),
    (["ablate", "--seeds", "a,b"], "--seeds must be comma-separated integers, e.g. 0,1,2; got 'a,b'"),
    # fill: --tokens 10**20 was an OverflowError traceback; --candidates "" filled the blank instead
    (["fill", "--tokens", "99999999999999999999", BLANKED], "--tokens must be an integer <= 510, got 9999999"),
    (["fill", "--candidates", "", BLANKED], "every candidate must be a non-empty string, got ''"),
    (["fill", "--checkpoint", "", BLANKED], "path must name a file or folder, got ''"),
    (["fill", "--head", "all", BLANKED], "argument --head: invalid choice: 'all'"),
    # finetune: argparse's own errors were the 18-line usage first; "" was the current folder
    (["finetune", "--steps", "0"], "steps must be an integer >= 1, got 0"),
    (["finetune", "--steps", "x"], "argument --steps: invalid int value: 'x'"),
    (["finetune", "--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["finetune", "--out", ""], "--out must not be blank"),
    (["finetune", "--init", " "], "init must not be blank"),
    (["finetune", "--train-file", "t.json"], "--train-file and --eval-file go together"),
    (["finetune", "--precision", "fp16"], "argument --precision: invalid choice: 'fp16'"),
    (["finetune", "--bogus"], "unrecognized arguments: --bogus"),
    # toy: a folder at --out, or a file where its folder goes, failed only after training every arm
    (["toy", "--seeds", "0"], "seeds must be an integer >= 1, got 0"),
    (["toy", "--steps", "-1"], "steps must be an integer >= 0, got -1"),
    (["toy", "--out", "{tmp}/toy.txt"], "--out must name a .json file"),
    (["toy", "--out", "{tmp}/folder.json"], "is a folder; name a .json file"),
    (["toy", "--out", "{tmp}/file/toy.json"], "file is a file, not a folder"),
    # course: a release over nothing, grading a folder without submissions, a zero time limit
    (["course", "release", ""], "out must name a folder for the student release, got ''"),
    (["course", "grade", "{tmp}/nowhere"], "submissions must be a folder holding <student>/06_exercises.ipynb"),
    (["course", "grade", "{tmp}"], "no {tmp}/<student>/06_exercises.ipynb found"),
    (["course", "grade", "{tmp}", "--timeout", "0"], "timeout must be an integer >= 1, got 0"),
    (["course", "grade", "{tmp}", "--timeout", "x"], "argument --timeout: invalid int value: 'x'"),
    (["course", "grade", "{tmp}", "--out", ""], "out must name the CSV file to write, got ''"),
    (["course", "grade", "{tmp}", "--out", "{tmp}/folder.json"], "is a folder; name the CSV file to write"),
    (["course", "publish"], "argument step: invalid choice: 'publish'")])
def test_cli_refuses_in_one_line(argv, message, capsys, tmp_path):
    # these used to end in a traceback (fill) or a message naming neither the flag nor the value
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as stop:
        main([a.format(tmp=tmp_path) for a in argv])
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and message.format(tmp=tmp_path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""                                                  # refused before anything ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.json"]


@table("api", "make", ["train", "finetune"])
def test_a_seed_too_large_for_torch_is_refused_by_name(make):
    # 18446744073709551615 used to overflow at step 1 ("Overflow when unpacking long long")
    from spanbert_edu.qa.config import FinetuneConfig
    from spanbert_edu.train import TrainConfig

    config = TrainConfig if make == "train" else FinetuneConfig
    with pytest.raises(ValueError, match=r"seed must be an integer <= 4294967295, got 18446744073709551615"):
        config(seed=2**64 - 1)
    assert config(seed=2**32 - 1).seed == 2**32 - 1


@case("cli")
def test_cli_refuses_a_huge_seed_in_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["pretrain", "--seed", "18446744073709551615", "--steps", "1", "--out", "runs/never"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "seed must be an integer <= 4294967295" in err and "Traceback" not in err


@table("api", "model", [None, "bert", object()])
def test_to_hf_bert_refuses_what_is_not_our_model(model):
    from spanbert_edu.interop.hf import to_hf_bert

    with pytest.raises(TypeError, match="model must be a SpanBertForPreTraining or SpanBertForQuestionAnswering"):
        to_hf_bert(model)


@case("api")
def test_a_corpus_without_heldout_documents_reports_no_score(tmp_path, capsys):
    # a one-document corpus used to print "held-out MLM accuracy 0.000"
    from spanbert_edu.data import load_corpus

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "only.txt").write_text("The model reads a span of text. It predicts each masked word. " * 40)
    assert load_corpus(str(folder), "heldout") == [] and len(load_corpus(str(folder), "train")) == 1
    main(["pretrain", "--corpus", str(folder), "--steps", "2", "--batch-size", "2", "--max-length", "32",
          "--warmup", "1", "--eval-every", "1", "--out", str(tmp_path / "run"), "--no-report"])
    out = capsys.readouterr().out
    assert "has no held-out documents" in out and "no held-out split to score" in out and "0.000" not in out
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows and all(r["split"] == "train" for r in rows)


@case("api")
def test_from_hf_bert_says_what_it_cannot_represent(tmp_path):
    from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

    from spanbert_edu.interop.hf import from_hf_bert

    small = dict(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    with pytest.raises(ValueError, match="position_embedding_type='relative_key'"):
        from_hf_bert(BertForMaskedLM(BertConfig(**small, position_embedding_type="relative_key")))
    untied = BertForMaskedLM(BertConfig(**small, tie_word_embeddings=False))
    with torch.no_grad():
        untied.cls.predictions.decoder.weight.add_(1.0)      # untied: the decoder is its own matrix
    with pytest.raises(ValueError, match="not tied to its word embeddings"):
        from_hf_bert(untied)
    with pytest.warns(UserWarning, match=r"dropped 2 weights of BertForSequenceClassification: \['classifier.bias', 'classifier.weight'\]"):
        from_hf_bert(BertForSequenceClassification(BertConfig(**small)))
    with pytest.raises(ValueError, match="no such folder"):
        from_hf_bert(str(tmp_path / "missing" / "model"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # the MLM model itself: nothing dropped, no warning
        from_hf_bert(BertForMaskedLM(BertConfig(**small)))


@case("api")
def test_rank_spans_ranks_every_candidate_by_the_same_rule():
    from spanbert_edu import load_pretrained
    from spanbert_edu.presentation.fill import rank_spans

    model, tokenizer = load_pretrained()
    with pytest.raises(ValueError, match="tokenizes to no tokens"):
        rank_spans(model, tokenizer, "Return a shallow [BLANK] of the list.", ["copy", "\u200b"])
    long = " ".join(["copy"] * 16)                           # 16 tokens: more than the SBO head's 15 positions
    ranked = rank_spans(model, tokenizer, "Return a shallow [BLANK] of the list.", ["copy", long])
    assert all(r["score"] == r["mlm"] for r in ranked)         # used to add SBO to "copy" only
    both = rank_spans(model, tokenizer, "Return a shallow [BLANK] of the list.", ["copy", "elephant"])
    assert all(r["score"] == pytest.approx(r["mlm"] + r["sbo"]) for r in both)


@case("api")
def test_what_cannot_be_built_in_reasonable_memory_or_time_is_refused():
    # ToyWorld(n_people=5000) searched forever for names; max_len=10**9 was killed at 24 GB
    from spanbert_edu.experiments.toy import ToyWorld
    from spanbert_edu.spans import expected_span_length, sample_span_lengths

    with pytest.raises(ValueError, match=r"n_people \+ n_value_words must be at most 4892"):
        ToyWorld(n_people=5000)
    with pytest.raises(ValueError, match="n_people \\+ n_value_words"):
        ToyWorld(n_value_words=10**6)
    with pytest.raises(ValueError, match="more than the 10000000 a probability table may hold"):
        sample_span_lengths(5, max_len=10**9)
    assert expected_span_length(0.2, 10**9) == pytest.approx(5.0)   # the closed form needs no table
    assert len(ToyWorld(n_people=100, n_value_words=200).people) == 100


@table("api", "key, value, message", [
    ("attention_mask", [1, 1, 2, 1, 1], r"examples\[0\]\['attention_mask'\]\[2\] = 2; each must be 0 \(padding\) or 1"),
    ("token_type_ids", [0, 0, 1, 5, 1], r"examples\[0\]\['token_type_ids'\]\[3\] = 5; each must be 0 or 1"),
    ("token_type_ids", [0, -1, 0, 0, 0], r"\['token_type_ids'\]\[1\] = -1"),
    ("word_ids", [None, 0, 1, None], r"examples\[0\]\['word_ids'\] has length 4, but input_ids has length 5")])
def test_collator_refuses_masks_segments_and_word_ids_it_cannot_use(tokenizer, key, value, message):
    # these were accepted: an attention mask of 2, a segment past the table, word_ids silently ignored
    from spanbert_edu.collator import SpanMaskingCollator

    ids = tokenizer("Lists are mutable sequences.")["input_ids"][:5]
    with pytest.raises(ValueError, match=message):
        SpanMaskingCollator(tokenizer, seed=0)([{"input_ids": ids, key: value}])


@case("api")
def test_the_toy_world_stops_on_non_finite_training():
    from spanbert_edu.experiments.toy import ToyConfig, ToyWorld, train_arm

    with pytest.raises(FloatingPointError, match="non-finite|loss became"):
        train_arm(ToyWorld(), "mlm", 0, ToyConfig(steps=60, learning_rate=1e6, warmup_steps=0))


def _short_run(tmp_path) -> list:
    """Train 2 steps on a small folder corpus into tmp_path/run (one checkpoint); returns the argv."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for d in range(30):
        (folder / f"d{d}.txt").write_text(f"Document {d} reads a span of text. It predicts each masked word. " * 20)
    args = ["pretrain", "--corpus", str(folder), "--steps", "2", "--batch-size", "2", "--max-length", "32",
            "--warmup", "1", "--save-every", "2", "--out", str(tmp_path / "run"), "--no-report"]
    main(args)
    return args


@table("cli", "damage", ["truncated", "pickle payload", "empty"])
def test_resume_from_a_damaged_training_state_is_one_line(tmp_path, capsys, damage):
    # a truncated training_state.pt, or one holding a pickle payload, ended in a traceback
    args = _short_run(tmp_path)
    state = next((tmp_path / "run" / "checkpoints").glob("step-*")) / "training_state.pt"
    if damage == "truncated":
        state.write_bytes(state.read_bytes()[:100])
    elif damage == "empty":
        state.write_bytes(b"")
    else:
        torch.save({"optimizer": {"state": {}, "param_groups": []}, "payload": subprocess.Popen}, state)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main([*args, "--resume"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "training_state.pt cannot be resumed from" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@table("files", "row, message", [
    *((row, "is not a log row")
      for row in ["[1, 2]", "7", "NaN", '{"step": NaN, "split": "train"}', '{"split": "train"}']),
    ("[" * 100_000, "is not JSON")])  # nested past the recursion limit: a RecursionError traceback
def test_a_log_row_that_is_not_a_row_is_refused_before_the_log_is_touched(tmp_path, row, message):
    # a JSON list, a bare number or a NaN literal in metrics.jsonl ended in a traceback on resume
    from spanbert_edu.train.run_folder import truncate_log

    log = tmp_path / "metrics.jsonl"
    text = '{"step": 1, "split": "train"}\n' + row + '\n{"step": 2, "split": "train"}\n'
    log.write_text(text)
    with pytest.raises(ValueError, match=rf"metrics.jsonl line 2 {message}"):
        truncate_log(log, 1)
    assert log.read_text() == text                                    # untouched
    log.write_bytes(b'{"step": 1}\n\xff\xfe\n')
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        truncate_log(log, 1)


@table("cli", "edit, message", [
    (lambda meta: [meta], "holds a JSON list, not a checkpoint config"),
    (lambda meta: {**meta, "train": [1, 2]}, "'train' must be an object of run settings"),
    (lambda meta: {k: v for k, v in meta.items() if k != "step"}, "'step' must be an integer >= 0, got None"),
    (lambda meta: {**meta, "step": -4}, "'step' must be an integer >= 0, got -4"),
    # these resumed from step 1 on step 2's weights, or ended in an AttributeError or RecursionError
    (lambda meta: {**meta, "step": 1}, "'step' is 1, but the checkpoint is step-000002"),
    (lambda meta: {**meta, "sha256": 5}, '"sha256" must be an object of file -> digest, got 5'),
    (lambda meta: "[" * 100_000, "is not a readable JSON config (RecursionError")])
def test_resume_from_a_bad_config_is_one_line_and_touches_nothing(tmp_path, capsys, edit, message):
    args = _short_run(tmp_path)
    config = next((tmp_path / "run" / "checkpoints").glob("step-*")) / "config.json"
    edited = edit(json.loads(config.read_text()))
    config.write_text(edited if isinstance(edited, str) else json.dumps(edited))
    log = (tmp_path / "run" / "metrics.jsonl").read_text()
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main([*args, "--resume"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message.format(tmp=tmp_path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "run" / "metrics.jsonl").read_text() == log


@table("cli", "content", [b"", b"PK\x03\x04garbage"])
def test_fill_with_an_empty_or_truncated_checkpoint_file_is_one_line(tmp_path, capsys, content):
    bad = tmp_path / "model.pt"
    bad.write_bytes(content)
    with pytest.raises(SystemExit) as stop:
        main(["fill", "Return a [BLANK] of it.", "--checkpoint", str(bad)])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "is not a readable torch weights file" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@table("api", "field, value", [("num_attention_heads", 1), ("layer_norm_eps", 1.0)])
def test_an_edited_model_config_is_caught_though_the_weights_checksum_holds(tmp_path, field, value):
    # num_attention_heads 4 -> 8 or layer_norm_eps 1e-12 -> 1.0 used to load without a word
    from spanbert_edu.checkpoint import load_model, save_checkpoint
    from spanbert_edu.heads import SpanBertForPreTraining
    from spanbert_edu.model import SpanBertConfig

    folder = save_checkpoint(tmp_path / "ck", SpanBertForPreTraining(SpanBertConfig.preset("tiny")))
    meta = json.loads((folder / "config.json").read_text())
    meta["model"][field] = value
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="do not match the SHA-256 recorded for them"):
        load_model(folder)


@case("fixed")
def test_the_bundled_config_carries_its_model_digest():
    from spanbert_edu.checkpoint import BUNDLED, load_model, model_settings_digest, read_config

    meta = read_config(BUNDLED)
    assert meta["sha256"]["model"] == model_settings_digest(meta["model"])
    load_model(BUNDLED)


# --- the entry points added since issue 9: download, the authors' file, toy, fill, finetune ---
RELEASE = "spanbert-large-cased-with-heads"


def _download_rows():
    from spanbert_edu.interop.download import authors_tokenizer, cached, fetch
    from spanbert_edu.interop.pretrained import load_pretrained

    return [  # (id, call(tmp), error, match); nothing may be written into tmp
        ("unknown release", lambda tmp: fetch("spanbert-base-with-heads", folder=tmp), ValueError,
         "name must be one of"),
        ("cached: unknown release", lambda tmp: cached(5), ValueError, "name must be one of"),
        ("folder a number", lambda tmp: fetch(RELEASE, folder=5), TypeError, "folder must be a path"),
        ("blank folder", lambda tmp: fetch(RELEASE, folder=""), ValueError, "folder must name a file or folder"),
        ("folder a file", lambda tmp: fetch(RELEASE, folder=tmp / "file"), ValueError, "is a file, not a folder"),
        ("blank url", lambda tmp: fetch(RELEASE, url="", folder=tmp), ValueError, "url must not be blank"),
        ("url a number", lambda tmp: fetch(RELEASE, url=5, folder=tmp), TypeError, "url must be a string or None"),
        ("zero timeout", lambda tmp: fetch(RELEASE, folder=tmp, timeout=0), ValueError,
         "timeout must be a finite number > 0, got 0"),
        ("NaN timeout", lambda tmp: fetch(RELEASE, folder=tmp, timeout=math.nan), ValueError,
         "timeout must be a finite"),
        ("timeout as text", lambda tmp: fetch(RELEASE, folder=tmp, timeout="30"), TypeError,
         "timeout must be a real number"),
        ("tokenizer: no such archive", lambda tmp: authors_tokenizer(tmp / "gone.tar.gz"), ValueError,
         "does not exist"),
        ("tokenizer: not a path", lambda tmp: authors_tokenizer(None), TypeError, "archive must be a path"),
        ("tokenizer: a .tar.gz cut inside its header", lambda tmp: authors_tokenizer(tmp / "cut.tar.gz"), ValueError,
         "cut.tar.gz is a truncated or corrupt archive"),  # was an EOFError
        ("load_pretrained: a number", lambda tmp: load_pretrained(5), TypeError, "directory must be a path"),
        ("load_pretrained: no such folder", lambda tmp: load_pretrained(tmp / "gone"), ValueError,
         "is not a checkpoint folder")]


@table("api", "call, error, match", [r[1:] for r in _download_rows()], ids=[r[0] for r in _download_rows()])
def test_download_arguments_are_refused_before_anything_is_fetched(tmp_path, call, error, match):
    # url="" fetched the default URL, folder="" wrote into the current folder, timeout=0 was a
    # DownloadError ("Operation now in progress"), a file as folder a FileExistsError
    (tmp_path / "file").write_text("x")
    (tmp_path / "cut.tar.gz").write_bytes(b"\x1f\x8b")
    with pytest.raises(error, match=match):
        call(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.tar.gz", "file"]


def _archive_of(tmp, name: str, data: bytes):
    """tmp/x.tar.gz holding the one member rel/<name>."""
    import io
    import tarfile

    with tarfile.open(tmp / "x.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo(f"rel/{name}")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return tmp / "x.tar.gz"


def _release_with_config(tmp, text: str):
    """The authors' miniature (tests/test_authors.py) as a folder whose config.json is ``text``."""
    from test_authors import _release, authors_state

    folder, _ = _release(tmp, authors_state())
    (folder / "config.json").write_text(text)
    return folder


def _authors_rows():
    from spanbert_edu.interop.authors import from_authors_checkpoint as read

    return [  # (id, call(tmp), error, match); tmp holds an empty folder "empty" and a file "file"
        ("None", lambda tmp: read(None), TypeError, "path must be a path"),
        ("a number", lambda tmp: read(5), TypeError, "path must be a path"),
        ("blank", lambda tmp: read(""), ValueError, "path must name a file or folder"),   # searched the current folder
        ("missing", lambda tmp: read(tmp / "gone.tar.gz"), ValueError, "does not exist"),
        ("an empty folder", lambda tmp: read(tmp / "empty"), ValueError, "no weights file"),
        ("strict_ties as text", lambda tmp: read(tmp / "file", strict_ties="no"), TypeError,
         "strict_ties must be True or False"),
        # these were an EOFError, a message naming a deleted temporary folder, a RecursionError
        ("a .tar.gz cut inside its header", lambda tmp: read(tmp / "cut.tar.gz"), ValueError,
         "cut.tar.gz is a truncated or corrupt archive"),
        ("an empty member", lambda tmp: read(_archive_of(tmp, "model.pt", b"")), ValueError,
         r"x\.tar\.gz:rel/model\.pt is not a readable torch weights file"),
        ("a config nested past the recursion limit", lambda tmp: read(_release_with_config(tmp, "[" * 100_000)),
         ValueError, r"config\.json is not a JSON config \(RecursionError")]


@table("api", "call, error, match", [r[1:] for r in _authors_rows()], ids=[r[0] for r in _authors_rows()])
def test_the_authors_reader_refuses_what_is_not_a_release(tmp_path, call, error, match):
    # a damaged release (truncated, random bytes, non-JSON config, ...): tests/test_authors.py
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "cut.tar.gz").write_bytes(b"\x1f\x8b")
    with pytest.raises(error, match=match):
        call(tmp_path)


def _toy_rows():
    from spanbert_edu.experiments.toy import ToyConfig, ToyWorld, run_arm, run_toy, score_arm, train_arm

    quiet = dict(echo=lambda *a: None)
    return [  # (id, call, error, match)
        ("one person", lambda: ToyWorld(n_people=1), ValueError, "n_people"),
        ("more sentences than people", lambda: ToyWorld(n_people=2, sentences_per_example=3), ValueError,
         "sentences_per_example"),
        ("values longer than the SBO targets", lambda: ToyWorld(max_value_words=16), ValueError,
         "max_value_words must be <= 15"),
        ("unknown arm", lambda: run_arm(ToyWorld(), "sbo", 0, ToyConfig(steps=1)), ValueError, "arm must be one of"),
        ("negative steps", lambda: ToyConfig(steps=-1), ValueError, "steps"),
        # these were read only after training: NaN fitted the probe silently, -1 failed at the end
        ("NaN learning rate", lambda: ToyConfig(learning_rate=math.nan), ValueError,
         "learning_rate must be a finite number > 0"),
        ("negative probe_lr", lambda: ToyConfig(probe_lr=-1.0), ValueError, "probe_lr must be a finite number > 0"),
        ("NaN probe_l2", lambda: ToyConfig(probe_l2=math.nan), ValueError, "probe_l2 must be a finite number >= 0"),
        ("probe_l2 as text", lambda: ToyConfig(probe_l2="1e-4"), TypeError, "probe_l2 must be a real number"),
        ("negative warmup", lambda: ToyConfig(warmup_steps=-1), ValueError, "warmup_steps must be an integer >= 0"),
        ("unknown preset", lambda: ToyConfig(preset="huge"), ValueError, "preset must be one of"),
        # these were AttributeErrors, or failed after the arms before them had trained
        ("cfg a dict", lambda: run_toy(1, {"steps": 1}, **quiet), TypeError, "cfg must be a ToyConfig, got dict"),
        ("world a string", lambda: run_toy(1, ToyConfig(steps=1), world="toy", **quiet), TypeError,
         "world must be a ToyWorld"),
        ("an unknown arm after a known one", lambda: run_toy(1, ToyConfig(steps=1), arms=("mlm", "sbo"), **quiet),
         ValueError, "arms must be a non-empty list"),
        ("arms one string", lambda: run_toy(1, ToyConfig(steps=1), arms="mlm", **quiet), ValueError, "arms must be"),
        ("no arms", lambda: run_toy(1, ToyConfig(steps=1), arms=[], **quiet), ValueError, "arms must be"),
        ("train_arm without a world", lambda: train_arm(None, "mlm", 0), TypeError, "world must be a ToyWorld"),
        ("a seed too large for torch", lambda: train_arm(ToyWorld(), "mlm", 2**64), ValueError,
         "seed must be an integer <= 4294967295"),
        ("score_arm, a seed as text", lambda: score_arm(None, ToyWorld(), "mlm", "0"), TypeError,
         "seed must be an integer")]


@table("api", "call, error, match", [r[1:] for r in _toy_rows()], ids=[r[0] for r in _toy_rows()])
def test_the_toy_world_refuses_bad_settings(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.fixture(scope="module")
def bundled():
    from spanbert_edu import load_pretrained

    return load_pretrained()


def _fill_rows():
    from spanbert_edu.presentation.fill import fill_span, rank_spans

    text = "a [BLANK] b"
    return [  # (id, call(model, tokenizer), error, match)
        ("no blank", lambda m, t: fill_span(m, t, "no blank here", 1), ValueError, "exactly once"),
        ("two blanks", lambda m, t: fill_span(m, t, "[BLANK] and [BLANK]", 1), ValueError, "exactly once"),
        ("zero tokens", lambda m, t: fill_span(m, t, text, 0), ValueError, "n_tokens"),
        ("unknown head", lambda m, t: fill_span(m, t, text, 1, head="all"), ValueError, "head"),
        ("top_k 0", lambda m, t: fill_span(m, t, text, 1, top_k=0), ValueError, "top_k"),
        ("no candidates", lambda m, t: rank_spans(m, t, text, []), ValueError, "candidate"),
        ("candidates one string", lambda m, t: rank_spans(m, t, text, "copy"), ValueError, "candidate"),
        ("an empty candidate", lambda m, t: rank_spans(m, t, text, ["copy", ""]), ValueError, "candidate"),
        # these were an AttributeError, a TypeError naming nothing, an OverflowError, a dict's keys
        ("model None", lambda m, t: fill_span(None, t, text, 1), TypeError, "model must be a SpanBertForPreTraining"),
        ("tokenizer None", lambda m, t: fill_span(m, None, text, 1), TypeError, "tokenizer must be a tokenizer"),
        ("10**30 tokens", lambda m, t: fill_span(m, t, text, 10**30), ValueError, "n_tokens must be an integer <= 510"),
        ("rank: model a string", lambda m, t: rank_spans("bert", t, text, ["copy"]), TypeError, "model must be"),
        ("rank: candidates a number", lambda m, t: rank_spans(m, t, text, 5), TypeError,
         "candidates must be a list of strings, got 5"),
        ("rank: candidates a dict", lambda m, t: rank_spans(m, t, text, {"copy": 1}), TypeError,
         "candidates must be a list"),
        ("rank: a candidate longer than the position table", lambda m, t: rank_spans(m, t, text, ["copy " * 600]),
         ValueError, "longer than the position table")]


@table("api", "call, error, match", [r[1:] for r in _fill_rows()], ids=[r[0] for r in _fill_rows()])
def test_fill_and_rank_refuse_bad_arguments(bundled, call, error, match):
    with pytest.raises(error, match=match):
        call(*bundled)


def _finetune_rows():
    from spanbert_edu.qa import FinetuneConfig, finetune

    files = {"train_file": "t.json", "eval_file": "d.json"}
    config = lambda **kw: FinetuneConfig(**{**files, **kw})
    return [  # (id, call, error, match)
        ("doc_stride too long", lambda: config(doc_stride=200), ValueError, "doc_stride"),
        ("zero labels", lambda: config(labels=0), ValueError, "labels"),
        ("zero learning rate", lambda: config(learning_rate=0.0), ValueError, "learning_rate"),
        ("fp16", lambda: config(precision="fp16"), ValueError, "precision"),
        ("a train file alone", lambda: config(eval_file=None), ValueError, "--train-file and --eval-file go together"),
        # init=5 was an AttributeError at the start of training, "" the current folder as out_dir or
        # init, train_file=5 "go together"
        ("init a number", lambda: config(init=5), TypeError, "init must be a string, got 5"),
        ("blank init", lambda: config(init=""), ValueError, "init must not be blank"),
        ("blank out_dir", lambda: config(out_dir=""), ValueError, "out_dir must not be blank"),
        ("device None", lambda: config(device=None), TypeError, "device must be a string"),
        ("task a number", lambda: FinetuneConfig(task=5), TypeError, "task must be a string or None"),
        ("train_file a number", lambda: config(train_file=5), TypeError, "train_file must be a string or None"),
        ("config a dict", lambda: finetune({"steps": 1}), TypeError,
         "config must be a FinetuneConfig or None, got dict"),
        ("an unknown setting", lambda: finetune(bogus=1), TypeError, "bogus")]


@table("api", "call, error, match", [r[1:] for r in _finetune_rows()], ids=[r[0] for r in _finetune_rows()])
def test_finetune_refuses_bad_settings_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    """A 2-step fine-tuning run made by the command line; returns (its folder, the argv)."""
    from test_finetune import FACTS, _squad

    root = tmp_path_factory.mktemp("finetuned")
    train, dev = _squad(root / "train.json", FACTS[:6]), _squad(root / "dev.json", FACTS[6:])
    args = ["finetune", "--init", "scratch", "--preset", "tiny", "--train-file", train, "--eval-file", dev,
            "--steps", "2", "--batch-size", "4", "--max-length", "48", "--doc-stride", "8",
            "--max-question-length", "16", "--warmup", "1", "--save-every", "2", "--out", str(root / "run")]
    main(args)
    return root / "run", args


@table("cli", "edit, message", [
    (lambda meta: {**meta, "step": 1}, "'step' is 1, but the checkpoint is step-000002"),
    (lambda meta: {**meta, "train": {**meta["train"], "seed": 7}}, "was trained with other settings")])
def test_finetune_resume_from_a_bad_config_is_one_line_and_touches_nothing(finetuned, tmp_path, capsys, edit, message):
    import shutil

    run, args = finetuned
    shutil.copytree(run, tmp_path / "run")
    args = [str(tmp_path / "run") if a == str(run) else a for a in args]
    config = tmp_path / "run" / "checkpoints" / "step-000002" / "config.json"
    config.write_text(json.dumps(edit(json.loads(config.read_text()))))
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main([*args, "--resume"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message.format(tmp=tmp_path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()} == before


# --- 1. what the wheel and the sdist must carry ----------------------------------------------
SOURCE = Path(__file__).resolve().parent.parent / "spanbert_edu"
ASSETS = sorted(p.relative_to(SOURCE).as_posix() for p in (SOURCE / "assets").rglob("*") if p.is_file())


@table("wheel", "asset", ASSETS)
def test_every_asset_is_in_the_wheel_and_the_installed_package(asset):
    # the wheel shipped no bundled checkpoint once: pyproject's package-data decides what it holds
    import tomllib

    import spanbert_edu

    patterns = tomllib.loads((SOURCE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {p.relative_to(SOURCE).as_posix() for pattern in patterns["spanbert_edu"] for p in SOURCE.glob(pattern)}
    assert asset in shipped, f"no package-data pattern in pyproject.toml matches {asset}"
    assert (Path(spanbert_edu.__file__).parent / asset).is_file()   # from the sdist: the installed copy
