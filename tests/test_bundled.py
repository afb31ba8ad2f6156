"""The bundled `small` checkpoint: loads, fits its vocabulary, reproduces its held-out metrics."""
import sys

import pytest
import torch

from spanbert_edu import SpanMaskingCollator, load_pretrained
from spanbert_edu.checkpoint import BUNDLED, read_config
from spanbert_edu.evaluate import evaluate
from spanbert_edu.data.examples import prepare_examples


def test_bundle_is_small_and_complete():
    files = {p.name: p.stat().st_size for p in BUNDLED.iterdir()}
    assert {"model.safetensors", "config.json", "vocab.txt", "metrics.jsonl"} <= set(files)
    assert files["model.safetensors"] <= 15_000_000                   # at most 15 MB (fp16)
    meta = read_config(BUNDLED)
    assert meta["train"]["preset"] == "small" and meta["step"] == meta["train"]["steps"]


def test_bundle_reproduces_its_heldout_metrics():
    """Same examples, same masks (fixed seed): the exported accuracies and losses come back.
    Tolerance 0.002 on accuracies and 0.01 on losses on the Python version that exported them
    (CPU float differences only); 0.03 on another version, whose bundled corpus differs slightly."""
    model, tokenizer = load_pretrained()
    meta = read_config(BUNDLED)
    stored = meta["metrics"]
    examples = prepare_examples(tokenizer, stored["eval_corpus"], "heldout", max_length=meta["train"]["max_length"])
    metrics = evaluate(model, examples, SpanMaskingCollator(tokenizer, scheme="span"), batch_size=32,
                       seed=stored["eval_seed"])
    same_python = stored["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    tol = 0.002 if same_python else 0.03
    for key in ("mlm_acc", "sbo_acc"):
        assert metrics[key] == pytest.approx(stored[key], abs=tol), key
    for key in ("mlm_loss", "sbo_loss"):
        assert metrics[key] == pytest.approx(stored[key], abs=5 * tol), key
    assert set(stored["by_position"]) == {"mlm", "sbo"}
    for key in ("mlm_top5", "sbo_top5"):
        assert metrics[key] == pytest.approx(stored[key], abs=tol), key
    # past BERT's early plateau (the previous bundled model: 0.143 / 0.101), far above chance (1/8192)
    assert stored["mlm_acc"] > 0.2 and stored["sbo_acc"] > 0.15 and stored["mlm_top5"] > 0.35


def test_plateau_check_tells_an_untrained_model_from_the_bundled_one():
    from spanbert_edu import SpanBertConfig, SpanBertForPreTraining
    from spanbert_edu.evaluate import plateau_check

    model, tokenizer = load_pretrained()
    trained = plateau_check(model, tokenizer, max_batches=2)
    torch.manual_seed(0)
    untrained = plateau_check(SpanBertForPreTraining(SpanBertConfig.preset("tiny")), tokenizer, max_batches=2)
    # the same masks (one seed), so the same targets and the same frequency baseline
    assert (trained["targets"], trained["baseline_accuracy"]) == (untrained["targets"], untrained["baseline_accuracy"])
    assert trained["baseline_token"] in {".", ",", "the"}
    assert trained["accuracy"] > 3 * trained["baseline_accuracy"] > 3 * untrained["accuracy"]
    shares = [share for _, share in trained["top_answers"]]
    assert shares == sorted(shares, reverse=True) and abs(sum(shares) - trained["top_share"]) < 1e-9
