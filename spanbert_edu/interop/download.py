"""Downloading the authors' released SpanBERT-large with both heads, once, safely.

``load_pretrained("spanbert-large-cased-with-heads")`` (in :mod:`.pretrained`) calls
:func:`fetch` and then :func:`.authors.from_authors_checkpoint`. ``fetch``:

* downloads into the Hugging Face cache folder (``$HF_HUB_CACHE``, by default
  ``~/.cache/huggingface/hub``), under ``spanbert_edu/``, with a progress bar;
* writes to ``<file>.part`` and, when interrupted, resumes from where it stopped (an HTTP Range
  request) instead of starting again; the finished file appears in one rename;
* records the archive's SHA-256 beside it (``<file>.sha256``) on first download and checks it on
  every later load, so a corrupted or swapped file is caught before it is unpickled;
* offline, raises ``ConnectionError`` saying where to put a file downloaded by hand.

The manual route needs none of this: download the archive with a browser, then
``from_authors_checkpoint(path)``.
"""
from __future__ import annotations

import http.client
import os
import re
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from .._checks import check_finite, check_path, check_text, sha256_file
from .authors import ARCHIVE_ERRORS, damaged_archive, is_archive

RELEASES = {  # name -> (url, file name); the URL is the one the authors gave in their issue #44
    "spanbert-large-cased-with-heads": (
        "https://dl.fbaipublicfiles.com/fairseq/models/spanbert_large_with_head.tar.gz",
        "spanbert_large_with_head.tar.gz"),
}
CHUNK = 1 << 20


def cache_dir() -> Path:
    """``<Hugging Face hub cache>/spanbert_edu``."""
    hub = os.environ.get("HF_HUB_CACHE")
    if hub is None:
        home = os.environ.get("HF_HOME", os.path.join(os.path.expanduser("~"), ".cache", "huggingface"))
        hub = os.path.join(home, "hub")
    return Path(hub) / "spanbert_edu"


def cached(name: str) -> Path | None:
    """The release's file if it is already in the cache folder, else None (never downloads)."""
    if name not in RELEASES:
        raise ValueError(f"name must be one of {sorted(RELEASES)}, got {name!r}")
    path = cache_dir() / RELEASES[name][1]
    return path if path.exists() else None


class DownloadError(ConnectionError):
    """The connection failed or the server's reply did not add up (cut short, wrong range)."""


_NETWORK_ERRORS = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)


def fetch(name: str, *, url: str | None = None, folder=None, progress: bool = True, timeout: float = 30.0) -> Path:
    """The local path of release ``name``, downloaded (or resumed) if needed and checked against
    its recorded SHA-256. ``url`` and ``folder`` override the release's URL and the cache folder.

    The SHA-256 is recorded when the file is first complete, so it protects every LATER load; the
    first download itself is checked by its length (Content-Length / Content-Range)."""
    if name not in RELEASES:
        raise ValueError(f"name must be one of {sorted(RELEASES)}, got {name!r}")
    default_url, filename = RELEASES[name]
    # url="" fetched the release's own URL and folder="" wrote into the current folder, silently
    url = check_text("url", url, optional=True) or default_url
    folder = check_path("folder", folder) if folder is not None else cache_dir()
    check_finite("timeout", timeout)  # 0 is non-blocking: "Operation now in progress"
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"folder={str(folder)!r} is a file, not a folder")
    target, part, record = folder / filename, folder / f"{filename}.part", folder / f"{filename}.sha256"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            _download(url, part, progress, timeout)
        except _NETWORK_ERRORS as err:
            reason = f"HTTP {err.code}" if isinstance(err, urllib.error.HTTPError) else getattr(err, "reason", err)
            raise DownloadError(
                f"could not download {name} from {url} ({reason}). Without a connection, download "
                f"{filename} with a browser and put it at {target} (then load_pretrained({name!r}) "
                f"finds it), or load it from anywhere with from_authors_checkpoint(path)."
                + (f" The {part.stat().st_size:,} bytes already fetched are kept in {part} and the "
                   "next try resumes from there." if part.exists() else "")) from None
        os.replace(part, target)
    digest = sha256_file(target)
    if not record.exists():
        record.write_text(digest + "\n")  # first sight of this file: remember it
    elif record.read_text().strip() != digest:
        raise ValueError(f"{target} has SHA-256 {digest}, but {record} recorded "
                         f"{record.read_text().strip()} when it was first downloaded: the file changed "
                         f"or is corrupt. Delete both files to download it again.")
    return target


