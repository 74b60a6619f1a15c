#!/usr/bin/env bash
# Times our 13-layer VGG-16 forward pass and hypercolumn assembly at 256×336 and, in the same
# run, the ONNX Runtime peer (../shared/bench/ort_vgg16.py), then prints the ratio.
#   Benchmarks/compare-backbone.sh [--iterations N]
# Needs: python3 with onnx onnxruntime h5py numpy pillow (pip install …) for the peer.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
ITER=${1:-20}
IMAGE=$SHARED/testdata/vgg16-reference/000000000025_256x336.png

swift build -c release --product BackboneBenchmark >/dev/null
ours=$(DIVSEG_SHARED=$SHARED .build/release/BackboneBenchmark --format json --iterations "$ITER" --warmup-iterations 3)
peer=$(python3 "$SHARED/bench/ort_vgg16.py" --threads 2 --runs "$ITER" "$IMAGE")
python3 - "$ours" "$peer" <<'PY'
import json, sys
ours = {b["name"]: b["time"] / 1e9 for b in json.loads(sys.argv[1])["benchmarks"]}
peer = float([l for l in sys.argv[2].splitlines() if l.startswith("ort_seconds_per_image")][0].split()[1])
conv, asm, e2e = ours["vgg16_conv13_256x336"], ours["hypercolumn_assembly"], ours["features_end_to_end_256x336"]
gflop = 52.6
print(f"ours  conv13 median  {conv:.4f} s  ({gflop / conv:.0f} GFLOP/s effective)")
print(f"ours  assembly       {asm:.4f} s  (+{100 * asm / conv:.1f} % of the forward pass)")
print(f"ours  end to end     {e2e:.4f} s  (preprocess + forward + assembly + global)")
print(f"peer  ORT conv13     {peer:.4f} s  ({gflop / peer:.0f} GFLOP/s)")
print(f"ratio ours/ORT       {conv / peer:.2f}x  (target <= 1.00x)")
if "segment_640x480_end_to_end" in ours:
    print(f"segment 640x480 e2e  {ours['segment_640x480_end_to_end']:.4f} s  (decode, features, 23-class segmenter, upsample, PNG; target <= 0.6 s)")
PY
