#!/usr/bin/env bash
# Create ./.venv (if needed) and install spanbert_edu into it with the given extras.
#
#   bash scripts/install.sh            # the library and the main job
#   bash scripts/install.sh test,notebooks
#   bash scripts/install.sh --torch-only   # only torch, chosen as below (for a wheel's venv)
#
# torch is installed first, chosen for this machine, because an unpinned `pip install torch`
# on a Linux machine without a GPU downloads a CUDA build of several GB:
#   * torch already importable in the venv -> kept as it is;
#   * an NVIDIA GPU (nvidia-smi lists one)  -> PyPI's default (CUDA) build;
#   * otherwise                             -> the CPU build, from PyTorch's CPU index, with
#     PyPI (and any local wheels pip is configured with) as the fallback.
# Override with TORCH_SPEC (e.g. TORCH_SPEC="torch==2.5.1") or TORCH_INDEX_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-}"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[install] creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"

if "$PY" -c "import torch" 2>/dev/null; then
    echo "[install] torch $("$PY" -c 'import torch; print(torch.__version__)') already installed"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "[install] NVIDIA GPU found: installing the CUDA build of torch from PyPI"
    "$PY" -m pip install --quiet "${TORCH_SPEC:-torch>=2.2}"
else
    # The CPU build tested with this project. `--retries 0` keeps an unreachable CPU index
    # from stalling: pip then takes the same version from PyPI or a local wheel.
    spec="${TORCH_SPEC:-torch==2.13.0}"
    echo "[install] no GPU: installing the CPU build ($spec)"
    "$PY" -m pip install --quiet --retries 0 \
        --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" \
        --extra-index-url https://pypi.org/simple "$spec" \
      || "$PY" -m pip install --quiet "$spec"
fi

[ "$EXTRAS" = "--torch-only" ] && exit 0   # scripts/wheel_smoke.sh installs the wheel itself
target="."
[ -n "$EXTRAS" ] && target=".[$EXTRAS]"
echo "[install] pip install -e '$target'"
"$PY" -m pip install --quiet -e "$target"
