#!/usr/bin/env bash
# The real run of issue #3: train the 20 VOC classes plus giraffe and elephant on the
# train2017 images of coco-mini (tags only), train the segmenter, evaluate on val2017.
#   scripts/coco-run.sh [OUT]          (OUT default: out/coco-run)
# Environment: DIVSEG_SHARED (default ../shared), LOSS (global-softmax), SAMPLING (diverse),
# POINTS (20), LOCALIZER (mlp or cam), SKIP_TRAIN=1 to reuse the bundles already in OUT/classes.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
OUT=${1:-out/coco-run}
REG=$OUT/classes
CACHE=${DIVSEG_CACHE:-.divseg-cache/features}
BIN=${DIVSEG_BIN:-.build/release/divseg-registry}
DATA="coco:$SHARED/data/coco-mini"
LOSS=${LOSS:-global-softmax}
CLASSES=(aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse motorbike
         person pottedplant sheep sofa train tvmonitor giraffe elephant)
mkdir -p "$REG" "$OUT"
: > "$OUT/times.txt"
stamp() { date +%s.%N; }
if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  t0=$(stamp)
  for c in "${CLASSES[@]}"; do
    "$BIN" train "$c" --dataset "$DATA" --split train --out "$REG/$c" --loss "$LOSS" --localizer "${LOCALIZER:-mlp}" --cache "$CACHE" \
      | tee -a "$OUT/train.log"
  done
  echo "train_localizers $(echo "$(stamp) - $t0" | bc)" >> "$OUT/times.txt"
fi
t0=$(stamp)
"$BIN" retrain --registry "$REG" --data-root "$SHARED/data/coco-mini" --cache "$CACHE" --sampling "${SAMPLING:-diverse}" --points "${POINTS:-20}" \
  | tee "$OUT/retrain.log"
echo "retrain $(echo "$(stamp) - $t0" | bc)" >> "$OUT/times.txt"
t0=$(stamp)
"$BIN" evaluate --registry "$REG" --dataset "$DATA" --split val --json-out "$OUT/evaluate.json" | tee "$OUT/evaluate.txt"
echo "evaluate $(echo "$(stamp) - $t0" | bc)" >> "$OUT/times.txt"
cat "$OUT/times.txt"
