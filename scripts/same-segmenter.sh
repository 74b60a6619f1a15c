#!/usr/bin/env bash
# Fails unless two segmenter files hold the same weights bit for bit (their bytes also hold
# HDF5 object times, so `cmp` cannot tell). Uses h5py from the system's python3, or a venv of
# its own in VENV (default: a temporary folder).
#   scripts/same-segmenter.sh A.h5 B.h5 [VENV]
set -euo pipefail
python=python3
if ! python3 -c 'import h5py' 2>/dev/null; then
    venv=${3:-$(mktemp -d)/venv}
    [ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q h5py numpy; }
    python="$venv/bin/python"
fi
"$python" - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for n in ["hidden/kernel", "hidden/bias", "output/kernel", "output/bias", "input/mean", "input/std"]:
    assert np.array_equal(a[n][()].view(np.uint32), b[n][()].view(np.uint32)), f"segmenter {n} differs"
PY
