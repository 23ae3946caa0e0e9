#!/usr/bin/env python3
"""Reference values for rpn.anchors.

Writes rpn_anchors.json beside this script. The anchors come from torchvision's own
AnchorGenerator.generate_anchors (float64) shifted as its grid_anchors shifts them; the labels
from torchvision's Matcher(positive_iou, negative_iou, allow_low_quality_matches=True) run on the
anchors that lie inside the image, which is the paper's rule and py-faster-rcnn's
anchor_target_layer (torchvision itself keeps cross-boundary anchors); the minibatch counts from
BalancedPositiveNegativeSampler's arithmetic. Every ground-truth box here overlaps some inside
anchor, the only case where the module and the Matcher could differ.

Needs `pip install torch torchvision` (PyPI). Deterministic:

    python3 Tests/LessonsTests/Fixtures/make_rpn_anchors.py
"""
import json
import math
import pathlib

import numpy as np
import torch
from torchvision.models.detection._utils import Matcher
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops import box_iou

rng = np.random.default_rng(20261201)


def case(image, stride, sizes, ratios, gt, border=0.0, pos=0.7, neg=0.3, batch=256, fraction=0.5):
    w, h = image
    base = AnchorGenerator().generate_anchors(sizes, ratios, dtype=torch.float64)
    cols, rows = math.ceil(w / stride), math.ceil(h / stride)
    sx = torch.arange(cols, dtype=torch.float64) * stride
    sy = torch.arange(rows, dtype=torch.float64) * stride
    yy, xx = torch.meshgrid(sy, sx, indexing="ij")
    shifts = torch.stack([xx.reshape(-1), yy.reshape(-1), xx.reshape(-1), yy.reshape(-1)], 1)
    anchors = (shifts[:, None, :] + base[None, :, :]).reshape(-1, 4)
    k = base.shape[0]
    shape = torch.arange(k).repeat(cols * rows)
    keep = (anchors[:, 0] >= -border) & (anchors[:, 1] >= -border) & (anchors[:, 2] <= w + border) & (anchors[:, 3] <= h + border)
    inside, shape = anchors[keep], shape[keep]
    gt_t = torch.tensor(gt, dtype=torch.float64)
    quality = box_iou(gt_t, inside)
    assert bool((quality.max(dim=1).values > 0).all()), "every gt box must overlap an inside anchor"
    matches = Matcher(pos, neg, allow_low_quality_matches=True)(quality)
    best_iou = quality.max(dim=0).values
    positive = matches >= 0
    negative = matches == Matcher.BELOW_LOW_THRESHOLD
    by_threshold = positive & (best_iou >= pos)
    best_rows = []
    for j in range(len(gt)):
        i = int(torch.argmax(quality[j]))  # the first maximum
        best_rows.append(inside[i].tolist() + [float(quality[j, i]), int(shape[i])])
    n_pos, n_neg = int(positive.sum()), int(negative.sum())
    sampled_pos = min(n_pos, int(batch * fraction))
    return {
        "params": {"image": [w, h], "stride": stride, "sizes": sizes, "ratios": ratios, "gt": gt,
                   "border": border, "positive_iou": pos, "negative_iou": neg, "batch": batch,
                   "positive_fraction": fraction},
        "feature": [cols, rows],
        "anchors": int(anchors.shape[0]),
        "base": base.tolist(),
        "inside": int(inside.shape[0]),
        "inside_by_shape": [int((shape == s).sum()) for s in range(k)],
        "positive": n_pos,
        "by_threshold": int(by_threshold.sum()),
        "best_match_only": n_pos - int(by_threshold.sum()),
        "negative": n_neg,
        "ignored": int(inside.shape[0]) - n_pos - n_neg,
        "positive_by_shape": [int((positive & (shape == s)).sum()) for s in range(k)],
        "positive_per_gt": [int((matches == j).sum()) for j in range(len(gt))],
        "best": best_rows,
        "sampled_positive": sampled_pos,
        "sampled_negative": min(n_neg, batch - sampled_pos),
    }


def random_gt(n, w, h, lo=16, hi=400):
    boxes = []
    for _ in range(n):
        bw, bh = rng.uniform(lo, min(hi, w)), rng.uniform(lo, min(hi, h))
        x1, y1 = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        boxes.append([round(float(x1), 3), round(float(y1), 3), round(float(x1 + bw), 3), round(float(y1 + bh), 3)])
    return boxes


cases = [
    case([1000, 600], 16, [128, 256, 512], [0.5, 1.0, 2.0], [[100, 150, 400, 450], [600, 200, 780, 290]]),
    case([800, 600], 16, [128, 256, 512], [0.5, 1.0, 2.0], [[40, 40, 88, 88]]),
    case([1000, 600], 16, [128, 256, 512], [0.5, 1.0, 2.0], [[100, 150, 400, 450]], border=1e6),
    case([1000, 600], 16, [128, 256, 512], [0.5, 1.0, 2.0], [[100, 150, 400, 450]], pos=0.5, neg=0.4, batch=64, fraction=0.25),
    case([333, 250], 8, [32, 64], [0.5, 1.0, 2.0, 3.0], random_gt(5, 333, 250, 16, 120)),
    case([640, 480], 32, [96, 181, 362], [0.7, 1.3], random_gt(8, 640, 480)),
    case([500, 375], 16, [128, 256, 512], [0.5, 1.0, 2.0], random_gt(3, 500, 375), border=20),
]
out = pathlib.Path(__file__).with_name("rpn_anchors.json")
out.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
print(f"wrote {out} ({len(cases)} cases)")
for c in cases:
    print(c["params"]["image"], c["anchors"], c["inside"], c["positive"], c["by_threshold"], c["negative"], c["positive_per_gt"])
