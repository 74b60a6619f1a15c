#!/usr/bin/env bash
# Dense CRF: ours (CRFBenchmark, 1 thread and all cores) against the peer pydensecrf2 (the
# reference C++ implementation of Krähenbühl & Koltun, single-threaded) in the same run, on
# the same input: a real 500×375 COCO image, 21 labels, segmenter-like probabilities (64×84
# logits from the image's mask plus noise, bilinearly upsampled, softmax), default parameters
# (Gaussian sxy 3 / weight 3, bilateral sxy 80 / srgb 13 / weight 10), 10 iterations. Both
# sides are timed end to end: probabilities + image in, marginals out (unaries, both lattices
# and their normalisation, inference). Also prints how closely the two results agree.
#
#   Benchmarks/compare-crf.sh [RUNS]          (default 10 timed runs per side)
#
# Environment: DIVSEG_SHARED (default ../shared), CRF_VENV (a Python venv for the peer,
# created with pydensecrf2, numpy and pillow when missing; default /tmp/crf-venv),
# SWIFT_SCRATCH (SwiftPM scratch path, default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
RUNS=${1:-10}
VENV=${CRF_VENV:-/tmp/crf-venv}
SCRATCH=${SWIFT_SCRATCH:-.build}
ID=000000000077
IMAGE=$SHARED/data/coco-mini/images/$ID.jpg
MASK=$SHARED/data/coco-mini/masks/$ID.png
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if ! "$VENV/bin/python" -c "import pydensecrf.densecrf, numpy, PIL" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pydensecrf2 numpy pillow
fi
if ! swift build -c release --scratch-path "$SCRATCH" --product CRFBenchmark >"$WORK/build.log" 2>&1; then
    cat "$WORK/build.log" >&2
    exit 1
fi

# The peer writes the shared input (probs.f32, [21, 375, 500]) and its marginals.
peer=$(OMP_NUM_THREADS=1 "$VENV/bin/python" - "$IMAGE" "$MASK" "$WORK" "$RUNS" <<'PY'
import sys, time
import numpy as np
from PIL import Image
import pydensecrf.densecrf as dcrf
image_path, mask_path, work, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
img = np.ascontiguousarray(np.array(Image.open(image_path).convert('RGB')))
H, W, _ = img.shape
L = 21
mask = np.array(Image.open(mask_path))
coarse = np.array(Image.fromarray(mask).resize((84, 64), Image.NEAREST))
labels = np.where(coarse > 0, 1 + coarse % 20, 0)
rng = np.random.default_rng(0)
logits = rng.normal(size=(L, 64, 84)).astype(np.float32) * 1.5
for l in range(L):
    logits[l][labels == l] += 3.0
up = np.stack([np.array(Image.fromarray(logits[l]).resize((W, H), Image.BILINEAR)) for l in range(L)])
p = np.exp(up - up.max(0))
p = (p / p.sum(0)).astype(np.float32)
p.tofile(work + '/probs.f32')

def run():
    d = dcrf.DenseCRF2D(W, H, L)
    d.setUnaryEnergy(np.ascontiguousarray(-np.log(p).reshape(L, -1)))
    d.addPairwiseGaussian(sxy=3, compat=3)
    d.addPairwiseBilateral(sxy=80, srgb=13, rgbim=img, compat=10)
    return np.array(d.inference(10), dtype=np.float32)

run()                                   # warm-up
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    q = run()
    times.append(time.perf_counter() - t0)
q.reshape(L, H, W).tofile(work + '/peer.f32')
print(f"peer_seconds {np.median(times):.4f}")
print(f"size {W}x{H}")
PY
)
ours=$(DIVSEG_SHARED=$SHARED DIVSEG_CRF_IMAGE=$IMAGE DIVSEG_CRF_PROBS=$WORK/probs.f32 DIVSEG_CRF_OUT=$WORK/ours.f32 \
    "$SCRATCH/release/CRFBenchmark" --format json --iterations "$RUNS" --warmup-iterations 2 2>/dev/null)

"$VENV/bin/python" - "$ours" "$peer" "$WORK" <<'PY'
import json, os, sys
import numpy as np
ours = {b["name"]: b["time"] / 1e9 for b in json.loads(sys.argv[1])["benchmarks"]}
lines = dict(l.split() for l in sys.argv[2].splitlines())
peer = float(lines["peer_seconds"])
W, H = map(int, lines["size"].split("x"))
full = {k: v for k, v in ours.items() if not k.startswith("crf_setup_")}
setup = {k: v for k, v in ours.items() if k.startswith("crf_setup_")}
single = next(v for k, v in full.items() if k.endswith("_1thread"))
multi_name, multi = next((k, v) for k, v in full.items() if not k.endswith("_1thread"))
threads = multi_name.rsplit("_", 1)[1].replace("threads", " threads")
print(f"dense CRF, {W}x{H}, 21 labels, 10 iterations, medians (load average {os.getloadavg()[0]:.1f})")
print(f"ours  1 thread         {single:.4f} s   ratio ours/peer {single / peer:.2f}x  (target <= 1.00x)")
print(f"ours  {threads:<16} {multi:.4f} s   ratio ours/peer {multi / peer:.2f}x  (speed-up {single / multi:.2f}x over 1 thread)")
print(f"peer  pydensecrf2      {peer:.4f} s   (OMP_NUM_THREADS=1)")
setup_single = next(v for k, v in setup.items() if k.endswith("_1thread"))
setup_multi = next(v for k, v in setup.items() if not k.endswith("_1thread"))
print(f"ours, of which setup (lattices, normalisation, conversions): {setup_single:.4f} s 1 thread, "
      f"{setup_multi:.4f} s {threads}")
a = np.fromfile(sys.argv[3] + "/ours.f32", dtype=np.float32).reshape(21, H, W)
b = np.fromfile(sys.argv[3] + "/peer.f32", dtype=np.float32).reshape(21, H, W)
print(f"agreement: max |Q_ours - Q_peer| {np.abs(a - b).max():.1e}, labels equal on "
      f"{100 * (a.argmax(0) == b.argmax(0)).mean():.3f} % of the pixels")
PY
