"""Build the course website: every committed notebook, as executed, into runs/book/ (index.html).

    python scripts/build_book.py        # `make book` runs it after installing what it needs

Jupyter Book 1 (Sphinx + MyST-NB) builds the pages from the stored outputs, re-executing
nothing (`book/_config.yml`: execute_notebooks off). The stored widget state goes into each
page, and the widget renderer and MathJax (fetched once from npm by scripts/fetch_widget_js.sh)
are served from the site's own vendor/ folder, so the build and the site need no network.
"""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE, BUILD, SITE = ROOT / "runs" / "book_src", ROOT / "runs" / "book_build", ROOT / "runs" / "book"
VENDOR = ROOT / "runs" / "book_vendor"


def stage() -> None:
    """book/ (config, table of contents, intro) + notebooks/*.ipynb + the widget renderer."""
    shutil.rmtree(STAGE, ignore_errors=True)
    shutil.copytree(ROOT / "book", STAGE)
    (STAGE / "notebooks").mkdir()
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        shutil.copyfile(nb, STAGE / "notebooks" / nb.name)
    # html_extra_path, not _static/: Jupyter Book would add every .js under _static/ to every page
    vendor = STAGE / "_vendor" / "vendor"
    for name in ("html-manager", "mathjax"):
        shutil.copytree(VENDOR / name, vendor / name)
    shutil.copyfile(VENDOR / "require.min.js", vendor / "require.min.js")
    # the renderer asks for its icon fonts relative to the page, under the AMD ids of its modules
    fonts = [f for f in (VENDOR / "html-manager").iterdir() if f.suffix in (".woff2", ".woff", ".ttf", ".eot", ".svg")]
    for folder in ("@jupyter-widgets", "@jupyter-widgets/html-manager/dist"):
        target = STAGE / "_vendor" / "notebooks" / folder
        target.mkdir(parents=True, exist_ok=True)
        for font in fonts:
            shutil.copyfile(font, target / font.name)


def main() -> None:
    if not (VENDOR / "mathjax" / "tex-mml-chtml.js").exists():
        sys.exit("the widget renderer is missing: run `bash scripts/fetch_widget_js.sh` once (or `make book`)")
    stage()
    shutil.rmtree(BUILD, ignore_errors=True)
    jb = Path(sys.executable).parent / "jupyter-book"
    done = subprocess.run([str(jb), "build", str(STAGE), "--path-output", str(BUILD)],
                          capture_output=True, text=True)
    # every Sphinx warning is an error (a broken link, a page left out), except the settings of
    # the two extensions book/_config.yml leaves out, which Jupyter Book still passes
    warnings = [line for line in (done.stdout + done.stderr).splitlines()
                if ("WARNING" in line or "ERROR" in line) and "comments_config" not in line
                and "thebe_config" not in line]
    if done.returncode or warnings:
        sys.exit(f"jupyter-book build failed:\n" + "\n".join(warnings or (done.stdout + done.stderr).splitlines()[-20:]))
    shutil.rmtree(SITE, ignore_errors=True)
    shutil.copytree(BUILD / "_build" / "html", SITE)
    pages = sorted(p.relative_to(SITE) for p in SITE.rglob("*.html") if "_static" not in p.parts)
    print(f"[book] {len(pages)} pages in {SITE.relative_to(ROOT)}/ (open {SITE.relative_to(ROOT)}/index.html)")


if __name__ == "__main__":
    main()
