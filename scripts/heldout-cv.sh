#!/usr/bin/env bash
# Issue #11, levers 8 and 9: the held-out protocol prediction settings are chosen with. The 258
# train2017 images of coco-mini are split in two folds (even / odd positions in path order);
# for each fold, all 22 localizers and the segmenter are trained on that fold's tags only
# (seed S), and `evaluate` scores the other fold's masks — train images that no part of the
# model has seen, as val2017's are unseen. Prints mIoU per fold and their mean.
#   scripts/heldout-cv.sh NAME SEED [evaluate options...]
#   e.g. scripts/heldout-cv.sh default 0                     # the default (maps x 16 + rules + CRF at half size)
#        scripts/heldout-cv.sh w16 0 --no-crf                # lever 9's default (no CRF)
#        scripts/heldout-cv.sh w0 0 --localizer-weight 0 --no-crf   # lever 8's rules alone
#        scripts/heldout-cv.sh plain 0 --no-adjust           # the plain argmax
#        scripts/heldout-cv.sh tta 0 --tta                   # with the test-time flip
#        scripts/heldout-cv.sh crf1 0 --crf-resolution 1     # the CRF on every pixel
# Writes out/heldout-cv/{fold-A.txt,fold-B.txt,loc-A,loc-B,NAME/...}; the fold registries are
# built once per seed and reused. Environment: DIVSEG_SHARED (default ../shared),
# DIVSEG_CACHE, DIVSEG_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=$1; SEED=$2; shift 2
SHARED=${DIVSEG_SHARED:-../shared}
BIN=${DIVSEG_BIN:-.build/release/divseg-registry}
DATA="coco:$SHARED/data/coco-mini"
ROOT=out/heldout-cv
CLASSES=(aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse motorbike
         person pottedplant sheep sofa train tvmonitor giraffe elephant)
mkdir -p "$ROOT/$NAME"
if [ ! -s "$ROOT/fold-A.txt" ]; then
  python3 - "$ROOT" <<'PY'
import csv, os, sys
rows = list(csv.reader(open("classes/giraffe/corpus.csv", newline="")))
body = sorted(rows[1:], key=lambda r: r[0])
ids = [os.path.splitext(os.path.basename(r[0]))[0] for r in body]
for name, part in (("A", ids[0::2]), ("B", ids[1::2])):
    with open(os.path.join(sys.argv[1], f"fold-{name}.txt"), "w") as f:
        f.write("\n".join(part) + "\n")
PY
fi
scores=()
for fold in A B; do
  other=$([ $fold = A ] && echo B || echo A)
  loc=$ROOT/loc-$fold
  if [ ! -d "$loc" ]; then
    mkdir -p "$loc.partial"
    for c in "${CLASSES[@]}"; do
      # A class with no tagged image in the fold has no bundle there (sheep in A, cow in B).
      "$BIN" train "$c" --dataset "$DATA" --split "$ROOT/fold-$fold.txt" --out "$loc.partial/$c" > /dev/null 2>&1 \
        || echo "note: no '$c' bundle in fold $fold (no tagged image)" >&2
    done
    mv "$loc.partial" "$loc"
  fi
  reg=$ROOT/seed$SEED/$fold/classes
  if [ ! -f "$reg/segmenter.h5" ]; then
    rm -rf "$reg"; mkdir -p "$(dirname "$reg")"; cp -r "$loc" "$reg"
    "$BIN" retrain --registry "$reg" --data-root "$SHARED/data/coco-mini" --seed "$SEED" > "$ROOT/seed$SEED/$fold/retrain.log" 2>&1
  fi
  json=$ROOT/$NAME/seed$SEED-$fold.json
  "$BIN" evaluate --registry "$reg" --dataset "$DATA" --split "$ROOT/fold-$other.txt" "$@" --json-out "$json" > /dev/null
  scores+=("$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['mIoU'])" "$json")")
done
python3 - "$NAME" "$SEED" "${scores[@]}" <<'PY'
import sys
name, seed, a, b = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
print(f"{name} seed {seed}: held-out mIoU fold A {a:.2f}, fold B {b:.2f}, mean {(a + b) / 2:.2f}")
PY
