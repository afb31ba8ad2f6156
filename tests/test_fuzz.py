"""Hypothesis fuzzing of the public API: any input either gives a valid result or raises
ValueError/TypeError naming what is wrong -- never another exception. The command line, given
any arguments, exits 0 or 2 with one line and no traceback; a refused resume touches no file."""
import contextlib
import dataclasses
import io
import json
import math
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spanbert_edu import SpanMaskingCollator, from_authors_checkpoint, load_tokenizer
from spanbert_edu.model import SpanBertConfig
from spanbert_edu.qa import FinetuneConfig
from spanbert_edu.spans import expected_span_length, sample_span_lengths, span_length_pmf
from spanbert_edu.train import TrainConfig

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(10**20, 10**30),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4),
                     st.lists(st.integers(-3, 3), max_size=3), st.sampled_from([np.int64(3), np.float32(0.2)]))
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(FUZZ, max_examples=40)  # each example loads a file or runs the command line


def _allowed(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        assert str(err), "an error must say what is wrong"
        return err


@FUZZ
@given(p=ANYTHING, max_len=ANYTHING, min_len=ANYTHING, mode=st.one_of(ANYTHING, st.sampled_from(["truncate", "clip"])))
def test_span_functions(p, max_len, min_len, mode):
    mean = _allowed(expected_span_length, p, max_len, min_len, mode=mode)
    if isinstance(mean, float):
        assert not math.isnan(mean) and min_len <= mean <= max_len + 1e-9 * max_len
    if isinstance(max_len, int) and isinstance(min_len, int) and max_len - min_len < 10_000:
        pmf = _allowed(span_length_pmf, p, max_len, min_len, mode=mode)
        if isinstance(pmf, np.ndarray):
            assert abs(pmf.sum() - 1) < 1e-9 and (pmf >= 0).all()


@FUZZ
@given(size=ANYTHING, seed=ANYTHING)
def test_sampler_arguments(size, seed):
    if isinstance(size, int) and not isinstance(size, bool) and size > 10_000:
        return
    out = _allowed(sample_span_lengths, size, seed=seed)
    if isinstance(out, np.ndarray):
        assert ((out >= 1) & (out <= 10)).all()


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


COLLATOR_ARGS = ["scheme", "mlm_probability", "geometric_p", "max_span_length", "replacement", "seed",
                 "min_span_length", "span_length_mode", "mask_replace_prob", "random_replace_prob",
                 "random_token_dist", "max_span_targets", "pad_to_multiple_of", "return_tensors"]


@FUZZ
@given(name=st.sampled_from(COLLATOR_ARGS), value=ANYTHING,
       ids=st.lists(st.integers(-2, 9000), min_size=0, max_size=12))
def test_collator_arguments_and_inputs(tok, name, value, ids):
    collator = _allowed(SpanMaskingCollator, tok, **{name: value})
    if isinstance(collator, SpanMaskingCollator):
        batch = _allowed(collator, [{"input_ids": ids}])
        if isinstance(batch, dict):
            assert batch["input_ids"].shape == batch["labels"].shape


MODEL_FIELDS = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "type_vocab_size",
                "hidden_dropout_prob", "layer_norm_eps", "initializer_range", "pad_token_id", "sbo_weight",
                "pair_objective", "max_span_targets"]
TRAIN_FIELDS = ["preset", "max_length", "batch_size", "steps", "learning_rate", "warmup_steps", "weight_decay",
                "max_grad_norm", "scheme", "sbo_weight", "seed", "precision", "pair_objective", "model_overrides"]


@FUZZ
@given(name=st.sampled_from(MODEL_FIELDS), value=ANYTHING)
def test_model_config(name, value):
    _allowed(SpanBertConfig, **{name: value})


@FUZZ
@given(name=st.sampled_from(TRAIN_FIELDS), value=ANYTHING)
def test_train_config(name, value):
    cfg = _allowed(TrainConfig, **{name: value})
    if isinstance(cfg, TrainConfig) and name in ("learning_rate", "weight_decay", "max_grad_norm", "sbo_weight"):
        assert not math.isnan(getattr(cfg, name))


# --- the entry points added since issue 9: finetune, the authors' file, the CLI, resume --------
FINETUNE_FIELDS = [f.name for f in dataclasses.fields(FinetuneConfig)]
WORDS = st.sampled_from(["", " ", "cloze", "hf:x", "bundled", "scratch", "cpu", "cuda:9", "a.json", "tiny", "fp32"])


