"""The run log, ``metrics.jsonl``: one JSON row per logged or evaluated step.

``append_jsonl`` adds a row (and hands it to a live ``on_log`` callback); ``truncate_log`` drops
the rows an interrupted run wrote after the checkpoint it resumes from, so a resumed run's log
continues exactly where the checkpoint left it. Reading and plotting: :mod:`.plots`.
"""
from __future__ import annotations

import json
from pathlib import Path


def append_jsonl(path: Path, row: dict, on_log=None) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
    if on_log is not None:
        on_log(row)


def truncate_log(path: Path, step: int) -> None:
    """Drop rows an interrupted run wrote after the checkpoint it is resumed from."""
    if not path.exists():
        return
    lines, rows = path.read_text().splitlines(), []
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if k == len(lines) - 1:
                continue  # a line torn by the interruption: drop it
            raise ValueError(f"{path} line {k + 1} is not JSON: {line[:60]!r}") from None
        if row.get("step", 0) <= step:
            rows.append(line)
    path.write_text("".join(r + "\n" for r in rows))
