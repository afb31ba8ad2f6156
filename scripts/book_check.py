"""Real-browser check of the course website (runs/book, built by `make book`): each page served on
localhost and opened in headless Chromium, then:

* every page of the table of contents loads (HTTP 200, no JavaScript error);
* every figure is there: each <img> of the page has loaded (natural width > 0), and each
  notebook page shows as many images as its stored outputs hold;
* the stored widget state renders: on pages whose notebook has widgets, at least one widget view
  is drawn by the page's own renderer and none says "Error displaying widget";
* nothing is fetched from anywhere but localhost (the site works offline), and nothing it asks
  for is missing (no HTTP error).

    python scripts/book_check.py [--site runs/book] [--out runs/book_check] [--chromium /usr/bin/chromium]

Exit status 1 with one line per problem; a screenshot of each page goes to --out.
"""
import argparse
import functools
import http.server
import json
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from browser_check import CHROMIUM_ARGS  # noqa: E402  (the flags this machine's Chromium needs)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):                 # failed requests are reported by the browser side
        pass


def serve(site: Path):
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stored(notebook: Path) -> tuple[int, int]:
    """(images, widget views) in a notebook's stored outputs."""
    outputs = [o for c in json.loads(notebook.read_text())["cells"] for o in c.get("outputs", [])]
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    widgets = sum("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    return images, widgets


def check_page(page, url: str, notebook: Path | None, shot: Path) -> list[str]:
    errors = []
    page.on("pageerror", lambda err: errors.append(f"JavaScript error: {err}"))
    response = page.goto(url, wait_until="networkidle")
    if response is None or response.status != 200:
        return [f"{url}: HTTP {None if response is None else response.status}"]
    page.wait_for_timeout(1500)                        # the widget renderer runs after load
    problems = [f"{url}: {e}" for e in errors]
    broken = page.eval_on_selector_all("article img", "els => els.filter(e => !e.complete || e.naturalWidth === 0)"
                                                      ".map(e => e.getAttribute('src'))")
    problems += [f"{url}: image {src} did not load" for src in broken]
    if notebook is not None:
        images, widgets = stored(notebook)
        shown = page.locator("article img").count()
        if shown < images:
            problems.append(f"{url}: {shown} images shown, the notebook stores {images}")
        views = page.locator("article .jupyter-widgets").count()
        if widgets and views == 0:
            problems.append(f"{url}: no widget rendered (the notebook stores {widgets} widget views)")
        if page.get_by_text("Error displaying widget").count():
            problems.append(f"{url}: 'Error displaying widget'")
        print(f"  {notebook.name}: {shown} images (stored {images}), {views} widget elements (stored views {widgets})")
    page.screenshot(path=str(shot), full_page=False)
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=str(ROOT / "runs" / "book"))
    parser.add_argument("--out", default=str(ROOT / "runs" / "book_check"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    site, out = Path(args.site), Path(args.out)
    if not (site / "index.html").exists():
        sys.exit(f"{site}/index.html is missing: run `make book` first")
    out.mkdir(parents=True, exist_ok=True)
    pages = [("index.html", None)] + [(f"notebooks/{nb.stem}.html", nb)
                                      for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    from playwright.sync_api import sync_playwright

    server, problems, offsite, missing = serve(site), [], [], []
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1600})
        context.on("request", lambda r: offsite.append(r.url) if urlparse(r.url).hostname not in
                   ("127.0.0.1", None) and not r.url.startswith("data:") else None)
        context.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
        for rel, notebook in pages:
            page = context.new_page()
            problems += check_page(page, base + rel, notebook, out / (Path(rel).stem + ".png"))
            page.close()
        browser.close()
    server.shutdown()
    problems += [f"fetched from outside the site: {url}" for url in sorted(set(offsite))]
    problems += [f"not found: {url}" for url in sorted(set(missing))]
    for line in problems:
        print(f"PROBLEM {line}")
    print(f"[book-check] {len(pages)} pages, {len(problems)} problems; screenshots in {out}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
