#!/usr/bin/env bash
# The main job, in two steps.
# 1. Segment real COCO images with the default registry in classes/ (22 classes learned from
#    image tags only): label PNGs, colour overlays and a giraffe heat map.
# 2. Teach it a new class: train a zebra bundle from coco-mini's train2017 tags, add it to a
#    copy of the registry (which retrains the shared segmenter on every corpus image, found
#    through --data-root: bundles record no path of the machine that built them), and
#    segment a held-out val2017 zebra. ~4 CPU-minutes with a cold feature cache (the
#    backbone over 258 images; 7–12 min wall measured on 2 busy cores), less when warm.
#   scripts/demo.sh [OUT]        (OUT default: out/demo; DIVSEG_SHARED: the shared folder,
#                                 default ../shared; DIVSEG_BIN: the divseg-registry binary)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
OUT=${1:-out/demo}
BIN=${DIVSEG_BIN:-.build/release/divseg-registry}
WEIGHTS="$SHARED/models/vgg16_imagenet_notop.h5"
COCO="$SHARED/data/coco-mini"
images=("$COCO"/images/000000153299.jpg    # giraffe (val2017: not trained on)
        "$COCO"/images/000000007108.jpg    # elephant (val2017)
        "$COCO"/images/000000000139.jpg)   # val2017: people, chairs, a tv, a potted plant
mkdir -p "$OUT"
echo "== 1. segment with the default registry (classes/)"
"$BIN" list --registry classes --weights "$WEIGHTS"
"$BIN" segment "${images[@]}" --registry classes --out "$OUT" --weights "$WEIGHTS"
"$BIN" localize giraffe "${images[0]}" --registry classes --out "$OUT/000000153299_giraffe_heat.png" --weights "$WEIGHTS"

echo "== 2. a new class: zebra, from the train2017 tags of coco-mini (3 tagged images)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The registry's files only: its sample store (.samples, hidden) and settings.json (this
# machine's data root) stay behind,
# as in a fresh clone.
mkdir "$tmp/registry"
cp -R classes/* "$tmp/registry/"
rm -f "$tmp/registry/settings.json"
start=$SECONDS
"$BIN" train zebra --dataset "coco:$COCO" --split train --out "$tmp/zebra" --weights "$WEIGHTS"
"$BIN" add "$tmp/zebra" --registry "$tmp/registry" --data-root "$COCO" --weights "$WEIGHTS"
zebra="$COCO/images/000000001818.jpg"              # zebras (val2017: not trained on)
"$BIN" segment "$zebra" --registry "$tmp/registry" --out "$OUT" --weights "$WEIGHTS"
echo "step 2 took $((SECONDS - start)) s"
ls -l "$OUT"
