#!/usr/bin/env bash
# The main job: segment real COCO images with the default registry in classes/ (22 classes
# learned from image tags only), write label PNGs, colour overlays and a giraffe heat map.
#   scripts/demo.sh [OUT]        (OUT default: out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
OUT=${1:-out/demo}
BIN=.build/release/divseg-registry
WEIGHTS="$SHARED/models/vgg16_imagenet_notop.h5"
images=("$SHARED"/data/coco-mini/images/000000153299.jpg    # giraffe (val2017: not trained on)
        "$SHARED"/data/coco-mini/images/000000007108.jpg    # elephant (val2017)
        "$SHARED"/data/coco-mini/images/000000000139.jpg)   # val2017: people, chairs, a tv, a potted plant
mkdir -p "$OUT"
"$BIN" list --registry classes
"$BIN" segment "${images[@]}" --registry classes --out "$OUT" --weights "$WEIGHTS"
"$BIN" localize giraffe "${images[0]}" --registry classes --out "$OUT/000000153299_giraffe_heat.png" --weights "$WEIGHTS"
ls -l "$OUT"
