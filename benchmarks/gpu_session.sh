#!/usr/bin/env bash
# The GPU measurements in the README, as one script for a lent GPU machine (no network there):
#   OUT=results/gpu bash benchmarks/gpu_session.sh [DOCS_PATH]
# 1. gpu_report.py: base and small presets, fp32 vs bf16 (vs bf16 + torch.compile), MFU;
# 2. the bundled checkpoint's exact recipe (small, 16k steps of 32 x 128) trained on the GPU, and
#    the same schedule with 4x the batch (128 x 128, lr 1e-3), side by side on the one GPU;
# 3. each run's final checkpoint scored like the bundled one (`spanbert-edu export`, masks seed 1234).
set -u
OUT=${OUT:-results/gpu}; DOCS=${1:-}; mkdir -p "$OUT"
export PYTHONPATH=$PWD
nvidia-smi -L; python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
python3 benchmarks/gpu_report.py --preset base --compile 2>&1 | tee "$OUT/gpu_report.txt"
python3 benchmarks/gpu_report.py --preset small --batch-size 32 --max-length 128 2>&1 | tee -a "$OUT/gpu_report.txt"
docs=(); [ -n "$DOCS" ] && docs=(--docs-path "$DOCS")
common=(--preset small --corpus default+python-docs --eval-corpus default "${docs[@]}" --steps ${STEPS:-16000}
        --max-length 128 --warmup 320 --dropout 0 --eval-every 1000 --save-every ${SAVE_EVERY:-1000} --log-every 50 --seed 0 --no-report)
run() {  # name, budget in seconds, extra flags
  local name=$1 budget=$2; shift 2
  local t0=$SECONDS
  timeout "$budget" python3 -m spanbert_edu pretrain "${common[@]}" "$@" --out "/tmp/$name" > "$OUT/$name.log" 2>&1
  echo "$name: exit $?, wall $((SECONDS - t0)) s" >> "$OUT/$name.log"
  cp "/tmp/$name/metrics.jsonl" "$OUT/$name.metrics.jsonl"
  last=$(ls -d /tmp/$name/checkpoints/step-* | tail -1)
  python3 -m spanbert_edu export "$last" "/tmp/$name-export" --half >> "$OUT/$name.log" 2>&1
  cp "/tmp/$name-export/config.json" "$OUT/$name.export.json"
}
run recipe_b32 ${BUDGET:-330} --batch-size 32 --lr 5e-4 &
run recipe_b128 ${BUDGET:-330} --batch-size 128 --lr 1e-3 &
wait
tail -n 3 "$OUT"/*.log
