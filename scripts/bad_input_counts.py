"""Rows of the table-driven bad-input suite (tests/test_bad_input.py) per class of defect, the
counts the issue's note reports:

    .venv/bin/python scripts/bad_input_counts.py
"""
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import test_bad_input as suite  # noqa: E402  (the tests folder is not a package)


def main():
    counts = collections.Counter(kind for kind, _ in suite.ROWS)
    for kind, label in suite.CLASSES.items():
        print(f"{counts[kind]:4d}  {label}")
    print(f"{len(suite.ROWS):4d}  rows in all, {len({name for _, name in suite.ROWS})} tests")


if __name__ == "__main__":
    main()
