"""The student release: the master notebook, with its solutions stubbed by nbgrader.

The master (``master/06_exercises.py``, jupytext's percent format) is the single source. Its
cells are tagged: ``exN`` + ``solution`` is a student's answer cell, ``exN`` + ``tests`` the
graded check, ``instructor`` a note left out of every student version. :func:`master_notebook`
turns the tags into nbgrader's cell metadata (graded cells with their points, every other cell
locked), and :func:`release` runs nbgrader's ``generate_assignment`` on it in a scratch course
folder, which replaces everything between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` by
a stub. :func:`check_release` then proves that no line of any solution survived.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

MASTER = Path(__file__).parent / "master" / "06_exercises.py"
ASSIGNMENT = "spanbert"
NOTEBOOK = "06_exercises"
# exercise -> (the function the student writes, points)
EXERCISES = {"ex1": ("expected_span_length", 2), "ex2": ("span_masker", 4), "ex3": ("sbo_targets", 2),
             "ex4": ("sbo_forward", 3), "ex5": ("spanbert_loss", 2)}
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def _nbgrader_cell(cell, index: int) -> dict:
    """nbgrader's metadata for one master cell, from its tags."""
    tags = set(cell.metadata.get("tags", []))
    exercise = next((t for t in tags if t in EXERCISES), None)
    meta = {"grade": False, "solution": False, "locked": True, "grade_id": f"cell-{index:02d}",
            "schema_version": 3}
    if exercise and "solution" in tags:
        meta.update(solution=True, locked=False, grade_id=f"{exercise}-solution")
    elif exercise and "tests" in tags:
        meta.update(grade=True, points=EXERCISES[exercise][1], grade_id=f"{exercise}-tests")
        # the stubs fail their checks: let the student version execute top to bottom anyway
        cell.metadata["tags"] = sorted(tags | {"raises-exception"})
    return meta


def master_notebook(path: Path = MASTER):
    """The master as a notebook with nbgrader's metadata (instructor cells dropped)."""
    import jupytext

    nb = jupytext.read(path, fmt="py:percent")
    nb.cells = [c for c in nb.cells if "instructor" not in c.metadata.get("tags", [])]
    for index, cell in enumerate(nb.cells):
        cell.metadata["nbgrader"] = _nbgrader_cell(cell, index)
    found = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells}
    missing = [f"{e}-{role}" for e in EXERCISES for role in ("solution", "tests") if f"{e}-{role}" not in found]
    if missing:
        raise ValueError(f"the master {path} has no cell tagged for {missing}")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.pop("jupytext", None)          # the release is a plain notebook, paired with nothing
    return nb


def nbgrader_api(root: Path, timeout: int = 60):
    """nbgrader's API on a course folder ``root`` with its own gradebook."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    # nbgrader runs the `alembic` command installed beside this interpreter, found through PATH,
    # which does not hold the virtualenv's bin/ when `.venv/bin/python` is run directly
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.ClearSolutions.code_stub = {"python": STUB}
    config.Execute.timeout = timeout          # seconds per cell; the kernel is interrupted after it
    config.Execute.execute_retries = 0
    return NbGraderAPI(config=config)


def generate(root: Path, master: Path = MASTER) -> Path:
    """Run nbgrader's generate_assignment in the course folder ``root``: the student notebook."""
    import nbformat

    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    nbformat.write(master_notebook(master), source / f"{NOTEBOOK}.ipynb")
    result = nbgrader_api(root).generate_assignment(ASSIGNMENT, force=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{result['error']}\n{result['log']}")
    return root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


def check_release(path: Path, master: Path = MASTER) -> None:
    """Raise if any line of a master solution, or an import of the library's references, is in
    the student notebook at ``path``."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    text = "\n".join(c.source for c in cells)
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    for cell in master_notebook(master).cells:
        if cell.metadata["nbgrader"]["solution"]:
            body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            leaked = [line.strip() for line in body.splitlines()
                      if len(line.strip()) > 12 and line.strip() in text]
            if leaked:
                raise RuntimeError(f"{path}: a solution line survived the release: {leaked[0]!r}")
    if "BEGIN SOLUTION" in text:
        raise RuntimeError(f"{path}: a solution marker survived the release")
    for name in ("reference_masker", "mistakes", "exercises.masker", "exercises.sbo", "spanbert_edu.spans",
                 "spanbert_edu.heads", "spanbert_edu.masking"):
        if name in code:
            raise RuntimeError(f"{path}: the student version's code uses the library's reference {name!r}")


def release(out, overwrite: bool = False) -> list[Path]:
    """Write the student notebook into the folder ``out``; return the files written."""
    if not isinstance(out, (str, os.PathLike)) or not str(out).strip() or Path(out) == Path("."):
        raise ValueError(f"out must name a folder for the student release, got {out!r}")
    out = Path(out)
    target = out / f"{NOTEBOOK}.ipynb"
    if target.exists() and not overwrite:
        raise ValueError(f"{target} exists; pass --overwrite to replace it")
    with tempfile.TemporaryDirectory() as tmp:
        student = generate(Path(tmp))
        check_release(student)
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(student, target)
    return [target]
