#!/usr/bin/env bash
# One row of issue #11's label-lever table: a scratch copy of the shipped registry (classes/),
# its segmenter retrained with the given retrain options, then scored.
#   scripts/label-variant.sh NAME SPLIT [retrain options...]
#     SPLIT: train  (the first 100 train2017 images with masks: what settings are chosen on)
#            val    (val2017, reported once per row)
#            heldout (the segmenter is trained on half of the train2017 images — every bundle's
#                    corpus.csv restricted to the even positions in path order — and scored on
#                    the masks of the other half: a choice on train images the segmenter has
#                    not seen, as val2017 images are unseen; ids in NAME/{fit,held-out}.txt)
#   e.g. scripts/label-variant.sh st1 train --self-training-rounds 1
# Writes out/label-variants/NAME/{classes,retrain.log,SPLIT.json,times.txt} and prints
# mIoU over background + 22 classes and background + 20 VOC classes. The sample store is
# shared between variants (out/label-variants/.samples; its keys name every setting that
# changes the picks), so only the first run samples every image. Environment: DIVSEG_SHARED
# (default ../shared), DIVSEG_CACHE, DIVSEG_BIN. SKIP_RETRAIN=1 scores an existing variant.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=$1; SPLIT=$2; shift 2
SHARED=${DIVSEG_SHARED:-../shared}
BIN=${DIVSEG_BIN:-.build/release/divseg-registry}
ROOT=out/label-variants
OUT=$ROOT/$NAME
REG=$OUT/classes
mkdir -p "$ROOT/.samples" "$OUT"
if [ "${SKIP_RETRAIN:-0}" != 1 ]; then
  rm -rf "$REG"
  cp -r classes "$REG"
  rm -rf "$REG/.samples"
  if [ "$SPLIT" = heldout ]; then
    python3 - "$REG" "$OUT" <<'PY'
import csv, glob, io, os, sys
reg, out = sys.argv[1], sys.argv[2]
halves = None
for path in sorted(glob.glob(os.path.join(reg, "*", "corpus.csv"))):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], sorted(rows[1:], key=lambda r: r[0])
    fit = body[0::2]
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header] + fit)
    names = lambda rs: [os.path.splitext(os.path.basename(r[0]))[0] for r in rs]
    halves = halves or (names(fit), names(body[1::2]))
for name, ids in zip(["fit", "held-out"], halves):
    with open(os.path.join(out, name + ".txt"), "w") as f:
        f.write("\n".join(ids) + "\n")
PY
  fi
  ln -s "$(cd "$ROOT/.samples" && pwd)" "$REG/.samples"
  t0=$(date +%s.%N)
  "$BIN" retrain --registry "$REG" --data-root "$SHARED/data/coco-mini" "$@" 2>&1 | tee "$OUT/retrain.log"
  echo "retrain $(echo "$(date +%s.%N) - $t0" | bc)" >> "$OUT/times.txt"
fi
case "$SPLIT" in
  train) args=(--split train --limit 100) ;;
  val) args=(--split val) ;;
  heldout) args=(--split "$OUT/held-out.txt") ;;
  *) echo "SPLIT must be train, val or heldout" >&2; exit 2 ;;
esac
t0=$(date +%s.%N)
"$BIN" evaluate --registry "$REG" --dataset "coco:$SHARED/data/coco-mini" "${args[@]}" --json-out "$OUT/$SPLIT.json" > "$OUT/$SPLIT.txt"
echo "evaluate-$SPLIT $(echo "$(date +%s.%N) - $t0" | bc)" >> "$OUT/times.txt"
python3 - "$OUT/$SPLIT.json" "$NAME" "$SPLIT" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
pc = report["perClass"]
voc = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
       "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]
v = [pc[c] for c in voc if pc.get(c) is not None]
print(f"{sys.argv[2]} {sys.argv[3]}: mIoU bg+22 {report['mIoU']:.2f}, bg+20 {sum(v) / len(v):.2f}")
PY
