#!/usr/bin/env bash
# The JavaScript the course website serves itself: Jupyter's widget renderer
# (@jupyter-widgets/html-manager, matching ipywidgets 8), its module loader (requirejs) and
# MathJax 3 for the notebooks' formulas. Fetched once from the npm registry into
# runs/book_vendor/, so that `scripts/build_book.py` builds, and the site works, with no network.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=runs/book_vendor
HTML_MANAGER="${HTML_MANAGER:-@jupyter-widgets/html-manager@1.0.15}"
REQUIREJS="${REQUIREJS:-requirejs@2.3.8}"
MATHJAX="${MATHJAX:-mathjax@3.2.2}"
if [ -f "$VENDOR/html-manager/embed-amd.js" ] && [ -f "$VENDOR/require.min.js" ] && [ -f "$VENDOR/mathjax/tex-mml-chtml.js" ]; then
    exit 0
fi
command -v npm >/dev/null || { echo "[book] npm is needed once to fetch the widget renderer"; exit 1; }
rm -rf "$VENDOR" && mkdir -p "$VENDOR/pack"
(cd "$VENDOR/pack" && npm pack --silent "$HTML_MANAGER" "$REQUIREJS" "$MATHJAX" >/dev/null)
tar xzf "$VENDOR"/pack/jupyter-widgets-html-manager-*.tgz -C "$VENDOR/pack"
mv "$VENDOR/pack/package/dist" "$VENDOR/html-manager"
rm -rf "$VENDOR/pack/package"
tar xzf "$VENDOR"/pack/requirejs-*.tgz -C "$VENDOR/pack"
cp "$VENDOR/pack/package/require.js" "$VENDOR/require.min.js"
rm -rf "$VENDOR/pack/package"
tar xzf "$VENDOR"/pack/mathjax-*.tgz -C "$VENDOR/pack"
mv "$VENDOR/pack/package/es5" "$VENDOR/mathjax"
rm -rf "$VENDOR/pack"
echo "[book] widget renderer in $VENDOR"
