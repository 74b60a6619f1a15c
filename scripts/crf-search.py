#!/usr/bin/env python3
"""Issue #11, lever 7: choose the dense CRF's parameters for the segmenter's logits on the
coco-mini **train** split (train2017 images with masks; the method never sees them as masks)
by coordinate search over the `evaluate --crf` options, starting from the defaults.

    scripts/crf-search.py [--registry classes] [--limit 100] [--out out/crf-search]
                          [--split train|FILE]

--split FILE scores a list of image ids instead, e.g. the held-out half of train2017 that
`scripts/label-variant.sh NAME heldout` leaves out of the segmenter's training (the CRF is
then chosen on train images the segmenter has not seen, as it will not have seen val2017's).

Each setting is one `divseg-registry evaluate --split train --limit N --crf …`;
results are kept as JSON in --out (a rerun reuses them) and the search is printed as a
table (mIoU over background + all registered classes, on the first N train images).
Environment: DIVSEG_SHARED (default ../shared), DIVSEG_CACHE, DIVSEG_BIN.
"""
import argparse, json, os, subprocess, sys, time

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
p = argparse.ArgumentParser()
p.add_argument("--registry", default="classes")
p.add_argument("--limit", type=int, default=100)
p.add_argument("--out", default="out/crf-search")
p.add_argument("--rounds", type=int, default=1, help="passes over the parameters")
p.add_argument("--split", default="train", help="train, or a file of train2017 image ids")
a = p.parse_args()
shared = os.environ.get("DIVSEG_SHARED", "../shared")
binary = os.environ.get("DIVSEG_BIN", ".build/release/divseg-registry")
cache = os.environ.get("DIVSEG_CACHE", ".divseg-cache/features")
os.makedirs(a.out, exist_ok=True)

GRID = {  # option → candidates (the first is the library default)
    "logit-scale": [1, 2, 4, 8],
    "bilateral-weight": [10, 3, 1, 20],
    "srgb": [13, 30],
    "iterations": [10, 5],
}

def evaluate(setting):
    name = "plain" if setting is None else "-".join(f"{k}{v}" for k, v in sorted(setting.items()))
    path = os.path.join(a.out, name + ".json")
    if not os.path.exists(path):
        cmd = [binary, "evaluate", "--registry", a.registry, "--dataset", f"coco:{shared}/data/coco-mini",
               "--split", a.split, "--limit", str(a.limit), "--cache", cache, "--save-json", path]
        if setting is not None:
            cmd.append("--crf")
            for k, v in setting.items():
                cmd += [f"--crf-{k}", str(v)]
        t0 = time.time()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(a.out, "times.txt"), "a") as f:
            f.write(f"{name} {time.time() - t0:.1f}\n")
    with open(path) as f:
        return json.load(f)["mIoU"], name

plain, _ = evaluate(None)
print(f"{'setting':<60} mIoU ({a.split}, first {a.limit} images)")
print(f"{'no CRF':<60} {plain:.2f}")
current = {k: v[0] for k, v in GRID.items()}
best, _ = evaluate(current)
print(f"{'CRF, defaults':<60} {best:.2f}")
for round in range(a.rounds):
    for key, candidates in GRID.items():
        for value in candidates:
            if value == current[key]:
                continue
            trial = dict(current, **{key: value})
            m, name = evaluate(trial)
            print(f"{name:<60} {m:.2f}", flush=True)
            if m > best:
                best, current = m, trial
        print(f"  → {key} = {current[key]} (best so far {best:.2f})", flush=True)
print(f"chosen: {current}  mIoU {best:.2f} against {plain:.2f} without the CRF")
json.dump({"plain": plain, "chosen": current, "mIoU": best}, open(os.path.join(a.out, "chosen.json"), "w"), indent=1)
