"""Argument checks shared by the public functions.

Every message names the argument, the value it got and what is allowed, so a student who
passes ``geometric_p=1.5`` reads exactly what to change. It also holds the file checksum
(:func:`sha256_file`) that both checkpoints and downloads verify.
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
from pathlib import Path


# Seeds are mixed with step numbers into torch's 64-bit seed (seed * 1_000_003 + step * 101 + rank),
# which overflows for seeds above about 1.8e13: keep them to 32 bits, as numpy's legacy seeding does.
MAX_SEED = 2**32 - 1


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (not a bool), optionally at least ``minimum`` and at most ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}, got {value!r}")
    return int(value)


def check_seed(name: str, value) -> int:
    """A seed: an integer in 0..MAX_SEED."""
    return check_int(name, value, minimum=0, maximum=MAX_SEED)


def check_real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)


# What json.loads can raise on a file of unknown provenance: not JSON, not UTF-8, or nested so
# deep ("[[[[...") that the parser runs out of stack
BAD_JSON = (json.JSONDecodeError, UnicodeDecodeError, RecursionError)


def check_finite(name: str, value, *, positive: bool = True) -> float:
    """A finite real number, > 0 (``positive``) or >= 0: NaN would train or fit on silently."""
    number = check_real(name, value)
    if not (math.isfinite(number) and (number > 0 if positive else number >= 0)):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return number


def check_text(name: str, value, *, optional: bool = False) -> str | None:
    """A non-blank string (or None when ``optional``): a blank name, folder or device is never
    what was meant (as a path, "" is the current folder)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string{' or None' if optional else ''}, got {value!r} "
                        f"({type(value).__name__})")
    if not value.strip():
        raise ValueError(f"{name} must not be blank, got {value!r}")
    return value


def check_path(name: str, value) -> Path:
    """A file or folder path: a str or os.PathLike, not blank ("" would be the current folder)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {value!r} ({type(value).__name__})")
    if not value.strip():
        raise ValueError(f"{name} must name a file or folder, got {value!r} (a blank path is the current folder)")
    return Path(value)


def check_geometric_p(value, name: str = "geometric_p") -> float:
    """A geometric success probability: (0, 1]."""
    p = check_real(name, value)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return p


def check_ratio(name: str, value) -> float:
    """A masking ratio: open interval (0, 1)."""
    r = check_real(name, value)
    if not 0.0 < r < 1.0:
        raise ValueError(f"{name} must be in the open interval (0, 1), got {value!r}")
    return r


def check_probability(name: str, value) -> float:
    """A probability: closed interval [0, 1]."""
    r = check_real(name, value)
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return r


def check_span_range(min_len, max_len) -> tuple[int, int]:
    """``1 <= min_len <= max_len``."""
    lo = check_int("min_len", min_len, minimum=1)
    hi = check_int("max_len", max_len, minimum=1)
    if hi < lo:
        raise ValueError(f"max_len must be >= min_len, got max_len={hi} < min_len={lo}")
    return lo, hi


def check_choice(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def sha256_file(path) -> str:
    """The SHA-256 of a file's bytes as a hex string, read in 1 MiB chunks (any size fits)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