@FUZZ
@given(values=st.dictionaries(st.sampled_from(FINETUNE_FIELDS), st.one_of(ANYTHING, WORDS), min_size=1, max_size=3))
def test_finetune_config(values):
    cfg = _allowed(FinetuneConfig, **values)
    if isinstance(cfg, FinetuneConfig):
        assert all(isinstance(getattr(cfg, name), str) and getattr(cfg, name).strip()
                   for name in ("init", "device", "out_dir"))


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A valid miniature of the authors' .tar.gz (tests/test_authors.py's layout)."""
    from test_authors import _release, authors_state

    return _release(tmp_path_factory.mktemp("release"), authors_state())[1]


def _read_damaged(data: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"spanbert_large_with_head{suffix}"
        path.write_bytes(data)
        try:
            model = from_authors_checkpoint(path)
        except ValueError as err:  # ValueError only: a damaged file is bad input, not a wrong type
            event("refused")
            assert str(path) in str(err), "the error must name the file"
            return err
        event("loaded")
        return model


@FEW
@given(cut=st.one_of(st.none(), st.integers(0, 2**31)), suffix=st.sampled_from([".tar.gz", ".pt"]),
       flips=st.lists(st.tuples(st.integers(0, 2**31), st.integers(1, 255)), max_size=3))
def test_authors_reader_on_a_cut_or_flipped_archive(release, cut, flips, suffix):
    # None: the whole archive, which loads
    whole = release.read_bytes()
    data = bytearray(whole if cut is None else whole[:cut % (len(whole) + 1)])
    for where, bits in flips:
        if data:
            data[where % len(data)] ^= bits
    _read_damaged(bytes(data), suffix)


@FEW
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".tar.gz", ".tgz", ".pt", ".bin"]))
def test_authors_reader_on_random_bytes(data, suffix):
    assert isinstance(_read_damaged(data, suffix), ValueError)


class _Stop(Exception):
    """Raised where fine-tuning would load its model: parsing and the settings are all that ran."""


def _cli(argv) -> tuple[int, str]:
    """(exit code, stderr) of the command line, run in-process; a traceback propagates."""
    from spanbert_edu.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            main(argv)
            code = 0
        except SystemExit as stop:
            code = stop.code
        except _Stop:
            code = 0
    return code, err.getvalue()


def _one_line_or_success(code, err):
    event(f"exit {code}")  # --hypothesis-show-statistics: how many examples got past the checks
    assert code in (0, 2) and "Traceback" not in err, (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("spanbert-edu"), err


def _flags(config_class):
    from spanbert_edu.cli import _FLAGS

    return [_FLAGS.get(f.name, "--" + f.name.replace("_", "-")) for f in dataclasses.fields(config_class)]


VALUES = st.one_of(st.sampled_from(["0", "1", "-1", "2.5", "nan", "inf", "1e400", "99999999999999999999"]), WORDS,
                   st.text(max_size=5))


@FEW
@given(pairs=st.lists(st.tuples(st.sampled_from(_flags(FinetuneConfig) + ["--resume", "--overwrite"]), VALUES),
                      max_size=5))
def test_finetune_command_line(pairs):
    def stop(cfg):
        raise _Stop

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("spanbert_edu.qa.loop.initial_model", stop)  # before any model, file or training
        _one_line_or_success(*_cli(["finetune", *(x for pair in pairs for x in pair)]))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Files the fill command is pointed at: none, empty, random bytes, an empty folder."""
    root = tmp_path_factory.mktemp("checkpoints")
    (root / "empty.pt").write_bytes(b"")
    (root / "junk.tar.gz").write_bytes(bytes(range(256)) * 8)
    (root / "folder").mkdir()
    return root


FILL_OPTIONS = st.one_of(
    st.tuples(st.just("--tokens"), st.sampled_from(["0", "1", "2", "16", "511", "-1", "x", "99999999999999999999"])),
    st.tuples(st.just("--top-k"), st.sampled_from(["0", "1", "5", "8193", "-2", "x"])),
    st.tuples(st.just("--head"), st.sampled_from(["mlm", "sbo", "both", "all", ""])),
    st.tuples(st.just("--candidates"), st.one_of(st.text(max_size=12),
                                                 st.sampled_from([",", "copy,dog", "copy " * 600]))),
    st.tuples(st.just("--checkpoint"), st.sampled_from([f"{{ck}}/{name}" for name in
                                                        ("missing", "empty.pt", "junk.tar.gz", "folder")])))


