#!/usr/bin/env bash
# CI: the sharded stages on a real Slurm cluster (scripts/slurm-local.sh, single node). A small
# coco-mini pipeline — features of 32 train + 12 val images, sampling for a 3-class registry,
# evaluation on the 12 val images — runs as job arrays of 4 shards (`sbatch --wait`), is
# merged, and must equal the one-process run: the same feature-cache entries, the same
# sample-store entries, a bit-identical segmenter and byte-identical scores. Installs Slurm
# and munge itself when missing (Debian 12: slurm-wlm, munge); a few minutes on 2 cores.
# Uses .build/release/divseg-registry (built when missing) or $DIVSEG_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
export DIVSEG_SHARED=${DIVSEG_SHARED:-$(cd .. && pwd)/shared}
bin=${DIVSEG_BIN:-$PWD/.build/release/divseg-registry}
[ -x "$bin" ] || swift build -c release --product divseg-registry
work=$(mktemp -d)
export DIVSEG_SLURM_DIR=$work/slurm DIVSEG_SLURM_PORT=${DIVSEG_SLURM_PORT:-16817}
trap 'scripts/slurm-local.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
scripts/slurm-local.sh start
eval "$(scripts/slurm-local.sh env)"

coco=$DIVSEG_SHARED/data/coco-mini
export DIVSEG_WEIGHTS=$DIVSEG_SHARED/models/vgg16_imagenet_notop.h5
export DIVSEG_CACHE=$work/cache            # a fresh cache: the features stage really computes
export OMP_NUM_THREADS=1                   # one core per array task
# sed reads its whole input (no early exit, so no SIGPIPE for grep under pipefail).
grep ',train2017,' "$coco/tags.csv" | sed -n '1,32p' | cut -d. -f1 > "$work/train-ids.txt"
train=(--dataset "coco:$coco" --split "$work/train-ids.txt")
val=(--dataset "coco:$coco" --split val --limit 12)
# An array of 4 shards of one stage, 1 CPU each; sbatch's environment (DIVSEG_*, OMP_*)
# reaches every task, which takes its shard from SLURM_ARRAY_TASK_ID.
array() {
    local name=$1; shift
    sbatch --wait --quiet --array=0-3 --cpus-per-task=1 --mem=3G --job-name="divseg-$name" \
        --output="$work/$name-%a.log" --wrap "$*" || { tail -n 20 "$work/$name"-*.log >&2; exit 1; }
}
q() { printf '%q ' "$@"; }

echo "== features: 4 shards via Slurm"
array features "$(q "$bin" features "${train[@]}") && $(q "$bin" features "${val[@]}")"
"$bin" features "${train[@]}" | tee "$work/features-again.txt"
grep -q ': 0 computed, 0 recomputed, 32 already there' "$work/features-again.txt"

echo "== bundles (one process, from the cached features) and two copies of a registry"
for class in person giraffe diningtable; do
    "$bin" train "$class" "${train[@]}" --out "$work/bundles/$class" > /dev/null
    "$bin" add "$work/bundles/$class" --registry "$work/one" --no-retrain > /dev/null
done
# Each registry keeps its own store (not the shared cache's), so that the sharded one is
# filled by its shards alone and the two stores can be compared.
"$bin" config sample-store inside --registry "$work/one" > /dev/null
cp -a "$work/one" "$work/sharded"

echo "== one process: retrain, evaluate"
"$bin" retrain --registry "$work/one" > /dev/null
"$bin" evaluate --registry "$work/one" "${val[@]}" --json-out "$work/whole.json" > /dev/null 2> "$work/evaluate-one.log" \
    || { cat "$work/evaluate-one.log" >&2; exit 1; }

echo "== Slurm: sample-only shards, final retrain, evaluation shards, merge"
array sample "$(q "$bin" retrain --sample-only --registry "$work/sharded")"
sbatch --wait --quiet --cpus-per-task=2 --mem=6G --output="$work/retrain.log" \
    --wrap "$(q "$bin" retrain --json --registry "$work/sharded") > $(q "$work/retrain.json")"
array evaluate "$(q "$bin" evaluate --registry "$work/sharded" "${val[@]}") --json-out $(printf %q "$work")/part-\$SLURM_ARRAY_TASK_ID.json"
"$bin" evaluate --merge "$work"/part-*.json --json-out "$work/merged.json"

echo "== equal to one process?"
python3 - "$work/retrain.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["retraining"]
assert r["imagesResampled"] == 0 and r["imagesReused"] == 32, f"the final retrain re-sampled images: {r}"
PY
scripts/same-segmenter.sh "$work/one/segmenter.h5" "$work/sharded/segmenter.h5" "$work/venv"
diff <(cd "$work/one/.samples" && find . -name '*.h5' | sort) <(cd "$work/sharded/.samples" && find . -name '*.h5' | sort)
cmp "$work/whole.json" "$work/merged.json"
echo "slurm-ci: 4-shard Slurm pipeline equals the one-process run (segmenter weights identical, $(find "$work/one/.samples" -name '*.h5' | wc -l) store entries, scores identical)"
