#!/usr/bin/env bash
# Measures what sharding through Slurm costs at full coco-mini size (docs/SCALING.md): the
# pipeline features (258 train + 256 val images, cold cache) → sample-only (the shipped
# 22-class registry's 258 training images) → retrain → evaluate (256 val images), once as
# plain commands in one process and once as job arrays of 4 shards on the local one-node
# Slurm cluster (scripts/slurm-local.sh), on the same cores. Writes wall seconds per stage,
# bytes per image; checks that both runs trained the same segmenter and says whether the scores
# are identical (they differ when the BLAS thread counts do: docs/SCALING.md).
# Needs ~20 GB in $TMPDIR and ~25 minutes on 2 cores.  Usage: scripts/slurm-overhead.sh [OUT.tsv]
# Shorter: FEATURE_LIMIT=N computes cold features for the first N train images only, and
# STAGE_CACHE=DIR (a feature cache already holding coco-mini) serves the later stages.
set -euo pipefail
cd "$(dirname "$0")/.."
export DIVSEG_SHARED=${DIVSEG_SHARED:-$(cd .. && pwd)/shared}
bin=${DIVSEG_BIN:-$PWD/.build/release/divseg-registry}
out=${1:-/dev/stdout}
work=$(mktemp -d)
export DIVSEG_SLURM_DIR=$work/slurm
trap 'scripts/slurm-local.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
scripts/slurm-local.sh start >&2
eval "$(scripts/slurm-local.sh env)"
export DIVSEG_WEIGHTS=$DIVSEG_SHARED/models/vgg16_imagenet_notop.h5
coco=(--dataset "coco:$DIVSEG_SHARED/data/coco-mini")
cpus=$(nproc)
for run in one slurm; do
    mkdir -p "$work/$run"
    cp -a classes "$work/$run/classes"
    rm -rf "$work/$run/classes/.samples" "$work/$run/classes/settings.json"
    # Its own store per run (not the shared cache's), so that each run samples for itself.
    "$bin" config sample-store inside --registry "$work/$run/classes" > /dev/null
done
stamp() { date +%s.%N; }
row() { printf '%s\t%s\t%.1f\n' "$1" "$2" "$(echo "$4 - $3" | bc)" >> "$work/times.tsv"; }
array() {   # array NAME COMMAND…: 4 shards, 1 CPU each, sbatch --wait
    local name=$1; shift
    sbatch --wait --quiet --array=0-3 --cpus-per-task=1 --mem=5G --output="$work/$name-%a.log" \
        --export=ALL,OMP_NUM_THREADS=1 --wrap "$*"
}
q() { printf '%q ' "$@"; }

limit=(); [ -n "${FEATURE_LIMIT:-}" ] && limit=(--limit "$FEATURE_LIMIT")
features_stage() {   # the train images (first FEATURE_LIMIT), then val unless limited
    echo "$(q "$bin" features "${coco[@]}" --split train "${limit[@]}")"
    [ -z "${FEATURE_LIMIT:-}" ] && echo "&& $(q "$bin" features "${coco[@]}" --split val)"
    true
}
# One process (all cores).
export DIVSEG_CACHE=$work/one/cache
t0=$(stamp); bash -c "$(features_stage)" >/dev/null; t1=$(stamp); row one features "$t0" "$t1"
export DIVSEG_CACHE=${STAGE_CACHE:-$work/one/cache}
"$bin" retrain --sample-only --registry "$work/one/classes" >/dev/null; t2=$(stamp); row one sample "$t1" "$t2"
"$bin" retrain --json --registry "$work/one/classes" > "$work/one/retrain.json"; t3=$(stamp); row one retrain "$t2" "$t3"
"$bin" evaluate --registry "$work/one/classes" "${coco[@]}" --split val --json-out "$work/one/scores.json" >/dev/null; t4=$(stamp); row one evaluate "$t3" "$t4"

# Four shards through Slurm on the same cores.
export DIVSEG_CACHE=$work/slurm/cache
t0=$(stamp); array features "$(features_stage)"; t1=$(stamp); row slurm features "$t0" "$t1"
export DIVSEG_CACHE=${STAGE_CACHE:-$work/slurm/cache}
array sample "$(q "$bin" retrain --sample-only --registry "$work/slurm/classes")"; t2=$(stamp); row slurm sample "$t1" "$t2"
sbatch --wait --quiet --cpus-per-task="$cpus" --mem=12G --output="$work/retrain.log" \
    --wrap "$(q "$bin" retrain --json --registry "$work/slurm/classes") > $(q "$work/slurm/retrain.json")"; t3=$(stamp); row slurm retrain "$t2" "$t3"
array evaluate "$(q "$bin" evaluate --registry "$work/slurm/classes" "${coco[@]}" --split val) --json-out $(printf %q "$work/slurm")/part-\$SLURM_ARRAY_TASK_ID.json"
"$bin" evaluate --merge "$work"/slurm/part-*.json --json-out "$work/slurm/scores.json" >/dev/null; t4=$(stamp); row slurm evaluate "$t3" "$t4"

{
    echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $cpus CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); FEATURE_LIMIT=${FEATURE_LIMIT:-all} STAGE_CACHE=${STAGE_CACHE:+given}"
    cat "$work/times.tsv"
    echo "cache_bytes	$(du -sb "$work/one/cache" | cut -f1)	$(find "$work/one/cache" -name '*.h5' | wc -l) entries (features stage)"
    echo "store_bytes	$(du -sb "$work/one/classes/.samples" | cut -f1)	$(find "$work/one/classes/.samples" -name '*.h5' | wc -l) entries"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["retraining"]; print("retrain\t%d images\t%d points\t%.1f s sampling\t%.1f s training" % (r["images"], r["points"], r["samplingSeconds"], r["trainingSeconds"]))' "$work/one/retrain.json"
} > "$out"
scripts/same-segmenter.sh "$work/one/classes/segmenter.h5" "$work/slurm/classes/segmenter.h5" "$work/venv"
# Scores: equal at equal BLAS thread counts; here one process uses every core and each shard
# one, and inference rounds differently with the thread count in rare pixels (docs/SCALING.md).
if cmp -s "$work/one/scores.json" "$work/slurm/scores.json"; then echo "scores: identical" >> "$out"
else echo "scores: differ (thread counts differ: docs/SCALING.md)" >> "$out"; fi
echo "segmenter weights: identical" >> "$out"
