#!/bin/bash
# Submits the four stages with dependencies (each starts when the previous one succeeded
# in every array task) and a last job that merges the evaluation parts.
#   DIVSEG_BIN=… DIVSEG_CACHE=/shared/cache REGISTRY=/shared/classes DATASET=coco:/shared/coco \
#   SHARDS=100 docs/cluster/slurm/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=${SHARDS:-100}
export RESULTS=${RESULTS:-$PWD/results}
mkdir -p logs "$RESULTS"
array=(--array="0-$((shards - 1))" --parsable --export=ALL)
features=$(sbatch "${array[@]}" "$here/features.sbatch")
sample=$(sbatch "${array[@]}" --dependency="afterok:$features" "$here/sample.sbatch")
retrain=$(sbatch --parsable --export=ALL --dependency="afterok:$sample" "$here/retrain.sbatch")
evaluate=$(sbatch "${array[@]}" --dependency="afterok:$retrain" "$here/evaluate.sbatch")
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$evaluate" --output=logs/merge.log \
    --wrap "\"$DIVSEG_BIN\" evaluate --merge \"$RESULTS\"/evaluate-part-*.json --json-out \"$RESULTS/evaluate.json\"")
echo "submitted: features $features, sample $sample, retrain $retrain, evaluate $evaluate, merge $merge"
