#!/usr/bin/env bash
# Build the sdist, unpack it outside the checkout and use it from there: it must hold the whole
# project (every file git tracks but .gitignore, the bundled checkpoint), install, and pass a
# fast subset of its own tests against the package installed from it. VENV: a virtualenv with
# torch to reuse (scripts/wheel_smoke.sh passes its own); without it a fresh one is made.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
venv="${VENV:-$tmp/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    VENV="$venv" bash scripts/install.sh --torch-only        # the CPU build where no GPU exists
fi
py="$venv/bin/python"
"$py" -m pip install --quiet build "pytest>=8.0"
"$py" -m build --sdist --outdir "$tmp/dist" . > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
sdist="$(ls "$tmp"/dist/spanbert_edu-*.tar.gz)"
tar -xzf "$sdist" -C "$tmp"
src="$tmp/$(basename "$sdist" .tar.gz)"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then   # nothing of the project left out
    missing="$(git ls-files | while read -r f; do
        [ "$f" = .gitignore ] || [ ! -e "$f" ] || [ -e "$src/$f" ] || echo "$f"; done)"
    [ -z "$missing" ] || { echo "[sdist] missing from $(basename "$sdist"):"; echo "$missing"; exit 1; }
fi
for f in config.json model.safetensors vocab.txt metrics.jsonl; do
    [ -s "$src/spanbert_edu/assets/spanbert-small/$f" ] || { echo "[sdist] no bundled checkpoint file $f"; exit 1; }
done
"$py" -m pip uninstall --quiet --yes spanbert_edu 2> /dev/null || true   # the wheel, when VENV is reused
"$py" -m pip install --quiet "$sdist"
# run from $tmp, so the unpacked spanbert_edu/ is not on sys.path; test_zz_installed.py proves it.
# test_environment.py checks the sdist's top-level files and folders (its ROOT is $src here), the
# asset rows of test_bad_input.py that the installed package holds every asset.
cat > "$src/tests/test_zz_installed.py" <<'PY'
def test_the_installed_package_is_tested():
    import spanbert_edu
    assert "site-packages" in spanbert_edu.__file__, spanbert_edu.__file__
PY
cd "$tmp"
"$py" -m pytest -q -p no:cacheprovider --rootdir "$src" "$src"/tests/test_{environment,spans,bundled,zz_installed}.py \
    "$src/tests/test_bad_input.py::test_every_asset_is_in_the_wheel_and_the_installed_package"
echo "[sdist] $(tar -tzf "$sdist" | grep -vc '/$') files; installed and tested from $src in $((SECONDS - start)) s"
