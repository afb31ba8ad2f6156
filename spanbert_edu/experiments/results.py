"""The experiments' committed results, shipped inside the package (``spanbert_edu/assets/results/``)
so that ``python -m spanbert_edu figures`` and the notebooks work from an installed package, not
only from a checkout of the repository.

    >>> rows = committed_result("ablation_laptop.json")     # python -m spanbert_edu ablate --budget laptop
    >>> toy = committed_result("toy_world.json")            # python -m spanbert_edu toy --seeds 3
"""
from __future__ import annotations

import json
from importlib.resources import files

RESULTS = files("spanbert_edu") / "assets" / "results"


def has_result(name: str) -> bool:
    """Whether the package ships ``assets/results/<name>``."""
    return (RESULTS / name).is_file()


def committed_result(name: str):
    """The parsed JSON of ``assets/results/<name>``."""
    if not has_result(name):
        shipped = sorted(p.name for p in RESULTS.iterdir()) if RESULTS.is_dir() else []
        raise FileNotFoundError(f"no committed result {name!r}; the package ships {shipped}")
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))
