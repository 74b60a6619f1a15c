#!/usr/bin/env bash
# The main job so far: hypercolumn features of real COCO images with the real VGG-16
# weights, checked against the independent reference vectors.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
OUT=${1:-out/features}
images=("$SHARED"/data/coco-mini/images/000000000025.jpg "$SHARED"/data/coco-mini/images/000000000139.jpg
        "$SHARED"/testdata/vgg16-reference/000000000061_256x336.png)
.build/release/divseg-registry features "${images[@]}" --out "$OUT" --weights "$SHARED/models/vgg16_imagenet_notop.h5"
ls -l "$OUT"
.build/release/ExtractFeatures "$SHARED/data/coco-mini/images/000000000025.jpg" "$SHARED/models/vgg16_imagenet_notop.h5"
