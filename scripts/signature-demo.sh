#!/usr/bin/env bash
# The registry's signature demo (issue #4, item 7), measured:
#   1. a registry of the 20 VOC classes trained on coco-mini train2017 tags, segmenter trained;
#   2. giraffe and elephant bundles trained from coco-mini tags, then `add`ed (timed);
#   3. VOC-class mIoU on val2017 before and after; giraffe/elephant IoU after;
#   4. `remove giraffe`, `remove elephant` (timed) and a byte-for-byte check that the
#      predictions equal those made before the add.
#   scripts/signature-demo.sh [OUT]     (OUT default: out/signature)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
OUT=${1:-out/signature}
REG=$OUT/classes
BIN=${DIVSEG_BIN:-.build/release/divseg-registry}
export DIVSEG_CACHE=${DIVSEG_CACHE:-.divseg-cache/features}
DATA="coco:$SHARED/data/coco-mini"
VOC=(aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse motorbike
     person pottedplant sheep sofa train tvmonitor)
rm -rf "$OUT"; mkdir -p "$REG" "$OUT/new"
stamp() { date +%s.%N; }
since() { echo "$(stamp) - $1" | bc; }
: > "$OUT/times.txt"

t=$(stamp)
for c in "${VOC[@]}"; do "$BIN" train "$c" --dataset "$DATA" --split train --out "$REG/$c" > /dev/null; done
echo "train_20_voc_bundles $(since "$t")" >> "$OUT/times.txt"
t=$(stamp); "$BIN" retrain --registry "$REG" --data-root "$SHARED/data/coco-mini" | tee "$OUT/retrain.log"
echo "retrain_voc $(since "$t")" >> "$OUT/times.txt"
"$BIN" evaluate --registry "$REG" --dataset "$DATA" --split val --save-json "$OUT/before.json" > "$OUT/before.txt"

# The images whose predictions must come back unchanged: every val2017 image.
mapfile -t images < <(awk -F, -v d="$SHARED/data/coco-mini/images" 'NR>1 && $3=="val2017" {print d"/"$1}' \
  "$SHARED/data/coco-mini/tags.csv")
"$BIN" segment --registry "$REG" --out "$OUT/pred-before" "${images[@]}" > /dev/null

for c in giraffe elephant; do
  t=$(stamp); "$BIN" train "$c" --dataset "$DATA" --split train --out "$OUT/new/$c" > /dev/null
  echo "train_$c $(since "$t")" >> "$OUT/times.txt"
done
for c in giraffe elephant; do
  t=$(stamp); "$BIN" add "$OUT/new/$c" --registry "$REG" --data-root "$SHARED/data/coco-mini" | tee "$OUT/add-$c.log"
  echo "add_$c $(since "$t")" >> "$OUT/times.txt"
done
"$BIN" list --registry "$REG" | tee "$OUT/list-after-add.txt"
"$BIN" evaluate --registry "$REG" --dataset "$DATA" --split val --save-json "$OUT/after.json" > "$OUT/after.txt"
mapfile -t tagged < <(awk -F, -v d="$SHARED/data/coco-mini/images" 'NR>1 && $2 ~ /giraffe|elephant/ {print d"/"$1}' \
  "$SHARED/data/coco-mini/tags.csv")
"$BIN" segment --registry "$REG" --out "$OUT/giraffe-elephant" "${tagged[@]}" > "$OUT/giraffe-elephant.txt"

for c in giraffe elephant; do
  t=$(stamp); "$BIN" remove "$c" --registry "$REG" --data-root "$SHARED/data/coco-mini" | tee "$OUT/remove-$c.log"
  echo "remove_$c $(since "$t")" >> "$OUT/times.txt"
done
"$BIN" segment --registry "$REG" --out "$OUT/pred-after-remove" "${images[@]}" > /dev/null
"$BIN" verify --registry "$REG"
if diff -r "$OUT/pred-before" "$OUT/pred-after-remove" > /dev/null; then
  echo "predictions after remove: identical to before the add (${#images[@]} images)" | tee "$OUT/identical.txt"
else
  echo "predictions after remove: DIFFER from before the add" | tee "$OUT/identical.txt"
fi
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
voc = ["background","aeroplane","bicycle","bird","boat","bottle","bus","car","cat","chair","cow","diningtable",
       "dog","horse","motorbike","person","pottedplant","sheep","sofa","train","tvmonitor"]
def m(path):
    pc = json.load(open(path))["perClass"]
    v = [pc[c] for c in voc if pc.get(c) is not None]
    return sum(v) / len(v), pc
b, _ = m(f"{out}/before.json"); a, pc = m(f"{out}/after.json")
print(f"VOC-class mIoU (bg + 20) on val2017: before add {b:.2f}, after add {a:.2f} ({a - b:+.2f})")
print(f"after add: giraffe IoU {pc.get('giraffe')}, elephant IoU {pc.get('elephant')}")
PY
cat "$OUT/times.txt"
