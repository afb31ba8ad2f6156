"""fill_span, rank_spans, the fill CLI, and export-hf (a folder AutoModelForMaskedLM loads)."""
import pytest
import torch

from spanbert_edu import SpanBertConfig, SpanBertForPreTraining, load_pretrained, load_tokenizer
from spanbert_edu.cli import main
from spanbert_edu.presentation.fill import fill_span, rank_spans
from spanbert_edu.interop.hf import export_hf, load_sbo_head


@pytest.fixture(scope="module")
def bundled():
    return load_pretrained()


def test_fill_span_structure_and_heads(bundled):
    model, tok = bundled
    rows = fill_span(model, tok, "Return a shallow [BLANK] of the list.", n_tokens=1, top_k=3)
    assert len(rows) == 1 and [len(rows[0][h]) for h in ("mlm", "sbo", "both")] == [3, 3, 3]
    for head in ("mlm", "sbo", "both"):
        probs = [p for _, p in rows[0][head]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    only = fill_span(model, tok, "Return a shallow [BLANK] of the list.", n_tokens=2, head="mlm")
    assert len(only) == 2 and only[0]["sbo"] is None and only[0]["both"] is None


def test_the_bundled_model_fills_a_known_blank(bundled):
    """A fixed example: the trained model's first guess, and its ranking of candidate fillers."""
    model, tok = bundled
    rows = fill_span(model, tok, "Return a shallow [BLANK] of the list.", n_tokens=1)
    assert rows[0]["both"][0][0] == "copy"
    ranked = rank_spans(model, tok, "Return a shallow [BLANK] of the list.", ["elephant", "copy", "green"])
    assert ranked[0]["candidate"] == "copy"
    assert all(r["sbo"] is not None for r in ranked)


def test_blank_at_the_edge_has_no_sbo_score(bundled):
    model, tok = bundled
    rows = fill_span(model, tok, "[BLANK] is a function.", n_tokens=1)
    assert rows[0]["sbo"] is None and rows[0]["mlm"] is not None
    with pytest.raises(ValueError, match="SBO head needs a real token"):
        fill_span(model, tok, "[BLANK] is a function.", n_tokens=1, head="sbo")


def test_cli_fill(capsys):
    main(["fill", "Return a shallow [BLANK] of the list.", "--tokens", "1"])
    out = capsys.readouterr().out
    assert "MLM:" in out and "SBO:" in out and "BOTH:" in out
    main(["fill", "Return a shallow [BLANK] of the list.", "--candidates", "copy,elephant"])
    assert "'copy'" in capsys.readouterr().out


def test_export_hf_loads_with_auto_model_and_gives_the_same_logits(tmp_path):
    from transformers import AutoModelForMaskedLM

    torch.manual_seed(0)
    tok = load_tokenizer()
    model = SpanBertForPreTraining(SpanBertConfig.preset("tiny", vocab_size=len(tok))).eval()
    export_hf(model, tmp_path / "hf", tokenizer=tok)
    hf = AutoModelForMaskedLM.from_pretrained(tmp_path / "hf").eval()
    ids = torch.tensor([tok("Lists are mutable sequences of items.")["input_ids"]])
    with torch.no_grad():
        hidden, _ = model.bert(ids)
        ours = model.cls.predictions(hidden[0], model.word_embeddings)
        out = hf(input_ids=ids, output_hidden_states=True)
        assert (out.logits[0] - ours).abs().max() < 1e-5
        head = load_sbo_head(tmp_path / "hf")
        bounds, labels = torch.tensor([[[1, 5]]]), torch.full((1, 1, 15), -100)
        labels[0, 0, :3] = ids[0, 2:5]
        emb = hf.bert.embeddings.word_embeddings.weight
        theirs_sbo, _ = head(out.hidden_states[-1], bounds, labels, emb)
        ours_sbo, _ = model.sbo(hidden, bounds, labels, model.word_embeddings)
        assert (theirs_sbo - ours_sbo).abs().max() < 1e-5
    with pytest.raises(ValueError, match="not an empty folder"):
        export_hf(model, tmp_path / "hf")
