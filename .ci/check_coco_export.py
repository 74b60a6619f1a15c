"""CI check: divseg's COCO-style results (`segment --coco FILE`) load in pycocotools and
every mask decodes to exactly the pixels of its class in divseg's label PNG.

usage: check_coco_export.py RESULTS.json OUT_DIR   (OUT_DIR holds the <name>.png label maps)
"""
import json
import os
import sys

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

results_path, out_dir = sys.argv[1], sys.argv[2]
with open(results_path) as f:
    results = json.load(f)
if not results:
    sys.exit("no results in " + results_path)

# A ground-truth index holding just the images and categories, as COCO.loadRes needs one.
images, categories, labels = {}, set(), {}
for r in results:
    stem = os.path.splitext(os.path.basename(r["file_name"]))[0]
    label_map = np.array(Image.open(os.path.join(out_dir, stem + ".png")))  # palette indices = label ids
    labels[r["image_id"]] = label_map
    h, w = r["segmentation"]["size"]
    images[r["image_id"]] = {"id": r["image_id"], "height": h, "width": w, "file_name": stem}
    categories.add(r["category_id"])
gt = COCO()
gt.dataset = {"images": list(images.values()), "categories": [{"id": c, "name": str(c)} for c in sorted(categories)],
              "annotations": []}
gt.createIndex()
dt = gt.loadRes(results_path)

checked = 0
for ann in dt.loadAnns(dt.getAnnIds()):
    decoded = mask_utils.decode(ann["segmentation"])
    expected = (labels[ann["image_id"]] == ann["category_id"]).astype(np.uint8)
    if decoded.shape != expected.shape or not np.array_equal(decoded, expected):
        sys.exit(f"image {ann['image_id']} category {ann['category_id']}: decoded mask differs from the label PNG")
    if ann["area"] != int(expected.sum()):
        sys.exit(f"image {ann['image_id']} category {ann['category_id']}: area {ann['area']} != {int(expected.sum())}")
    checked += 1
print(f"COCO export: {checked} masks of {len(images)} images load in pycocotools and equal the label PNGs")
