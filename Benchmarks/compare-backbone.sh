#!/usr/bin/env bash
# Times our 13-layer VGG-16 forward pass, the hypercolumn assembly and `features` end to end
# (6 COCO images in one process, file written) under one or more BLAS kernel settings, and in
# the same run the ONNX Runtime peer (../shared/bench/ort_vgg16.py); prints ratios to the peer.
#   Benchmarks/compare-backbone.sh [ITERATIONS] [SETTING…]
# A SETTING is `auto` (OPENBLAS_CORETYPE unset: divseg picks the kernel from the CPU's
# features, as on a user's machine), `env` (the environment as it is), or a kernel name to
# force (`Prescott` reproduces OpenBLAS 0.3.21's fallback on CPUs it does not know).
# Default settings: env auto. Each setting runs both convolution engines (oneDNN, the default,
# and the built-in Winograd one); ENGINES="onednn" limits that.
# Needs: python3 with onnx onnxruntime h5py numpy pillow.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
ITER=${1:-20}
shift || true
SETTINGS=("$@")
[ ${#SETTINGS[@]} -gt 0 ] || SETTINGS=(env auto)
IMAGE=$SHARED/testdata/vgg16-reference/000000000025_256x336.png
COCO=$SHARED/data/coco-mini/images
FEATURE_IMAGES=("$COCO"/000000000009.jpg "$COCO"/000000000025.jpg "$COCO"/000000000030.jpg
                "$COCO"/000000000034.jpg "$COCO"/000000000036.jpg "$COCO"/000000000042.jpg)
swift build -c release --product BackboneBenchmark >/dev/null
swift build -c release --product divseg-registry >/dev/null
B=.build/release/divseg-registry
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "date      $(date -u '+%Y-%m-%d %H:%M UTC')   load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')  (nproc $(nproc))"
"$B" doctor | sed -n 3p   # the CPU features divseg sees
peer=$(python3 "$SHARED/bench/ort_vgg16.py" --threads 2 --runs "$ITER" "$IMAGE" | awk '/^ort_seconds_per_image/ {print $2}')
printf 'peer      ONNX Runtime %s conv13 %.4f s\n' "$(python3 -c 'import onnxruntime; print(onnxruntime.__version__)')" "$peer"

for setting in "${SETTINGS[@]}"; do
  for engine in ${ENGINES:-onednn builtin}; do
    case $setting in
        env) run=(env DIVSEG_CONVOLUTION=$engine) ;;
        auto) run=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE DIVSEG_CONVOLUTION=$engine) ;;
        *) run=(env OPENBLAS_CORETYPE="$setting" DIVSEG_CONVOLUTION=$engine) ;;
    esac
    kernel=$("${run[@]}" "$B" doctor --json | python3 -c 'import json,sys; b=json.load(sys.stdin)["blas"]; print(b["kernel"], "(" + b["source"] + ")")')
    ours=$("${run[@]}" DIVSEG_SHARED="$SHARED" .build/release/BackboneBenchmark --format json --iterations "$ITER" --warmup-iterations 3)
    # Whole command on 6 images and on 1, so that the per-image cost without start-up
    # (weights, kernel generation) is the difference / 5.
    times=()
    for storage in float16 float32; do
        for images in 6 1; do
            rm -rf "$tmp/out"
            start=$(date +%s.%N)
            "${run[@]}" "$B" features "${FEATURE_IMAGES[@]:0:$images}" --out "$tmp/out" --storage "$storage" 2>/dev/null
            times+=("$(python3 -c "print($(date +%s.%N) - $start)")")
        done
    done
    python3 - "$setting, $engine" "$kernel" "$ours" "$peer" "${times[@]}" <<'PY'
import json, sys
setting, kernel, ours, peer = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
f16_6, f16_1, f32_6, f32_1 = map(float, sys.argv[5:9])
f16, f32 = f16_6 / 6, f32_6 / 6
f16m, f32m = (f16_6 - f16_1) / 5, (f32_6 - f32_1) / 5
ours = {b["name"]: b["time"] / 1e9 for b in json.loads(ours)["benchmarks"]}
conv, asm, e2e = ours["vgg16_conv13_256x336"], ours["hypercolumn_assembly"], ours["features_end_to_end_256x336"]
gflop = 52.6
print(f"\n[{setting}] kernel {kernel}")
print(f"  conv13 median        {conv:.4f} s  ({gflop / conv:.0f} GFLOP/s effective)   ratio to ORT {conv / peer:.2f}x (target <= 1.00x)")
print(f"  assembly             {asm:.4f} s  (+{100 * asm / conv:.1f} % of the forward pass)")
print(f"  features in memory   {e2e:.4f} s  (preprocess + forward + assembly + global)")
print(f"  features command     {f16:.3f} s/img float16, {f32:.3f} s/img float32 (6 JPEGs, one process, files written)"
      f"   ratio to ORT conv13 {f16 / peer:.2f}x / {f32 / peer:.2f}x (target <= 1.3x)")
print(f"  ... without start-up {f16m:.3f} s/img float16, {f32m:.3f} s/img float32"
      f"   ratio to ORT conv13 {f16m / peer:.2f}x / {f32m / peer:.2f}x")
if "segment_640x480_end_to_end" in ours:
    print(f"  segment 640x480 e2e  {ours['segment_640x480_end_to_end']:.4f} s  (target <= 0.6 s)")
PY
  done
done
