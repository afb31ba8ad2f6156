"""``python -m spanbert_edu course release|grade``: the command line of :mod:`spanbert_edu.course`
(nbgrader is imported only when a course command runs)."""
from __future__ import annotations


def add_parser(sub) -> None:
    course = sub.add_parser("course", help="the graded exercises for a class: student release and autograding "
                                           "(nbgrader; pip install spanbert_edu[course])")
    steps = course.add_subparsers(dest="step", required=True)
    release = steps.add_parser("release", help="write the student notebook (solutions stubbed, cells locked)")
    release.add_argument("out", help="the folder to write 06_exercises.ipynb into")
    release.add_argument("--overwrite", action="store_true", help="replace an existing release")
    grade = steps.add_parser("grade", help="autograde SUBMISSIONS/<student>/06_exercises.ipynb into a CSV")
    grade.add_argument("submissions", help="a folder with one folder per student")
    grade.add_argument("--out", default="grades.csv", help="the CSV to write (default: grades.csv)")
    grade.add_argument("--timeout", type=int, default=60, help="seconds per notebook cell (default: 60)")


def run(args) -> None:
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        raise ValueError("the course commands need nbgrader: pip install 'spanbert_edu[course]'") from None
    if args.step == "release":
        from .release import release

        for path in release(args.out, overwrite=args.overwrite):
            print(f"wrote {path}")
    else:
        from .grade import grade

        rows = grade(args.submissions, args.out, timeout=args.timeout)
        flagged = sum(bool(r["notes"]) for r in rows)
        print(f"graded {len(rows)} students into {args.out} ({flagged} with notes: see its 'notes' column)")
