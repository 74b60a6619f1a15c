#!/usr/bin/env bash
# The paper's ablations on coco-mini, reusing the bundles and cached features of
# scripts/coco-run.sh: sampling strategy and k (same localizers, new segmenter each), and the
# pixel-softmax localizers (all 22 retrained). Prints one line per variant: name mIoU.
#   scripts/ablations.sh [RUN_DIR]     (RUN_DIR default: out/coco-run)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
RUN=${1:-out/coco-run}
BIN=${DIVSEG_BIN:-.build/release/divseg-registry}
CACHE=${DIVSEG_CACHE:-.divseg-cache/features}
DATA="coco:$SHARED/data/coco-mini"
OUT=$RUN/ablations
mkdir -p "$OUT"
variant() {  # name, then retrain options
  local name=$1; shift
  local reg=$OUT/$name
  mkdir -p "$reg"
  for b in "$RUN"/classes/*/; do ln -sfn "$(cd "$b" && pwd)" "$reg/$(basename "$b")"; done
  "$BIN" retrain --registry "$reg" --data-root "$SHARED/data/coco-mini" --cache "$CACHE" "$@" > "$OUT/$name.retrain.log"
  "$BIN" evaluate --registry "$reg" --dataset "$DATA" --split val --cache "$CACHE" \
    --save-json "$OUT/$name.json" > "$OUT/$name.txt"
  echo "$name $(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['mIoU'], 2))" "$OUT/$name.json")"
}
for k in ${KS:-1 5 10 50}; do variant "diverse-k$k" --points "$k"; done
for s in ${STRATEGIES:-top spatial}; do variant "$s-k20" --sampling "$s"; done
if [ "${PIXEL:-1}" = 1 ]; then
  reg=$OUT/pixel-softmax
  mkdir -p "$reg"
  for c in $(ls "$RUN/classes" | grep -v segmenter); do
    "$BIN" train "$c" --dataset "$DATA" --split train --out "$reg/$c" --loss pixel-softmax --cache "$CACHE" >> "$OUT/pixel-softmax.train.log"
  done
  "$BIN" retrain --registry "$reg" --data-root "$SHARED/data/coco-mini" --cache "$CACHE" > "$OUT/pixel-softmax.retrain.log"
  "$BIN" evaluate --registry "$reg" --dataset "$DATA" --split val --cache "$CACHE" \
    --save-json "$OUT/pixel-softmax.json" > "$OUT/pixel-softmax.txt"
  echo "pixel-softmax $(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['mIoU'], 2))" "$OUT/pixel-softmax.json")"
fi