@FEW
@given(before=st.text(max_size=12), blanks=st.integers(0, 2), after=st.text(max_size=12),
       options=st.lists(FILL_OPTIONS, max_size=3))
def test_fill_command_line(checkpoints, bundled_once, before, blanks, after, options):
    import spanbert_edu.cli as cli

    real = cli._load_any
    argv = ["fill", before + "[BLANK]" * blanks + after, *(x.format(ck=checkpoints) for pair in options for x in pair)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_load_any", lambda path: bundled_once if path is None else real(path))
        _one_line_or_success(*_cli(argv))


@pytest.fixture(scope="module")
def bundled_once():
    from spanbert_edu import load_pretrained

    return load_pretrained()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished 2-step pretraining run (one checkpoint, step-000002) and the argv that made it."""
    root = tmp_path_factory.mktemp("resume")
    corpus = root / "corpus"
    corpus.mkdir()
    for d in range(30):
        (corpus / f"d{d}.txt").write_text(f"Document {d} reads a span of text. It predicts each masked word. " * 20)
    args = ["pretrain", "--corpus", str(corpus), "--steps", "2", "--batch-size", "2", "--max-length", "32",
            "--warmup", "1", "--save-every", "2", "--eval-batches", "1", "--out", str(root / "run"), "--no-report"]
    assert _cli(args)[0] == 0
    return root / "run", args


def _resume_with(finished_run, name: str, content: bytes):
    """Resume a copy of the run with ``name`` (a file of it) holding ``content``: exit 0, or one
    line and exit 2 with every file as it was."""
    run, args = finished_run
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "run"
        shutil.copytree(run, work)
        (work / name).write_bytes(content)
        before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
        code, err = _cli([str(work) if a == str(run) else a for a in args] + ["--resume"])
        _one_line_or_success(code, err)
        if code == 2:
            assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == before, err


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 10**20) | st.floats() | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=6)
CONFIG_KEYS = ["format", "step", "model", "train", "sha256", "head", "metrics"]
INNER_KEYS = [f.name for f in dataclasses.fields(TrainConfig)] + MODEL_FIELDS + ["model", "model.safetensors"]
CONFIG_EDITS = st.one_of(st.tuples(st.just("set"), st.sampled_from(CONFIG_KEYS), JSON),
                         st.tuples(st.just("inner"), st.sampled_from(["model", "train", "sha256"]),
                                   st.sampled_from(INNER_KEYS), JSON),
                         st.tuples(st.just("drop"), st.sampled_from(CONFIG_KEYS)))


def _edit(meta, edit):
    kind, key, *rest = edit
    if kind == "drop":
        meta.pop(key, None)
    elif kind == "set":
        meta[key] = rest[0]
    elif isinstance(meta.get(key), dict):
        meta[key][rest[0]] = rest[1]
    return meta


@FEW
@given(edits=st.lists(CONFIG_EDITS, min_size=1, max_size=2), raw=st.one_of(st.none(), st.binary(max_size=40), JSON))
def test_resume_with_a_random_config(finished_run, edits, raw):
    config = "checkpoints/step-000002/config.json"
    if raw is None:
        meta = json.loads((finished_run[0] / config).read_text())
        for edit in edits:
            meta = _edit(meta, edit)
        raw = json.dumps(meta)
    elif not isinstance(raw, bytes):
        raw = json.dumps(raw)  # any JSON value in place of the whole config
    _resume_with(finished_run, config, raw if isinstance(raw, bytes) else raw.encode())


LOG_LINES = st.one_of(st.integers(0, 5).map(lambda k: json.dumps({"step": k, "split": "train"})), JSON.map(json.dumps),
                      st.sampled_from(["", "NaN", '{"step": 3, "spl', "[" * 100_000, '{"step": 1e400}',
                                       '{"step": true}']),
                      st.text(max_size=10))  # valid rows, torn ones, nested past the recursion limit, ...


@FEW
@given(lines=st.lists(LOG_LINES, max_size=5), raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_resume_with_a_random_log(finished_run, lines, raw):
    _resume_with(finished_run, "metrics.jsonl", raw if raw is not None else "\n".join(lines).encode())
