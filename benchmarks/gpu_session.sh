#!/usr/bin/env bash
# Issue 19's GPU part, as one script for a lent GPU machine (no network there; about 8 minutes):
#   OUT=results/gpu bash benchmarks/gpu_session.sh [DOCS_PATH]
# 1. gpu_report.py --preset base --compile: fp32, bf16, bf16 + torch.compile at 32 x 512 on
#    packed blocks (no padding, so SDPA may take flash; the report says whether it can), MFU;
# 2. the 4x-batch run of docs/gpu.md (small, 128 x 128, lr 1e-3, 16,000 steps; it reached
#    step 14,000 in 311 s alone) run to its end; its last checkpoint exported in fp16, with the
#    run's metrics.jsonl, into $OUT (so it comes back and can be bundled) and scored like the
#    bundled one (masks seed 1234);
# 3. gpu_report.py --preset small at 32 x 128, if time is left.
# B128_BUDGET (seconds; default: what is left of 520 s after step 1) bounds step 2. STEPS,
# SAVE_EVERY and CORPUS=default (where the CPython documentation sources are missing: DOCS_PATH,
# or the python3-doc package) make a dry run of it anywhere.
set -u
OUT=${OUT:-results/gpu}; DOCS=${1:-}; mkdir -p "$OUT"
export PYTHONPATH=$PWD
nvidia-smi -L; python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
python3 benchmarks/gpu_report.py --preset base --compile 2>&1 | tee "$OUT/gpu_report.txt"
docs=(); [ -n "$DOCS" ] && docs=(--docs-path "$DOCS")
name=b128_16k
rm -rf "/tmp/$name"  # a fresh run: the run folder refuses to start over an earlier one
budget=${B128_BUDGET:-$((520 - SECONDS))}; [ "$budget" -lt 60 ] && budget=60
t0=$SECONDS
timeout "$budget" python3 -m spanbert_edu pretrain --preset small --corpus "${CORPUS:-default+python-docs}" \
  --eval-corpus default ${docs[@]+"${docs[@]}"} --steps "${STEPS:-16000}" --batch-size 128 --max-length 128 --lr 1e-3 \
  --warmup 320 --dropout 0 --seed 0 --eval-every 1000 --save-every "${SAVE_EVERY:-1000}" --log-every 50 \
  --no-report --out "/tmp/$name" > "$OUT/$name.log" 2>&1
echo "$name: exit $?, wall $((SECONDS - t0)) s" | tee -a "$OUT/$name.log"
last=$(ls -d /tmp/$name/checkpoints/step-* 2>/dev/null | tail -1)  # zero-padded: the last is the latest
if [ -n "$last" ]; then
  echo "exporting $last" | tee -a "$OUT/$name.log"
  rm -rf "$OUT/$name-export"
  python3 -m spanbert_edu export "$last" "$OUT/$name-export" --half >> "$OUT/$name.log" 2>&1
fi
tail -n 4 "$OUT/$name.log"
python3 benchmarks/gpu_report.py --preset small --batch-size 32 --max-length 128 2>&1 | tee -a "$OUT/gpu_report.txt"
