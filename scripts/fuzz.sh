#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (a separate package: the normal `swift build` never
# sees them) with -sanitize=fuzzer,address, seeds each from the real files in ../shared and
# classes/, and runs each for a fixed time, one after the other, one process each.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]     (default 300 s, every target)
#
# Hangs (-timeout, seconds per input) and memory blow-ups (-rss_limit_mb, also the limit of a
# single allocation) count as findings, like crashes and sanitizer reports. Findings land in
# out/fuzz/<target>/findings/ (crash-*, timeout-*, oom-*, leak-*); minimise one with
#   .build-fuzz/release/<target> -minimize_crash=1 -runs=10000 <file>
# and keep it as a regression test (Tests/*/Fuzz, see docs/RELIABILITY.md). Each target's
# growing corpus stays in out/fuzz/<target>/corpus (git-ignored), so later runs resume.
# One summary line per target: runs, execs/s, coverage, corpus, findings.
#   FUZZ_NO_BUILD=1   use the binaries already in .build-fuzz
#   FUZZ_TIMEOUT=10 FUZZ_RSS_MB=2048   per-input time limit and memory limit
#   FUZZ_MALLOC_MB=N  limit of a single allocation (default: FUZZ_RSS_MB); libhdf5 mallocs
#                     what a damaged header claims without touching it (F5 in RELIABILITY.md)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-300}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(FuzzImageDecoder FuzzModelFiles FuzzRegistryFiles FuzzDatasets)
SHARED=${DIVSEG_SHARED:-../shared}
OUT=${FUZZ_OUT:-out/fuzz}
SCRATCH=.build-fuzz
BIN=$SCRATCH/release
TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS_MB=${FUZZ_RSS_MB:-2048}
MALLOC_MB=${FUZZ_MALLOC_MB:-$RSS_MB}

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  swift build --package-path Fuzz --scratch-path "$SCRATCH" -c release \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
    -Xcc -fsanitize=address,fuzzer-no-link -Xcxx -fsanitize=address,fuzzer-no-link
fi

SEEDS=$(mktemp -d "${TMPDIR:-/tmp}/divseg-fuzz-seeds-XXXXXX")
trap 'rm -rf "$SEEDS"' EXIT

# Seed corpora: copies of real files (never committed), small enough to fuzz quickly.
seed_images() {
  local d=$SEEDS/FuzzImageDecoder; mkdir -p "$d"
  ls -S "$SHARED/data/coco-mini/images"/*.jpg | tail -n 24 | xargs -I{} cp {} "$d/"
  ls "$SHARED/data/coco-mini/masks"/*.png | head -n 24 | xargs -I{} cp {} "$d/"
  ls "$SHARED/data/voc2012/SegmentationClass"/*.png | head -n 24 | xargs -I{} cp {} "$d/"
  cp "$SHARED/data/voc2012/JPEGImages"/*.jpg "$d/"
  echo 262144   # -max_len
}
seed_models() {
  local d=$SEEDS/FuzzModelFiles; mkdir -p "$d"
  for c in aeroplane cat person; do cp "classes/$c/localizer.h5" "$d/localizer-$c.h5"; done
  # The weights (59 MB) and the segmenter (10 MB) are too big to mutate quickly: their first
  # MiB (superblock, root group, attributes and the first layers' headers).
  head -c 1048576 "$SHARED/models/vgg16_imagenet_notop.h5" > "$d/vgg16-head.h5"
  head -c 1048576 classes/segmenter.h5 > "$d/segmenter-head.h5"
  echo 1048576
}
seed_registry() {
  local d=$SEEDS/FuzzRegistryFiles; mkdir -p "$d"
  for c in aeroplane giraffe tvmonitor; do cp "classes/$c/manifest.json" "$d/manifest-$c.json"; done
  cp classes/aeroplane/corpus.csv "$d/corpus-aeroplane.csv"
  cp classes/labels.json "$d/labels.json"
  # A journal as RegistryTransaction writes it (none is left in a healthy registry).
  printf '%s' '{"id":"1-abc","operations":[{"rename":{"from":".tmp-1-abc/aeroplane","to":"aeroplane"}},{"rename":{"from":".tmp-1-abc/labels.json","to":"labels.json"}},{"remove":{"path":".tmp-1-abc"}}],"version":1}' > "$d/journal.json"
  echo 65536
}
seed_datasets() {
  local d=$SEEDS/FuzzDatasets; mkdir -p "$d"
  cp "$SHARED/data/coco-mini/tags.csv" "$d/coco-mini-tags.csv"
  sed '1s/^image,/path,/' "$SHARED/data/coco-mini/tags.csv" | head -n 40 > "$d/tags.csv"
  cp "$SHARED/data/voc2012/image_level_labels.csv" "$d/voc-image-level-labels.csv"
  # The instances file (2.3 MB) cut to its first images with all their annotations.
  python3 - "$SHARED/data/coco-mini/annotations/instances.json" "$d/instances.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
images = d["images"][:6]
ids = {i["id"] for i in images}
d["images"] = images
d["annotations"] = [a for a in d["annotations"] if a["image_id"] in ids]
json.dump(d, open(sys.argv[2], "w"))
PY
  echo 65536
}

mkdir -p "$OUT"
printf '%-18s %6s %10s %8s %7s %7s %7s %9s\n' target cpu-s runs exec/s cov ft corpus findings
for target in "${TARGETS[@]}"; do
  case $target in
    FuzzImageDecoder) max_len=$(seed_images) ;;
    FuzzModelFiles) max_len=$(seed_models) ;;
    FuzzRegistryFiles) max_len=$(seed_registry) ;;
    FuzzDatasets) max_len=$(seed_datasets) ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
  dir=$OUT/$target
  mkdir -p "$dir/corpus" "$dir/findings"
  log=$dir/$(date -u +%Y%m%dT%H%M%SZ).log
  asan=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
  # Memory errors inside the system libhdf5 (not ours, not instrumented): see Fuzz/hdf5.supp.
  [ "$target" != FuzzModelFiles ] || asan="$asan:suppressions=$PWD/Fuzz/hdf5.supp"
  set +e
  ASAN_OPTIONS=$asan /usr/bin/time -f '%U %S' -o "$dir/cpu" \
    "$BIN/$target" "$dir/corpus" "$SEEDS/$target" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$MALLOC_MB" \
    -max_len="$max_len" -artifact_prefix="$dir/findings/" -print_final_stats=1 > "$log" 2>&1
  status=$?
  # CPU seconds (user + system): on a busy machine much less than the wall-clock time.
  cpu=$(tail -n 1 "$dir/cpu" 2>/dev/null | awk '{ printf "%.0f", $1 + $2 }')
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last"); ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
  findings=$(find "$dir/findings" -type f | wc -l)
  printf '%-18s %6s %10s %8s %7s %7s %7s %9s\n' "$target" "$cpu" "${runs:-0}" "${speed:-0}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$findings"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$SECONDS_PER_TARGET" "$cpu" "${runs:-0}" "${cov:-}" "${ft:-}" "${corp:-}" "$findings" "$status" >> "$OUT/summary.tsv"
  if [ "$status" != 0 ]; then echo "  $target stopped with status $status: see $log" >&2; fi
done
