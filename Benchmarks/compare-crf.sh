#!/usr/bin/env bash
# Dense CRF: ours (CRFBenchmark, 1 thread and all cores) against the peer pydensecrf2 (the
# reference C++ implementation of Krähenbühl & Koltun, single-threaded) in the same run, on
# the same input: a real 500×375 COCO image, 21 labels, segmenter-like probabilities (64×84
# logits from the image's mask plus noise, bilinearly upsampled, softmax), default parameters
# (Gaussian sxy 3 / weight 3, bilateral sxy 80 / srgb 13 / weight 10), 10 iterations. Both
# sides are timed end to end: probabilities + image in, marginals out (unaries, both lattices
# and their normalisation, inference). The two sides alternate for ROUNDS rounds so that a
# shared machine's changing load hits both alike; each round prints its medians, the summary
# the median over rounds. Also prints how closely the two results agree.
#
#   Benchmarks/compare-crf.sh [RUNS] [ROUNDS]     (default 10 timed runs per side and round, 3 rounds)
#
# Environment: DIVSEG_SHARED (default ../shared), CRF_VENV (a Python venv for the peer,
# created with pydensecrf2, numpy and pillow when missing; default /tmp/crf-venv),
# SWIFT_SCRATCH (SwiftPM scratch path, default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DIVSEG_SHARED:-../shared}
RUNS=${1:-10}
ROUNDS=${2:-3}
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

# The peer: `prepare` writes the shared input (probs.f32, [21, H, W]) and the peer's
# marginals; `time N` prints the median seconds of N runs after a warm-up.
cat >"$WORK/peer.py" <<'PY'
import sys, time
import numpy as np
from PIL import Image
import pydensecrf.densecrf as dcrf
mode, image_path, mask_path, work = sys.argv[1:5]
img = np.ascontiguousarray(np.array(Image.open(image_path).convert('RGB')))
H, W, _ = img.shape
L = 21
if mode == 'prepare':
    mask = np.array(Image.open(mask_path))
    coarse = np.array(Image.fromarray(mask).resize((84, 64), Image.NEAREST))
    labels = np.where(coarse > 0, 1 + coarse % 20, 0)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(L, 64, 84)).astype(np.float32) * 1.5
    for l in range(L):
        logits[l][labels == l] += 3.0
    up = np.stack([np.array(Image.fromarray(logits[l]).resize((W, H), Image.BILINEAR)) for l in range(L)])
    p = np.exp(up - up.max(0))
    (p / p.sum(0)).astype(np.float32).tofile(work + '/probs.f32')
p = np.fromfile(work + '/probs.f32', dtype=np.float32).reshape(L, H, W)

def run():
    d = dcrf.DenseCRF2D(W, H, L)
    d.setUnaryEnergy(np.ascontiguousarray(-np.log(p).reshape(L, -1)))
    d.addPairwiseGaussian(sxy=3, compat=3)
    d.addPairwiseBilateral(sxy=80, srgb=13, rgbim=img, compat=10)
    return np.array(d.inference(10), dtype=np.float32)

if mode == 'prepare':
    run().reshape(L, H, W).tofile(work + '/peer.f32')
    print(f"{W}x{H}")
else:
    run()
    times = []
    for _ in range(int(sys.argv[5])):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(f"{np.median(times):.6f}")
PY
peer() {     # prepare | time N
    local mode=$1
    shift
    OMP_NUM_THREADS=1 "$VENV/bin/python" "$WORK/peer.py" "$mode" "$IMAGE" "$MASK" "$WORK" "$@"
}
ours() {     # [FILE]: also write our marginals there
    DIVSEG_SHARED=$SHARED DIVSEG_CRF_IMAGE=$IMAGE DIVSEG_CRF_PROBS=$WORK/probs.f32 DIVSEG_CRF_OUT=${1:-} \
        "$SCRATCH/release/CRFBenchmark" --format json --iterations "$RUNS" --warmup-iterations 2 2>/dev/null
}

SIZE=$(peer prepare)
ours "$WORK/ours.f32" >/dev/null     # our marginals, for the agreement check
: >"$WORK/rounds.txt"
for round in $(seq "$ROUNDS"); do
    echo "peer $(peer time "$RUNS")" >>"$WORK/rounds.txt"
    echo "ours $(ours | tr -d '\n')" >>"$WORK/rounds.txt"
done

"$VENV/bin/python" - "$WORK" "$SIZE" <<'PY'
import json, os, sys
import numpy as np
work, size = sys.argv[1], sys.argv[2]
W, H = map(int, size.split("x"))
rounds, peer = [], None
for line in open(work + "/rounds.txt"):
    kind, payload = line.split(" ", 1)
    if kind == "peer":
        peer = float(payload)
    else:
        ours = {b["name"]: b["time"] / 1e9 for b in json.loads(payload)["benchmarks"]}
        get = lambda setup, single: next(v for k, v in ours.items()
                                         if k.startswith("crf_setup_") == setup and k.endswith("_1thread") == single)
        threads = next(k for k in ours if not k.startswith("crf_setup_") and not k.endswith("_1thread")).rsplit("_", 1)[1]
        rounds.append(dict(peer=peer, single=get(False, True), multi=get(False, False),
                           setup1=get(True, True), setupN=get(True, False)))
threads = threads.replace("threads", " threads")
print(f"dense CRF, {W}x{H}, 21 labels, 10 iterations (load average now {os.getloadavg()[0]:.1f})")
for i, r in enumerate(rounds, 1):
    print(f"  round {i}: peer {r['peer']:.4f} s, ours 1 thread {r['single']:.4f} s ({r['single'] / r['peer']:.2f}x), "
          f"{threads} {r['multi']:.4f} s ({r['multi'] / r['peer']:.2f}x)")
med = {k: float(np.median([r[k] for r in rounds])) for k in rounds[0]}
ratio1 = float(np.median([r["single"] / r["peer"] for r in rounds]))
ratioN = float(np.median([r["multi"] / r["peer"] for r in rounds]))
print(f"ours  1 thread         {med['single']:.4f} s   ratio ours/peer {ratio1:.2f}x  (target <= 1.00x)")
print(f"ours  {threads:<16} {med['multi']:.4f} s   ratio ours/peer {ratioN:.2f}x  "
      f"(speed-up {med['single'] / med['multi']:.2f}x over 1 thread)")
print(f"peer  pydensecrf2      {med['peer']:.4f} s   (OMP_NUM_THREADS=1)")
print(f"ours, of which setup (lattices, normalisation, conversions): {med['setup1']:.4f} s 1 thread, "
      f"{med['setupN']:.4f} s {threads}")
a = np.fromfile(work + "/ours.f32", dtype=np.float32).reshape(21, H, W)
b = np.fromfile(work + "/peer.f32", dtype=np.float32).reshape(21, H, W)
print(f"agreement: max |Q_ours - Q_peer| {np.abs(a - b).max():.1e}, labels equal on "
      f"{100 * (a.argmax(0) == b.argmax(0)).mean():.3f} % of the pixels")
PY