def _total_from_content_range(value: str | None) -> int | None:
    """N from ``bytes a-b/N`` or ``bytes */N``; None when absent or unknown (``*``)."""
    m = re.fullmatch(r"bytes\s+(?:\d+-\d+|\*)/(\d+)", (value or "").strip())
    return int(m.group(1)) if m else None


def _download(url: str, part: Path, progress: bool, timeout: float) -> None:
    """Append the rest of ``url`` to ``part`` (from its current size), with a progress bar.
    Whatever does not add up (a range that starts elsewhere, a .part longer than the file)
    starts the download again from zero rather than splice two pieces."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left at that offset: complete only if sizes agree
            if _total_from_content_range(err.headers.get("Content-Range")) == have:
                return
            part.unlink()
            return _download(url, part, progress, timeout)
        raise
    with response:
        if have and response.status == 206:
            start = re.match(r"bytes\s+(\d+)-", response.headers.get("Content-Range", ""))
            if start is None or int(start.group(1)) != have:
                raise DownloadError(f"the server answered the range request from byte {have:,} with "
                                    f"{response.headers.get('Content-Range')!r}")
        elif have:  # the server ignored the Range: it is sending the whole file, start again
            have = 0
        size = response.headers.get("Content-Length")
        total = have + int(size) if size is not None else None
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=part.name[:-5])
        with open(part, "ab" if have else "wb") as f:
            for block in iter(lambda: response.read(CHUNK), b""):
                f.write(block)  # a full disk raises OSError here, reported as itself
                if bar is not None:
                    bar.update(len(block))
        if bar is not None:
            bar.close()
    if total is not None and part.stat().st_size != total:
        raise DownloadError(f"the download stopped at {part.stat().st_size:,} of {total:,} bytes")


def authors_tokenizer(archive: Path):
    """BERT's cased WordPiece for the authors' model, and where it came from: the archive's own
    ``vocab.txt`` when it ships one, else ``bert-large-cased`` from the Hugging Face hub."""
    from ..data import load_tokenizer

    archive = check_path("archive", archive)
    if not archive.exists():  # it went on to fetch bert-large-cased's tokenizer for it
        raise ValueError(f"archive={str(archive)!r} does not exist")
    vocab = None
    if archive.is_dir():
        vocab = next(iter(sorted(archive.rglob("vocab.txt"))), None)
    elif is_archive(archive):
        try:
            with tarfile.open(archive) as tar:
                member = next((m for m in tar.getmembers() if m.isfile() and Path(m.name).name == "vocab.txt"), None)
                data = tar.extractfile(member).read() if member is not None else None
        except ARCHIVE_ERRORS as err:  # cut short or corrupt: EOFError, ReadError, BadGzipFile, ...
            raise damaged_archive(archive, err) from None
        if data is not None:  # the one member, read into a file of ours: no paths from the archive
            with tempfile.TemporaryDirectory() as tmp:
                own = Path(tmp) / "vocab.txt"
                own.write_bytes(data)
                return load_tokenizer(own), "the archive's own vocab.txt"
    if vocab is not None:
        return load_tokenizer(vocab), f"the folder's own vocab.txt ({vocab})"
    try:
        return load_tokenizer("bert-large-cased"), "bert-large-cased from the Hugging Face hub"
    except OSError as err:
        raise ConnectionError(f"{archive} ships no vocab.txt, and bert-large-cased's tokenizer could not be "
                              f"loaded from the Hugging Face hub ({err}); when online once, it is cached") from None
