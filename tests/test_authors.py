"""from_authors_checkpoint on a miniature built here in the authors' exact key layout (fairseq's
``decoder.`` prefix, ``gamma``/``beta`` LayerNorms, tied decoders), compared with a direct
re-statement of their forward pass (pair_bert.py). The real 1.3 GB file cannot be downloaded here."""
import argparse
import io
import json
import math
import os
import tarfile

import pytest
import torch

from spanbert_edu import from_authors_checkpoint

V, H, LAYERS, FF, POS, TYPES, SBO_POS, SBO_T = 50, 64, 2, 96, 40, 2, 12, 7   # heads = H / 64 = 1


def authors_state(seed=0, H=H):
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.2
    s = {"bert.embeddings.word_embeddings.weight": r(V, H), "bert.embeddings.position_embeddings.weight": r(POS, H),
         "bert.embeddings.token_type_embeddings.weight": r(TYPES, H),
         "bert.embeddings.LayerNorm.gamma": 1 + r(H), "bert.embeddings.LayerNorm.beta": r(H)}
    for i in range(LAYERS):
        p = f"bert.encoder.layer.{i}."
        for name in ("query", "key", "value"):
            s[p + f"attention.self.{name}.weight"], s[p + f"attention.self.{name}.bias"] = r(H, H), r(H)
        s[p + "attention.output.dense.weight"], s[p + "attention.output.dense.bias"] = r(H, H), r(H)
        s[p + "attention.output.LayerNorm.gamma"], s[p + "attention.output.LayerNorm.beta"] = 1 + r(H), r(H)
        s[p + "intermediate.dense.weight"], s[p + "intermediate.dense.bias"] = r(FF, H), r(FF)
        s[p + "output.dense.weight"], s[p + "output.dense.bias"] = r(H, FF), r(H)
        s[p + "output.LayerNorm.gamma"], s[p + "output.LayerNorm.beta"] = 1 + r(H), r(H)
    s["bert.pooler.dense.weight"], s["bert.pooler.dense.bias"] = r(H, H), r(H)
    s["cls.predictions.transform.dense.weight"], s["cls.predictions.transform.dense.bias"] = r(H, H), r(H)
    s["cls.predictions.transform.LayerNorm.gamma"], s["cls.predictions.transform.LayerNorm.beta"] = 1 + r(H), r(H)
    s["cls.predictions.decoder.weight"] = s["bert.embeddings.word_embeddings.weight"]
    s["cls.predictions.bias"] = r(V)
    q = "cls.pair_target_predictions."
    s[q + "position_embeddings.weight"] = r(SBO_T, SBO_POS)
    s[q + "mlp_layer_norm.linear1.weight"], s[q + "mlp_layer_norm.linear1.bias"] = r(H, 2 * H + SBO_POS), r(H)
    s[q + "mlp_layer_norm.layer_norm1.gamma"], s[q + "mlp_layer_norm.layer_norm1.beta"] = 1 + r(H), r(H)
    s[q + "mlp_layer_norm.linear2.weight"], s[q + "mlp_layer_norm.linear2.bias"] = r(H, H), r(H)
    s[q + "mlp_layer_norm.layer_norm2.gamma"], s[q + "mlp_layer_norm.layer_norm2.beta"] = 1 + r(H), r(H)
    s[q + "decoder.weight"] = s["bert.embeddings.word_embeddings.weight"]
    s[q + "bias"] = r(V)
    return {"decoder." + k: v for k, v in s.items()}


# ---- the authors' forward pass, re-stated from pair_bert.py (their names, their formulas) ----
def ln(x, w, b):  # BertLayerNorm: TF style, eps inside the square root
    u = x.mean(-1, keepdim=True)
    v = (x - u).pow(2).mean(-1, keepdim=True)
    return w * (x - u) / torch.sqrt(v + 1e-12) + b


def gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def authors_forward(sd, input_ids, pairs, heads=None):
    """Their forward pass; sizes from the weights, ``heads`` (default hidden / 64) given."""
    s = {k[len("decoder."):]: v for k, v in sd.items()}
    H = s["bert.embeddings.word_embeddings.weight"].shape[1]
    SBO_T, SBO_POS = s["cls.pair_target_predictions.position_embeddings.weight"].shape
    heads = heads or H // 64
    lin = lambda x, p: x @ s[p + ".weight"].t() + s[p + ".bias"]
    B, L = input_ids.shape
    x = (s["bert.embeddings.word_embeddings.weight"][input_ids] + s["bert.embeddings.position_embeddings.weight"][:L]
         + s["bert.embeddings.token_type_embeddings.weight"][torch.zeros_like(input_ids)])
    x = ln(x, s["bert.embeddings.LayerNorm.gamma"], s["bert.embeddings.LayerNorm.beta"])
    for i in range(LAYERS):
        p = f"bert.encoder.layer.{i}."
        split = lambda t: t.view(B, L, heads, H // heads).permute(0, 2, 1, 3)
        q, k, v = (split(lin(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(H // heads), -1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, L, H)
        a = ln(lin(ctx, p + "attention.output.dense") + x, s[p + "attention.output.LayerNorm.gamma"],
               s[p + "attention.output.LayerNorm.beta"])
        x = ln(lin(gelu(lin(a, p + "intermediate.dense")), p + "output.dense") + a,
               s[p + "output.LayerNorm.gamma"], s[p + "output.LayerNorm.beta"])
    t = ln(gelu(lin(x, "cls.predictions.transform.dense")), s["cls.predictions.transform.LayerNorm.gamma"],
           s["cls.predictions.transform.LayerNorm.beta"])
    mlm = t @ s["cls.predictions.decoder.weight"].t() + s["cls.predictions.bias"]            # (B, L, V)
    q = "cls.pair_target_predictions."
    left = x[torch.arange(B)[:, None], pairs[..., 0]]                                        # (B, P, H)
    right = x[torch.arange(B)[:, None], pairs[..., 1]]
    P = pairs.shape[1]
    pos = s[q + "position_embeddings.weight"]                                                # (T, 200)
    h = torch.cat([left[:, :, None].expand(B, P, SBO_T, H), right[:, :, None].expand(B, P, SBO_T, H),
                   pos[None, None].expand(B, P, SBO_T, SBO_POS)], -1)
    h = ln(gelu(lin(h, q + "mlp_layer_norm.linear1")), s[q + "mlp_layer_norm.layer_norm1.gamma"], s[q + "mlp_layer_norm.layer_norm1.beta"])
    h = ln(gelu(lin(h, q + "mlp_layer_norm.linear2")), s[q + "mlp_layer_norm.layer_norm2.gamma"], s[q + "mlp_layer_norm.layer_norm2.beta"])
    sbo = h @ s[q + "decoder.weight"].t() + s[q + "bias"]                                    # (B, P, T, V)
    return x, mlm, sbo


@pytest.fixture
def inputs():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, V, (2, 16), generator=g)
    pairs = torch.tensor([[[2, 6], [8, 12]], [[1, 9], [10, 14]]])
    return ids, pairs


def _ours(model, ids, pairs):
    hidden, _ = model.bert(ids)
    labels = torch.full_like(ids, -100)
    labels[:, 3] = ids[:, 3]
    span_labels = torch.zeros(pairs.shape[0], pairs.shape[1], SBO_T, dtype=torch.long)      # every offset
    out = model(ids, labels=labels, span_boundaries=pairs, span_labels=span_labels)
    mlm_all = model.cls.predictions(hidden, model.word_embeddings)
    return hidden, mlm_all, out.sbo_logits.view(pairs.shape[0], pairs.shape[1], SBO_T, V)


def _release(tmp_path, payload, hidden=H, heads=1):
    """The authors' folder (weights + BERT-style config.json) and a .tar.gz of it."""
    folder = tmp_path / "spanbert_large_with_head"
    folder.mkdir()
    torch.save(payload, folder / "model.pt")
    (folder / "config.json").write_text(json.dumps({"hidden_size": hidden, "num_hidden_layers": LAYERS,
                                                    "num_attention_heads": heads, "intermediate_size": FF,
                                                    "max_position_embeddings": POS, "type_vocab_size": TYPES,
                                                    "vocab_size": V, "hidden_act": "gelu"}))
    archive = tmp_path / "spanbert_large_with_head.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="spanbert_large_with_head")
    return folder, archive


@pytest.mark.parametrize("packaging", ["file", "folder", "tar.gz", "fairseq"])
def test_converted_model_matches_the_authors_forward(tmp_path, inputs, packaging):
    sd = authors_state()
    payload = {"args": argparse.Namespace(arch="bert_pair"), "model": sd} if packaging == "fairseq" else sd
    folder, archive = _release(tmp_path, payload)
    source = {"folder": folder, "tar.gz": archive}.get(packaging, folder / "model.pt")
    model = from_authors_checkpoint(source)
    assert model.config.max_span_targets == SBO_T and model.config.sbo_position_size == SBO_POS
    assert model.config.type_vocab_size == 2 and model.config.num_attention_heads == 1
    ids, pairs = inputs
    with torch.no_grad():
        x, mlm, sbo = authors_forward(sd, ids, pairs)
        hidden, mlm_ours, sbo_ours = _ours(model, ids, pairs)
    assert (hidden - x).abs().max() < 1e-5
    assert (mlm_ours - mlm).abs().max() < 1e-5
    assert (sbo_ours - sbo).abs().max() < 1e-5


def test_an_archive_reads_its_own_config_json(tmp_path, inputs):
    """2 heads at hidden size 32, where the shapes alone would say 1 (32 / 64, at least 1): the
    folder, the .tar.gz and the weights file (its heads from the config.json beside it, the one
    way a file takes them) all load 2 heads, agree with each other, and with the authors' forward
    pass run directly on the original weights with 2 heads. A 1-head reading is far off."""
    sd = authors_state(seed=3, H=32)
    folder, archive = _release(tmp_path, sd, hidden=32, heads=2)
    lone = tmp_path / "lone" / "model.pt"                     # the weights with no config anywhere
    lone.parent.mkdir()
    lone.write_bytes((folder / "model.pt").read_bytes())
    models = {"folder": from_authors_checkpoint(folder), "tar.gz": from_authors_checkpoint(archive),
              "file": from_authors_checkpoint(folder / "model.pt"), "lone": from_authors_checkpoint(lone)}
    assert {k: m.config.num_attention_heads for k, m in models.items()} == {
        "folder": 2, "tar.gz": 2, "file": 2, "lone": 1}
    ids, pairs = inputs
    with torch.no_grad():
        out = {k: _ours(m, ids, pairs) for k, m in models.items()}
        direct = authors_forward(sd, ids, pairs, heads=2)
    for name in ("tar.gz", "file"):
        for got, folder_out in zip(out[name], out["folder"]):
            assert (got - folder_out).abs().max() < 1e-6, name
    for name in ("folder", "tar.gz"):
        for got, want in zip(out[name], direct):
            assert (got - want).abs().max() < 1e-5, name
    assert max(float((got - want).abs().max()) for got, want in zip(out["lone"], direct)) > 1e-4


def test_config_inferred_from_shapes_without_config_json(tmp_path):
    torch.save(authors_state(), tmp_path / "model.pt")
    model = from_authors_checkpoint(tmp_path / "model.pt")
    c = model.config
    assert (c.vocab_size, c.hidden_size, c.num_hidden_layers, c.intermediate_size, c.max_position_embeddings) == (V, H, LAYERS, FF, POS)
    assert c.num_attention_heads == H // 64


def test_a_pickle_payload_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    torch.save({"model": authors_state(), "evil": Evil()}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="weights_only"):
        from_authors_checkpoint(tmp_path / "model.pt")
    assert not (tmp_path / "pwned").exists()


def test_unsafe_archive_members_are_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ValueError, match="unsafe member path"):
        from_authors_checkpoint(archive)
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_missing_keys_wrong_shapes_and_untied_decoders(tmp_path):
    sd = authors_state()
    del sd["decoder.cls.pair_target_predictions.position_embeddings.weight"]
    torch.save(sd, tmp_path / "a.pt")
    with pytest.raises(ValueError, match="not in the authors' layout"):
        from_authors_checkpoint(tmp_path / "a.pt")
    sd = authors_state()
    sd["decoder.cls.predictions.transform.dense.weight"] = torch.zeros(H, H + 1)
    torch.save(sd, tmp_path / "b.pt")
    with pytest.raises(ValueError, match="shape mismatches"):
        from_authors_checkpoint(tmp_path / "b.pt")
    sd = authors_state()
    sd["decoder.cls.predictions.decoder.weight"] = sd["decoder.cls.predictions.decoder.weight"] + 1
    torch.save(sd, tmp_path / "c.pt")
    with pytest.raises(ValueError, match="differs from the word embeddings"):
        from_authors_checkpoint(tmp_path / "c.pt")
    assert from_authors_checkpoint(tmp_path / "c.pt", strict_ties=False) is not None


def _damaged(tmp_path, kind):
    """A damaged release of each kind a hostile sweep tried (they raised bare errors before)."""
    if kind == "truncated tar.gz":
        _, archive = _release(tmp_path, authors_state())
        archive.write_bytes(archive.read_bytes()[:2000])
        return archive
    if kind == "non-JSON config":
        folder, _ = _release(tmp_path, authors_state())
        (folder / "config.json").write_text("{not json")
        return folder
    if kind == "model.pt is a folder":
        (tmp_path / "rel" / "model.pt").mkdir(parents=True)
        return tmp_path / "rel" / "model.pt"
    if kind == "missing a weight":
        sd = authors_state()
        del sd["decoder.bert.encoder.layer.0.intermediate.dense.weight"]
        torch.save(sd, tmp_path / "m.pt")
        return tmp_path / "m.pt"
    if kind == "unknown weight":
        torch.save({**authors_state(), "decoder.extra.head.weight": torch.zeros(3)}, tmp_path / "u.pt")
        return tmp_path / "u.pt"
    path = tmp_path / "w.pt"
    path.write_bytes(b"" if kind == "empty file" else os.urandom(4096))
    return path


@pytest.mark.parametrize("kind, message", [
    ("truncated tar.gz", "truncated or corrupt archive"), ("non-JSON config", "is not a JSON config"),
    ("model.pt is a folder", "not a readable torch weights file|no weights file"),
    ("missing a weight", "not in the authors' layout: missing"), ("unknown weight", "unexpected weight 'extra.head.weight'"),
    ("random bytes", "not a readable torch weights file|needs code to be unpickled"),
    ("empty file", "not a readable torch weights file")])
def test_a_damaged_release_is_a_value_error_naming_it(tmp_path, kind, message):
    # EOFError, KeyError, JSONDecodeError, IsADirectoryError, UnicodeDecodeError or RuntimeError before;
    # an unknown key was dropped without a word
    with pytest.raises(ValueError, match=message):
        from_authors_checkpoint(_damaged(tmp_path, kind))
