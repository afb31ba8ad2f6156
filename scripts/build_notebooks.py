"""Build the walkthrough notebooks from their sources and execute them, outputs and widget state stored.

    python scripts/build_notebooks.py            # all of them
    python scripts/build_notebooks.py 01 03      # some

Sources: notebooks/src/NN_name.py in jupytext's "percent" format (a cell starts at a line
"# %%"; "# %% [markdown]" cells hold markdown as "# "-prefixed lines), paired with the notebooks
by notebooks/jupytext.toml, so JupyterLab (with jupytext) opens a source as a notebook and
saves both. Output: notebooks/NN_name.ipynb,
executed top to bottom by nbclient with store_widget_state=True, so GitHub and other static
viewers show the plots and the last state of every widget. Re-run whenever the library
changes what a notebook shows.

Notebook 06 is the exception: its source is the graded exercises' master,
spanbert_edu/course/master/06_exercises.py, which holds the solutions. What is built is the
student version nbgrader releases from it (`python -m spanbert_edu course release`), solutions
stubbed, so the notebook shows each checker's verdict on the stubs.
"""
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SRC, OUT = ROOT / "notebooks" / "src", ROOT / "notebooks"
MASTER = ROOT / "spanbert_edu" / "course" / "master" / "06_exercises.py"


def parse(path: Path) -> nbformat.NotebookNode:
    """The percent-format source as a notebook (jupytext's reader, the same one JupyterLab uses
    when a reader opens ``notebooks/src/*.py`` as a notebook)."""
    nb = jupytext.read(path, fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["jupytext"] = {"formats": "ipynb,src//py:percent"}  # the pairing (notebooks/jupytext.toml)
    return nb


def student_version(path: Path) -> nbformat.NotebookNode:
    """The release of the graded master, paired with nothing (saving it must not write a source)."""
    import tempfile

    from spanbert_edu.course.release import check_release, generate

    with tempfile.TemporaryDirectory() as tmp:
        release = generate(Path(tmp), master=path)
        check_release(release, master=path)
        nb = nbformat.read(release, as_version=4)
    nb.metadata["jupytext"] = {"formats": "ipynb"}
    return nb


def build(path: Path) -> float:
    nb = student_version(path) if path == MASTER else parse(path)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(OUT)}}).execute()
    seconds = time.perf_counter() - t0
    nbformat.write(nb, OUT / f"{path.stem}.ipynb")
    return seconds


def main():
    wanted = sys.argv[1:]
    for path in sorted([*SRC.glob("[0-9][0-9]_*.py"), MASTER], key=lambda p: p.stem):
        if not wanted or any(path.stem.startswith(w) for w in wanted):
            print(f"{path.stem}: executed in {build(path):.1f} s")


if __name__ == "__main__":
    main()
