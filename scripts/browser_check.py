"""Real-browser check of the notebooks: JupyterLab on localhost, every notebook opened in headless
Chromium, all cells run, then: no cell errored (but those tagged raises-exception whose stored
output is an error: notebook 06's checks on the stubs), every widget rendered (no "Error displaying
widget", no stuck "Loading widget..."). A screenshot of each notebook is saved.

    python scripts/browser_check.py [--out runs/browser] [--chromium /usr/bin/chromium] [names...]

Needs Debian's chromium and the playwright Python package (no browser download: Playwright
drives the system Chromium). The notebooks run on a temporary copy, so the committed files
are never touched.
"""
import argparse
import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SETTINGS = {  # render every cell (no windowing), start the notebook's kernel without asking, no news
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        '{"windowingMode": "none", "autoStartDefaultKernel": true}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        '{"fetchNews": "false", "checkForUpdates": false}',
}


def start_lab(root: Path, port: int, token: str):
    settings = root / ".lab-settings"
    for rel, text in SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(text)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={root / '.lab-workspaces'}",
           "--allow-root"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("JupyterLab did not start within 60 s")


def _accept_dialog(page, wait_ms=4000):
    """Accept a dialog (e.g. "Select Kernel") if one shows up."""
    try:
        page.wait_for_selector(".jp-Dialog .jp-mod-accept", timeout=wait_ms)
        page.locator(".jp-Dialog .jp-mod-accept").first.click()
    except Exception:
        pass


def _menu(page, menu: str, command: str):
    page.locator(".lm-MenuBar-item", has_text=menu).first.click()
    page.locator(f"[data-command='{command}']").first.click()


def expected_errors(path: Path) -> int:
    """Cells meant to raise: tagged ``raises-exception`` with an error in the stored outputs (notebook
    06's graded checks, which fail on the stubs a student starts from)."""
    cells = json.loads(path.read_text())["cells"]
    return sum("raises-exception" in c.get("metadata", {}).get("tags", []) and
               any(o.get("output_type") == "error" for o in c.get("outputs", [])) for c in cells)


def check_notebook(page, url: str, name: str, shot: Path, timeout_s: int) -> list[str]:
    """Clear the stored outputs, run every cell in the page, and return the problems found."""
    page.goto(url)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    _accept_dialog(page)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    _menu(page, "Edit", "editmenu:clear-all")
    _menu(page, "Run", "runmenu:run-all")
    deadline = time.time() + timeout_s
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    while time.time() < deadline:  # done when every code cell shows an execution count
        texts = prompts.all_inner_texts()
        if texts and all(re.fullmatch(r"\[\d+\]:", t.strip()) for t in texts) and \
                page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count():
            break
        time.sleep(1)
    else:
        page.screenshot(path=str(shot), full_page=True)
        return [f"{name}: cells not all executed after {timeout_s} s"]
    time.sleep(3)  # let the last widgets render
    problems = []
    # JupyterLab draws an error output with the stderr renderer (no renderer takes the error mime
    # type itself), so an error is a stderr output holding IPython's traceback
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                          has_text="Traceback").count()
    expected = expected_errors(ROOT / "notebooks" / name)
    if errors != expected:
        problems.append(f"{name}: {errors} cell(s) raised an error, expected {expected}")
    text = page.locator(".jp-NotebookPanel").inner_text()
    for bad in ("Error displaying widget", "Loading widget..."):
        if bad in text:
            problems.append(f"{name}: {bad!r} on the page")
    expected_widgets = (ROOT / "notebooks" / name).read_text().count("application/vnd.jupyter.widget-view+json")
    rendered = page.locator(".jp-OutputArea-output .jupyter-widgets").count()
    if expected_widgets and rendered == 0:
        problems.append(f"{name}: no widget rendered (expected {expected_widgets})")
    images = page.locator(".jp-OutputArea-output img").count()
    print(f"  {len(texts)} code cells executed, {rendered} widget views, {images} images")
    page.screenshot(path=str(shot), full_page=True)
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "runs" / "browser"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--timeout", type=int, default=240, help="seconds per notebook")
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                       if not args.names or any(p.name.startswith(n) for n in args.names))
    tmp = Path(tempfile.mkdtemp(prefix="spanbert-browser-"))
    work = tmp / "notebooks"  # the notebooks read committed results from the installed package
    work.mkdir()
    for name in notebooks:
        shutil.copy(ROOT / "notebooks" / name, work / name)
    port, token = free_port(), secrets.token_hex(16)
    lab = start_lab(work, port, token)
    problems = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name in notebooks:
                t0 = time.time()
                url = f"http://127.0.0.1:{port}/lab/tree/{name}?token={token}&reset"
                found = check_notebook(page, url, name, out / f"{Path(name).stem}.png", args.timeout)
                print(f"{name}: {'OK' if not found else 'FAILED'} in {time.time() - t0:.0f} s "
                      f"(screenshot {out / (Path(name).stem + '.png')})")
                problems += found
            browser.close()
    finally:
        lab.terminate()
        lab.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
