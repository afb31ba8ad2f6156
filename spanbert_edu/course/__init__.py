"""The course for a class: the student release of the graded exercises and their autograding,
both done by nbgrader (``pip install spanbert_edu[course]``).

* :func:`release` (``python -m spanbert_edu course release OUT``): the student notebook,
  generated from the master in :mod:`.release`; the master is never edited into a release by hand.
* :func:`grade` (``python -m spanbert_edu course grade SUBMISSIONS --out grades.csv``): every
  student's notebook executed by nbgrader in its own kernel with a time limit per cell, one
  column of points per exercise, answers that call the library's reference solutions flagged
  and scored 0 (:mod:`.grade`).

The instructor's guide is ``docs/instructor.md``.
"""
from .grade import grade
from .release import EXERCISES, release

__all__ = ["EXERCISES", "grade", "release"]
