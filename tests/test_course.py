"""The course for a class: the student release (nbgrader's generate_assignment on the master) and
autograding planted submissions (nbgrader's autograde): correct, stub, wrong, printing, raising,
hanging, and calling the library's reference."""
import csv
import math
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spanbert_edu.course import EXERCISES, grade, release
from spanbert_edu.course.grade import reference_uses
from spanbert_edu.course.release import master_notebook
from spanbert_edu.exercises import (check_expected_span_length, check_sbo_forward, check_sbo_loss,
                                    check_sbo_targets, check_span_masker)

ROOT = Path(__file__).resolve().parent.parent
CHECKS = {"ex1": check_expected_span_length, "ex2": check_span_masker, "ex3": check_sbo_targets,
          "ex4": check_sbo_forward, "ex5": check_sbo_loss}


def master_answers() -> dict[str, str]:
    """Each exercise's master answer cell, markers removed: what a student who gets it right writes."""
    answers = {}
    for cell in master_notebook().cells:
        meta = cell.metadata["nbgrader"]
        if meta["solution"]:
            answers[meta["grade_id"].split("-")[0]] = "\n".join(
                line for line in cell.source.splitlines() if "### " not in line)
    return answers


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    (path,) = release(out)
    return nbformat.read(path, as_version=4)


def test_the_master_solutions_pass_every_checker():
    for exercise, source in master_answers().items():
        namespace = {"math": math, "np": np, "torch": torch, "F": F}
        exec(source, namespace)
        assert CHECKS[exercise](namespace[EXERCISES[exercise][0]]), exercise


def test_release_has_stubs_points_and_locks_and_no_solution(released):
    meta = [c.metadata.get("nbgrader", {}) for c in released.cells]
    assert {m["grade_id"]: m["points"] for m in meta if m.get("grade")} == \
        {f"{e}-tests": points for e, (_, points) in EXERCISES.items()}
    assert all(m["locked"] for m in meta if not m.get("solution"))
    text = "\n".join(c.source for c in released.cells)
    for source in master_answers().values():
        body = [line.strip() for line in source.splitlines()[1:] if len(line.strip()) > 12]
        assert not [line for line in body if line in text]
    solutions = [c.source for c, m in zip(released.cells, meta) if m.get("solution")]
    assert len(solutions) == 5 and all("raise NotImplementedError()" in s for s in solutions)
    assert "instructor" not in text.lower() and "BEGIN SOLUTION" not in text
    code = "\n".join(c.source for c in released.cells if c.cell_type == "code")
    assert "reference_masker" not in code and "spanbert_edu.masking" not in code


def test_the_committed_notebook_is_the_release(released):
    committed = nbformat.read(ROOT / "notebooks" / "06_exercises.ipynb", as_version=4)
    assert [c.source for c in committed.cells] == [c.source for c in released.cells]


def test_release_refuses_to_overwrite_and_an_empty_name(tmp_path):
    release(tmp_path)
    with pytest.raises(ValueError, match="--overwrite"):
        release(tmp_path)
    assert release(tmp_path, overwrite=True)
    with pytest.raises(ValueError, match="out must name a folder"):
        release("")


