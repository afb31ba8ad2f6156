"""Autograding a class with nbgrader: one CSV row per student, one column of points per exercise.

``SUBMISSIONS/<student>/06_exercises.ipynb`` is each student's edited copy of the release. For
each student, in turn:

1. the answer cells are read for calls of the library's reference solutions (:func:`reference_uses`):
   any mention of ``spanbert_edu`` outside the notebook's own locked cells, dynamic imports and
   ``__globals__``, or, in exercise 4, the given head's own forward pass. Such an exercise is
   flagged in the CSV and scores 0;
2. nbgrader's ``autograde`` executes the notebook in a fresh kernel, restoring every locked and
   graded cell from the master, with ``timeout`` seconds per cell (the kernel is interrupted
   after it). It runs in a child process that is killed if the whole notebook overruns, so a
   student's code that raises, hangs or kills its kernel costs that student points and nobody
   else anything;
3. the CSV's ``notes`` give, for each exercise that scored 0, why: the flag, or the first line
   of the error its graded cell ended with (for a wrong answer, the checker's hint).
"""
from __future__ import annotations

import ast
import csv
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path

from .._checks import check_int
from .release import ASSIGNMENT, EXERCISES, NOTEBOOK, generate, nbgrader_api

# what reaches the library's code from a notebook: importing it, or the introspection that gets
# at a module through an object (the checkers are in the notebook's namespace)
_DYNAMIC = re.compile(r"\bspanbert_edu\b|__globals__|__wrapped__|__module__|__dict__|__code__|__closure__|"
                      r"sys\.modules|\bimportlib\b|__import__|\binspect\b|\bgetmodule\b|"
                      r"(?<![\w.])(?:globals|vars|eval|exec)\s*\(")
# exercise 4 hands the student the library's SBOHead: these are the weights it may use
HEAD_WEIGHTS = {"position_embeddings", "dense1", "LayerNorm1", "dense2", "LayerNorm2", "bias",
                "eval", "train", "training", "parameters", "named_parameters", "to"}   # harmless module calls
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _code_only(source: str) -> str:
    """The source with its comments and string literals blanked (a comment or a message may name
    the library; getting at it takes code), and without imports of the checkers themselves,
    which a student may re-run anywhere."""
    lines = source.splitlines()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        for tok in reversed(tokens):                   # right to left: earlier columns stay valid
            if tok.type in (tokenize.COMMENT, tokenize.STRING):
                (r0, c0), (r1, c1) = (tok.start[0] - 1, tok.start[1]), (tok.end[0] - 1, tok.end[1])
                blank = "''" if tok.type == tokenize.STRING else ""
                lines[r0:r1 + 1] = [lines[r0][:c0] + blank + lines[r1][c1:]] + [""] * (r1 - r0)
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.ImportFrom) and node.module == "spanbert_edu.exercises"
                    and all(a.name.startswith("check_") and a.asname is None for a in node.names)):
                lines[node.lineno - 1:node.end_lineno] = [""] * (node.end_lineno - node.lineno + 1)
    except (tokenize.TokenError, SyntaxError):
        pass                                   # unparsable: judge the raw text
    return "\n".join(lines)


def _calls_the_head(source: str) -> str | None:
    """Exercise 4: does ``sbo_forward`` use its ``head`` argument for anything but its weights
    (calling it, ``head.forward``, ``head.mlp``, ``head.representations``, ...)?"""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None                            # nbgrader will fail the cell anyway
    name = EXERCISES["ex4"][0]
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name and n.args.args):
        head = fn.args.args[0].arg
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == head:
                return f"{head}(...), the library's SBOHead.forward"
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == head
                    and node.attr not in HEAD_WEIGHTS):
                return f"{head}.{node.attr}: the head's own code (use only its weights)"
    return None


def reference_uses(notebook) -> dict[str, str]:
    """Exercise -> why it is flagged, for a student's notebook (nbformat).

    A library mention in an answer cell flags that exercise; one in a cell the student added
    flags every exercise answered below it (the name it binds may be used anywhere later)."""
    flags, tainted = {}, None
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id", "")
        exercise = grade_id.split("-")[0] if grade_id.endswith("-solution") else None
        if meta.get("locked") and not exercise:
            continue                           # restored from the master by nbgrader
        found = _DYNAMIC.search(_code_only(cell.source))
        why = f"uses {found.group(0).strip()} (the library holds the reference answers)" if found else None
        if exercise == "ex4" and why is None:
            why = _calls_the_head(cell.source)
        if exercise is None:                  # a cell the student added
            tainted = tainted or (f"a cell added above it uses {found.group(0).strip()}" if found else None)
            continue
        if exercise in EXERCISES and (why or tainted):
            flags[exercise] = why or tainted
    return flags


