"""The course website's table of contents holds every notebook, in order, and nothing else; the
site's configuration re-executes nothing and loads its scripts from the site itself."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_book_lists_every_notebook_in_order():
    toc = (ROOT / "book" / "_toc.yml").read_text()
    listed = re.findall(r"file: notebooks/(\S+)", toc)
    assert listed == sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    intro = (ROOT / "book" / "intro.md").read_text()
    assert all(f"(notebooks/{name})" in intro for name in listed)


def test_the_book_executes_nothing_and_needs_no_cdn():
    config = (ROOT / "book" / "_config.yml").read_text()
    assert re.search(r'execute_notebooks:\s*"off"', config)
    urls = [line for line in config.splitlines() if "://" in line and not line.lstrip().startswith("#")]
    assert urls == []
    for script in ("../vendor/require.min.js", "../vendor/html-manager/embed-amd.js", "../vendor/mathjax/"):
        assert script in config
