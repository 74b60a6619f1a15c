#!/usr/bin/env bash
# MSRC-21 run of issue #11: one CAM-style bundle per MSRC-21 class trained on the Train tags
# of ../shared/data/msrc21-trainval, the segmenter retrained on them, evaluated on Validation
# (mIoU, global and average accuracy), and the CAM peer with the same split beside it.
# Every pixel of MSRC-21 belongs to a class, so the registry is retrained with
# --background none (no invented background); BACKGROUND=threshold gives the COCO rule.
#   scripts/msrc-run.sh [OUT]          (OUT default: out/msrc-run)
# Environment: DIVSEG_SHARED (default ../shared), DIVSEG_CACHE, DIVSEG_BIN,
# BACKGROUND (none), SKIP_TRAIN=1 to reuse the bundles in OUT/classes, SKIP_PEER=1.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
OUT=${1:-out/msrc-run}
REG=$OUT/classes
CACHE=${DIVSEG_CACHE:-.divseg-cache/features}
BIN=${DIVSEG_BIN:-.build/release/divseg-registry}
DATA="coco:$SHARED/data/msrc21-trainval"
CLASSES=(building grass tree cow sheep sky aeroplane water face car bicycle flower sign bird book chair
         road cat dog body boat)
mkdir -p "$REG" "$OUT"
: > "$OUT/times.txt"
stamp() { date +%s.%N; }
if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  t0=$(stamp)
  for c in "${CLASSES[@]}"; do
    "$BIN" train "$c" --dataset "$DATA" --split train --out "$REG/$c" --force --cache "$CACHE" | tee -a "$OUT/train.log"
  done
  echo "train_localizers $(echo "$(stamp) - $t0" | bc)" >> "$OUT/times.txt"
fi
t0=$(stamp)
"$BIN" retrain --registry "$REG" --data-root "$SHARED/data/msrc21-trainval" --cache "$CACHE" \
  --background "${BACKGROUND:-none}" | tee "$OUT/retrain.log"
echo "retrain $(echo "$(stamp) - $t0" | bc)" >> "$OUT/times.txt"
t0=$(stamp)
"$BIN" evaluate --registry "$REG" --dataset "$DATA" --split val --cache "$CACHE" \
  --json-out "$OUT/evaluate.json" | tee "$OUT/evaluate.txt"
echo "evaluate $(echo "$(stamp) - $t0" | bc)" >> "$OUT/times.txt"
if [ "${SKIP_PEER:-0}" != 1 ]; then
  t0=$(stamp)
  "$BIN" baseline-cam --dataset "$DATA" --train-split train --eval-split val \
    --classes "$(IFS=,; echo "${CLASSES[*]}")" --cache "$CACHE" --json-out "$OUT/cam-peer.json" | tee "$OUT/cam-peer.txt"
  echo "cam_peer $(echo "$(stamp) - $t0" | bc)" >> "$OUT/times.txt"
fi
cat "$OUT/times.txt"