def _students(submissions: Path) -> list[Path]:
    if not submissions.is_dir():
        raise ValueError(f"submissions must be a folder holding <student>/{NOTEBOOK}.ipynb, got {str(submissions)!r}")
    found = sorted(p.parent for p in submissions.glob(f"*/{NOTEBOOK}.ipynb"))
    if not found:
        raise ValueError(f"no {submissions}/<student>/{NOTEBOOK}.ipynb found: each student's folder holds "
                         f"their copy of the release")
    for folder in found:
        if not _STUDENT_ID.match(folder.name):
            raise ValueError(f"student folder {folder.name!r}: use letters, digits, '.', '_' or '-' "
                             "(it becomes the student's id in the gradebook)")
    return found


def _autograde(root: Path, student: str, timeout: int, limit: float) -> str | None:
    """nbgrader autograde for one student in a child process; None, or what went wrong."""
    cmd = [sys.executable, "-m", "spanbert_edu.course.grade", str(root), student, str(timeout)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = child.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the child and the kernel it started
        child.communicate()
        return f"stopped after {limit:.0f} s"
    return None if child.returncode == 0 else (out.decode(errors="replace").strip().splitlines() or ["failed"])[-1]


def _reasons(root: Path, student: str) -> dict[str, str]:
    """Exercise -> the first line of the error its graded cell ended with (the checker's hint)."""
    import nbformat

    path = root / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    if not path.exists():
        return {}
    reasons = {}
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id.endswith("-tests") and errors:
            text = (errors[0].get("evalue") or errors[0].get("ename") or "").strip().splitlines() or [""]
            reasons[grade_id.split("-")[0]] = f"{errors[0].get('ename')}: {text[0][:160]}"
    return reasons


def _scores(root: Path, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        except MissingEntry:
            return {}
        return {g.name.split("-")[0]: float(g.score or 0.0) for g in notebook.grades}


def grade(submissions, out="grades.csv", timeout: int = 60) -> list[dict]:
    """Grade every ``submissions/<student>/06_exercises.ipynb``; write and return the rows."""
    import nbformat

    timeout = check_int("timeout", timeout, minimum=1, maximum=3600)
    if not isinstance(out, (str, os.PathLike)) or not str(out).strip() or Path(out).name in ("", ".", ".."):
        raise ValueError(f"out must name the CSV file to write, got {out!r}")
    if Path(out).is_dir():
        raise ValueError(f"out {str(out)!r} is a folder; name the CSV file to write")
    students, out = _students(Path(submissions)), Path(out)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n_cells = len(nbformat.read(generate(root), as_version=4).cells)
        for folder in students:
            student, notes = folder.name, []
            target = root / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
            target.parent.mkdir(parents=True)
            shutil.copyfile(folder / f"{NOTEBOOK}.ipynb", target)
            try:
                flags = reference_uses(nbformat.read(target, as_version=4))
            except Exception as err:          # not a notebook at all: nbgrader will say so too
                flags, notes = {}, [f"unreadable notebook ({type(err).__name__})"]
            problem = _autograde(root, student, timeout, limit=timeout * n_cells + 120)
            scores, reasons = _scores(root, student), _reasons(root, student)
            row = {"student": student}
            for exercise in EXERCISES:
                row[exercise] = 0.0 if exercise in flags else scores.get(exercise, 0.0)
            row["total"] = sum(row[e] for e in EXERCISES)
            notes += [f"{e}: {why}" for e, why in flags.items()] + ([f"autograde: {problem}"] if problem else [])
            notes += [f"{e}: {why}" for e, why in reasons.items() if e not in flags]
            row["notes"] = "; ".join(notes)
            rows.append(row)
    _write_csv(rows, out)
    return rows


def _write_csv(rows, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student", *EXERCISES, "total", "notes"])
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, out)                       # a half-written grades file never replaces a whole one


def _autograde_child(root: str, student: str, timeout: str) -> None:
    result = nbgrader_api(Path(root), timeout=int(timeout)).autograde(ASSIGNMENT, student, force=True, create=True)
    if not result["success"]:
        print((result.get("error") or "autograde failed").strip().splitlines()[-1])
        sys.exit(1)


if __name__ == "__main__":
    _autograde_child(*sys.argv[1:4])