# ------------------------------------------------------------------ what counts as calling the reference
def notebook_with(answers: dict[str, str], added: str | None = None, base=None):
    nb = nbformat.reads(nbformat.writes(base), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("-solution") and grade_id.split("-")[0] in answers:
            cell.source = answers[grade_id.split("-")[0]]
    if added is not None:
        nb.cells.insert(2, nbformat.v4.new_code_cell(added))
    return nb


@pytest.mark.parametrize("answer,added,flagged", [
    ({"ex1": "from spanbert_edu.spans import expected_span_length"}, None, {"ex1"}),
    ({"ex1": "def expected_span_length(p, n):\n    return __import__('spanbert_edu').spans.expected_span_length(p, n)"},
     None, {"ex1"}),
    ({"ex2": "span_masker = check_span_masker.__wrapped__.__globals__['reference_masker']()"}, None, {"ex2"}),
    ({"ex4": "def sbo_forward(h, x, b, l, e):\n    return h(x, b, l, e)[0]"}, None, {"ex4"}),
    ({"ex4": "def sbo_forward(head, x, b, l, e):\n    return head.mlp(x) @ e.t()"}, None, {"ex4"}),
    ({}, "import spanbert_edu.exercises.sbo as ref", set(EXERCISES)),
    ({"ex1": "def expected_span_length(p, n):  # not spanbert_edu's\n    return 1 / p"}, None, set()),
    ({}, "from spanbert_edu.exercises import check_span_masker  # re-run a checker", set()),
    ({}, None, set()),
    ({"ex2": "import inspect\nspan_masker = inspect.getmodule(check_span_masker).reference_masker()"}, None, {"ex2"}),
    ({"ex4": "def sbo_forward(head, x, b, l, e):\n    return head.representations(x, b, l)[0] @ e.t() + head.bias"},
     None, {"ex4"}),
    ({"ex4": "def sbo_forward(head, x, b, l, e):\n    head.eval()\n    return head.dense1(x)"}, None, set()),
    ({"ex4": "def layer(linear, norm, x):\n    return norm(linear(x))\n\n"
             "def sbo_forward(head, x, b, l, e):\n    return layer(head.dense1, head.LayerNorm1, x)"}, None, set()),
    ({"ex1": 'def expected_span_length(p, n):\n    """Not spanbert_edu\'s: mine."""\n    print("no spanbert_edu here")'},
     None, set()),
])
def test_reference_uses(released, answer, added, flagged):
    assert set(reference_uses(notebook_with(answer, added, base=released))) == flagged


# ------------------------------------------------------------------ grading a class
def test_grade_planted_submissions(released, tmp_path):
    answers = master_answers()
    answers["ex1"] += "  # computed here, not taken from spanbert_edu"
    mixed = {**answers,
             "ex1": "def expected_span_length(p, max_len):\n    print(1 / p)\n",                 # prints
             "ex3": "def sbo_targets(*args):\n    raise SystemExit(3)\n",                            # raises
             "ex4": "def sbo_forward(head, hidden, b, l, e):\n    return head(hidden, b, l, e)[0]\n",  # the reference
             "ex5": "while True:\n    try:\n        pass\n    except BaseException:\n        pass\n"}  # hangs
    wrong = {**answers, "ex2": answers["ex2"].replace("u < 0.8", "u < 1.0"),                     # never keeps
             "ex5": answers["ex5"].replace("    V = mlm_logits.shape[-1]",        # right, but warns
                                           "    V = mlm_logits.shape[-1]\n    labels = torch.tensor(labels)")}
    for student, nb in {"ada": notebook_with(answers, base=released), "bo": notebook_with({}, base=released),
                        "cy": notebook_with(mixed, base=released), "di": notebook_with(wrong, base=released)}.items():
        (tmp_path / "subs" / student).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "subs" / student / "06_exercises.ipynb")
    out = tmp_path / "grades.csv"
    grade(tmp_path / "subs", out, timeout=10)
    with open(out) as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    with open(out) as f:
        assert next(csv.reader(f)) == ["student", *EXERCISES, "total", "notes"]
    points = {e: float(p) for e, (_, p) in EXERCISES.items()}
    score = lambda s: {e: float(rows[s][e]) for e in EXERCISES}
    assert score("ada") == points and float(rows["ada"]["total"]) == sum(points.values()) and not rows["ada"]["notes"]
    assert score("bo") == dict.fromkeys(EXERCISES, 0.0)
    assert score("cy") == {**dict.fromkeys(EXERCISES, 0.0), "ex2": points["ex2"]}
    notes = rows["cy"]["notes"]
    assert "ex4: head(...)" in notes and "ex1: AssertionError" in notes and "returned None" in notes
    assert "ex3: AssertionError" in notes and "SystemExit" in notes
    assert score("di") == {**points, "ex2": 0.0}
    assert "ex2: AssertionError" in rows["di"]["notes"] and "keep" in rows["di"]["notes"]


def test_grade_refuses_a_folder_without_submissions(tmp_path):
    with pytest.raises(ValueError, match="no .*06_exercises.ipynb found"):
        grade(tmp_path)
    (tmp_path / "bad name").mkdir()
    (tmp_path / "bad name" / "06_exercises.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="student folder 'bad name'"):
        grade(tmp_path)
    with pytest.raises(ValueError, match="submissions must be a folder"):
        grade(tmp_path / "missing")


def test_course_command_line(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "spanbert_edu", "course", *a],
                                    capture_output=True, text=True, cwd=tmp_path)
    done = run("release", "student")
    assert done.returncode == 0 and "wrote" in done.stdout and (tmp_path / "student" / "06_exercises.ipynb").exists()
    again = run("release", "student")
    assert again.returncode == 2 and "--overwrite" in again.stderr and "Traceback" not in again.stderr
    missing = run("grade", "nowhere")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
