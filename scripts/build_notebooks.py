"""Build the walkthrough notebooks from their sources and execute them, outputs and widget state stored.

    python scripts/build_notebooks.py            # all of them
    python scripts/build_notebooks.py 01 03      # some

Sources: notebooks/src/NN_name.py in the "percent" format (a cell starts at a line "# %%";
"# %% [markdown]" cells hold markdown as "# "-prefixed lines). Output: notebooks/NN_name.ipynb,
executed top to bottom by nbclient with store_widget_state=True, so GitHub and other static
viewers show the plots and the last state of every widget. Re-run whenever the library
changes what a notebook shows.
"""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SRC, OUT = ROOT / "notebooks" / "src", ROOT / "notebooks"


def parse(path: Path) -> nbformat.NotebookNode:
    cells, kind, lines = [], None, []

    def flush():
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in text.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code" and text:
            cells.append(nbformat.v4.new_code_cell(text))

    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def build(path: Path) -> float:
    nb = parse(path)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(OUT)}}).execute()
    seconds = time.perf_counter() - t0
    nbformat.write(nb, OUT / f"{path.stem}.ipynb")
    return seconds


def main():
    wanted = sys.argv[1:]
    for path in sorted(SRC.glob("[0-9][0-9]_*.py")):
        if not wanted or any(path.stem.startswith(w) for w in wanted):
            print(f"{path.stem}: executed in {build(path):.1f} s")


if __name__ == "__main__":
    main()
