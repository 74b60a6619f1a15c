#!/usr/bin/env bash
# Rebuilds the default registry in classes/ from scratch: the 20 VOC classes plus giraffe and
# elephant, CAM-style localizers trained on the train2017 tags of coco-mini (tags only), then
# the shared segmenter (dense labels, the default). About 3 minutes with a warm feature cache,
# 5–6 with a cold one (the backbone runs once per image). The manifests record the corpus as
# coco:coco-mini and corpus.csv relative paths, so the result works from any clone.
#   scripts/build-default-registry.sh [REGISTRY]     (default: classes)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
REG=${1:-classes}
BIN=${DIVSEG_BIN:-.build/release/divseg-registry}
DATA="coco:$SHARED/data/coco-mini"
CLASSES=(aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse motorbike
         person pottedplant sheep sofa train tvmonitor giraffe elephant)
rm -rf "$REG"
mkdir -p "$REG"
for c in "${CLASSES[@]}"; do
  "$BIN" train "$c" --dataset "$DATA" --split train --out "$REG/$c"
done
"$BIN" retrain --registry "$REG" --data-root "$SHARED/data/coco-mini"
# The bundles must be portable: they name their corpus (coco:coco-mini), never a folder of
# this machine, and corpus.csv paths are relative to it.
if grep -l -e '"dataRoot"' -e '"/' -e '\.\./' "$REG"/*/manifest.json; then
  echo "error: the manifests above record a machine path" >&2; exit 1
fi
"$BIN" list --registry "$REG"
du -sh "$REG"
