#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtualenv and use it from another folder: the
# bundled model, the committed results and every figure must come from the installed package.
# Then the sdist, in the same virtualenv (torch is installed once): scripts/sdist_smoke.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m pip wheel --no-deps --quiet -w "$tmp/dist" .
python3 -m venv "$tmp/venv"
VENV="$tmp/venv" bash scripts/install.sh --torch-only      # the CPU build where no GPU exists
"$tmp/venv/bin/python" -m pip install --quiet "$tmp"/dist/spanbert_edu-*.whl
cd "$tmp"                                                   # nothing of the checkout is on the path here
"$tmp/venv/bin/python" -m spanbert_edu fill "Return a shallow [BLANK] of the list." | grep -q "BOTH:"
"$tmp/venv/bin/python" -m spanbert_edu figures --out "$tmp/figures" > /dev/null
n="$(ls "$tmp/figures" | wc -l)"
[ "$n" -eq 9 ] || { echo "[wheel] figures wrote $n files, expected 9"; exit 1; }
"$tmp/venv/bin/python" -c "import spanbert_edu, sys; assert 'site-packages' in spanbert_edu.__file__, spanbert_edu.__file__"
echo "[wheel] installed wheel: fill, figures (9 files) and the bundled model work from $tmp"
VENV="$tmp/venv" bash "$repo/scripts/sdist_smoke.sh"
