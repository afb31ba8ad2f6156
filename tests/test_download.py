"""load_pretrained("spanbert-large-cased-with-heads") without the internet: a local HTTP server
(with Range support) serves a miniature archive in the authors' layout (tests/test_authors.py)."""
import http.server
import socket
import tarfile
import threading

import pytest
import torch

from spanbert_edu import load_pretrained
from spanbert_edu._checks import sha256_file
from spanbert_edu.interop.download import authors_tokenizer, fetch
from test_authors import V, authors_state

NAME = "spanbert-large-cased-with-heads"


def _archive(folder, with_vocab=True):
    inner = folder / "spanbert_large_with_head"
    inner.mkdir()
    torch.save(authors_state(), inner / "model.pt")
    if with_vocab:  # a cased WordPiece vocabulary of the model's size
        words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(V - 5)]
        (inner / "vocab.txt").write_text("\n".join(words) + "\n")
    archive = folder / "served.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(inner, arcname="spanbert_large_with_head")
    return archive.read_bytes()


class Server:
    """Serves ``data`` at /file, honouring ``Range: bytes=N-``; ``fail_after`` cuts the body short."""

    def __init__(self, data):
        self.data, self.fail_after, self.ranges, self.mode = data, None, [], "good"
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                start = 0
                if "Range" in self.headers:
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                    outer.ranges.append(start)
                if outer.mode == "ignore-range":
                    start = 0
                if start >= len(outer.data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(outer.data)}")
                    self.end_headers()
                    return
                body = outer.data[start:]
                partial = start or outer.mode == "wrong-start"
                self.send_response(206 if partial else 200)
                if partial:  # "wrong-start" claims a range from 0 whatever was asked
                    first = 0 if outer.mode == "wrong-start" else start
                    self.send_header("Content-Range", f"bytes {first}-{len(outer.data) - 1}/{len(outer.data)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.fail_after is not None:
                    body = body[:outer.fail_after]   # the connection drops mid-way
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/file"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def served(tmp_path):
    server = Server(_archive(tmp_path))
    yield server
    server.close()


def test_download_records_the_checksum_and_loads(served, tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    path = fetch(NAME, url=served.url, progress=False)
    assert path.parent == cache / "spanbert_edu" and path.read_bytes() == served.data
    assert path.with_name(path.name + ".sha256").read_text().strip() == sha256_file(path)
    # load_pretrained finds the cached file (no URL needed again) and converts it
    import spanbert_edu.interop.download as download

    monkeypatch.setitem(download.RELEASES, NAME, ("http://127.0.0.1:9/never-asked", path.name))
    lines = []
    model, tok = load_pretrained(NAME, echo=lines.append)
    assert model.config.vocab_size == V == len(tok)
    assert "the archive's own vocab.txt" in lines[0]


def test_an_interrupted_download_resumes(served, tmp_path):
    served.fail_after = 1000
    with pytest.raises(ConnectionError, match="bytes already fetched are kept"):
        fetch(NAME, url=served.url, folder=tmp_path / "c", progress=False)
    part = tmp_path / "c" / "spanbert_large_with_head.tar.gz.part"
    assert part.stat().st_size == 1000
    served.fail_after = None
    path = fetch(NAME, url=served.url, folder=tmp_path / "c", progress=False)
    assert served.ranges == [1000]                   # asked only for the rest
    assert path.read_bytes() == served.data and not part.exists()


@pytest.mark.parametrize("mode,leftover", [
    ("ignore-range", 1000),   # a 200 with the whole file: the .part is rewritten from zero
    ("good", "longer"),       # a .part longer than the file: 416, sizes disagree, start again
    ("good", "complete"),     # a complete .part: 416 with the same size, nothing to fetch
])
def test_resume_never_splices_or_overshoots(served, tmp_path, mode, leftover):
    folder = tmp_path / "c"
    folder.mkdir()
    part = folder / "spanbert_large_with_head.tar.gz.part"
    size = {"longer": len(served.data) + 500, "complete": len(served.data)}.get(leftover, leftover)
    part.write_bytes((served.data + b"junk" * 200)[:size])
    served.mode = mode
    path = fetch(NAME, url=served.url, folder=folder, progress=False)
    assert path.read_bytes() == served.data


def test_a_range_answer_from_the_wrong_offset_is_refused(served, tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "spanbert_large_with_head.tar.gz.part").write_bytes(served.data[:1000])
    served.mode = "wrong-start"
    with pytest.raises(ConnectionError, match="answered the range request from byte 1,000"):
        fetch(NAME, url=served.url, folder=folder, progress=False)
    assert not (folder / "spanbert_large_with_head.tar.gz").exists()


def test_a_changed_file_is_caught_by_its_recorded_checksum(served, tmp_path):
    path = fetch(NAME, url=served.url, folder=tmp_path, progress=False)
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    with pytest.raises(ValueError, match="recorded .* when it was first downloaded"):
        fetch(NAME, url=served.url, folder=tmp_path, progress=False)


def test_offline_says_where_to_put_the_file(tmp_path):
    with socket.socket() as s:                       # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionError) as err:
        fetch(NAME, url=f"http://127.0.0.1:{port}/x", folder=tmp_path, progress=False, timeout=5)
    message = str(err.value)
    assert str(tmp_path / "spanbert_large_with_head.tar.gz") in message
    assert "from_authors_checkpoint" in message and "with a browser" in message


def test_an_archive_without_vocab_offline_says_so(tmp_path, monkeypatch):
    # a bad name, folder, url or timeout: the table in tests/test_bad_input.py
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.tar.gz").write_bytes(_archive(tmp_path / "a", with_vocab=False))
    import spanbert_edu.data as data

    def offline(name, *a, **k):
        raise OSError("no connection")

    monkeypatch.setattr(data, "load_tokenizer", offline)
    with pytest.raises(ConnectionError, match="ships no vocab.txt"):
        authors_tokenizer(tmp_path / "a" / "x.tar.gz")
