#!/usr/bin/env python3
"""Reference values for box.iou, box.encode, box.nms, loss.smooth-l1, roi.pool and roi.align.

Writes faster_rcnn.json beside this script. Every expected value comes from the reference
operators themselves, run in float64 on the CPU:

  box.iou          torchvision.ops.box_iou (and the private _box_inter_union for the areas)
  box.encode       torchvision.models.detection._utils.BoxCoder.encode_single / decode_single
  box.nms          torchvision.ops.nms
  loss.smooth-l1   torch.nn.functional.smooth_l1_loss (mean, sum, none) and autograd for grad
  roi.pool         torch.ops.torchvision.roi_pool (pooled and argmax)
  roi.align        torchvision.ops.roi_align (aligned, sampling_ratio)

Needs `pip install torch torchvision` (PyPI). Deterministic:

    python3 Tests/LessonsTests/Fixtures/make_faster_rcnn.py

The only departure from the operators is stated where it happens: box_iou gives NaN for two
empty boxes (0/0) and box.iou's contract (`derive modules box.iou`) says 0, so the fixture stores 0 there.
"""
import json
import math
import pathlib

import numpy as np
import torch
import torchvision
from torchvision.models.detection._utils import BoxCoder
from torchvision.ops import box_iou, nms, roi_align
from torchvision.ops.boxes import _box_inter_union

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20260417)


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def floats(a):
    return np.asarray(a, dtype=np.float64).tolist()


def random_box(lo, hi, max_size, min_size=0.0):
    x1, y1 = rng.uniform(lo, hi, 2)
    w, h = rng.uniform(min_size, max_size, 2)
    return [float(x1), float(y1), float(x1 + w), float(y1 + h)]


# ---------------------------------------------------------------- box.iou
iou_cases = []
hand = [
    # identical, nested, touching along an edge, touching at a corner, disjoint, empty boxes
    ([[0, 0, 4, 4], [1, 1, 2, 2], [0, 0, 0, 0]], [[0, 0, 4, 4], [4, 0, 8, 4], [4, 4, 5, 5], [10, 10, 11, 12], [0, 0, 0, 0], [2, 2, 2, 3]]),
    ([[0.5, 0.25, 3.75, 2.5]], [[-1, -1, 1, 1], [0.5, 0.25, 3.75, 2.5], [3, 2, 9, 9]]),
]
for a, b in hand:
    iou_cases.append((a, b))
for n, m in [(1, 1), (3, 4), (6, 5), (10, 10)]:
    a = [random_box(-5, 5, 6) for _ in range(n)]
    b = [random_box(-5, 5, 6) for _ in range(m)]
    iou_cases.append((a, b))
iou_out = []
for a, b in iou_cases:
    iou = box_iou(t(a), t(b))
    inter, union = _box_inter_union(t(a), t(b))
    iou = torch.where(union > 0, iou, torch.zeros_like(iou))  # box.iou's contract: 0 where the union is 0
    iou_out.append({
        "a": floats(a), "b": floats(b), "iou": floats(iou), "intersection": floats(inter),
        "union": floats(union),
        "area_a": floats(torchvision.ops.box_area(t(a))), "area_b": floats(torchvision.ops.box_area(t(b))),
    })

# ---------------------------------------------------------------- box.encode
encode_out = []
weight_sets = [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0), (2.5, 0.5, 3.0, 1.5)]
pairs = [([0, 0, 10, 20], [2, 4, 14, 20]), ([0, 0, 1, 1], [0, 0, 1, 1]), ([-3.5, 2, 0.5, 2.25], [-4, 1, 4, 9])]
for _ in range(6):
    anchor = random_box(-50, 50, 40, 2)
    gt = random_box(-50, 50, 40, 2)
    pairs.append((anchor, gt))
for anchor, gt in pairs:
    for w in weight_sets:
        coder = BoxCoder(w)
        deltas = coder.encode_single(t([gt]), t([anchor]))
        # decode_single clamps dw, dh at log(1000/16); every case here stays below it.
        assert float(deltas[0, 2]) / w[2] < math.log(1000 / 16) and float(deltas[0, 3]) / w[3] < math.log(1000 / 16)
        decoded = coder.decode_single(deltas, t([anchor]))
        encode_out.append({"anchor": floats(anchor), "gt": floats(gt), "weights": list(w),
                           "deltas": floats(deltas[0]), "decoded": floats(decoded[0])})

# ---------------------------------------------------------------- box.nms
nms_out = []
nms_cases = [
    # equal scores: torchvision sorts stably, so the earlier box wins
    ([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]], [1, 1, 1], 0.5),
    # IoU exactly at the threshold is not suppressed (strict >): [0,0,2,1] vs [1,0,3,1] is 1/3
    ([[0, 0, 2, 1], [1, 0, 3, 1]], [0.9, 0.8], 1 / 3),
    ([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 2, 10, 12], [21, 19, 31, 29]], [0.9, 0.8, 0.7, 0.95, 0.6], 0.5),
]
for n, thr in [(8, 0.3), (15, 0.5), (30, 0.7), (30, 0.0), (12, 1.0)]:
    centres = rng.uniform(0, 30, (3, 2))
    boxes = []
    for _ in range(n):
        cx, cy = centres[rng.integers(0, 3)] + rng.normal(0, 2, 2)
        w, h = rng.uniform(3, 9, 2)
        boxes.append([float(cx - w / 2), float(cy - h / 2), float(cx + w / 2), float(cy + h / 2)])
    scores = rng.uniform(0, 1, n).tolist()
    nms_cases.append((boxes, scores, thr))
for boxes, scores, thr in nms_cases:
    keep = nms(t(boxes), t(scores), thr)
    nms_out.append({"boxes": floats(boxes), "scores": floats(scores), "iou_threshold": thr,
                    "keep": [int(k) for k in keep]})

# ---------------------------------------------------------------- loss.smooth-l1
l1_out = []
l1_cases = [
    ([0.5, -2, 1.2, 3], [0, 0, 1, 0], 1.0),
    # |d| exactly β: the linear piece; both pieces agree there
    ([1.0, -1.0, 0.5, -0.5], [0, 0, 0, 0], 1.0),
    ([0.25, -0.25, 0.0], [0, 0, 0], 0.25),
    # β = 0 is plain L1 (torch switches to l1_loss); d = 0 has gradient 0
    ([0.3, -0.7, 0.0, 2.0], [0, 0, 0, 0], 0.0),
]
for n, beta in [(5, 1.0), (9, 1 / 9), (7, 3.0), (11, 0.05)]:
    pred = rng.normal(0, 2, n).tolist()
    target = rng.normal(0, 1, n).tolist()
    l1_cases.append((pred, target, beta))
for pred, target, beta in l1_cases:
    p = t(pred).requires_grad_(True)
    loss = torch.nn.functional.smooth_l1_loss(p, t(target), beta=beta, reduction="mean")
    loss.backward()
    loss = loss.detach()
    l1_out.append({
        "pred": floats(pred), "target": floats(target), "beta": beta,
        "elementwise": floats(torch.nn.functional.smooth_l1_loss(t(pred), t(target), beta=beta, reduction="none")),
        "loss": loss.item(), "sum": float(torch.nn.functional.smooth_l1_loss(t(pred), t(target), beta=beta, reduction="sum")),
        "grad": floats(p.grad),
    })

# ---------------------------------------------------------------- roi.pool and roi.align
maps = {
    "ramp6": np.arange(36, dtype=np.float64).reshape(6, 6),
    "random8": rng.normal(0, 1, (8, 8)),
    "random5x9": rng.normal(0, 1, (5, 9)),
    "ties7": rng.integers(0, 3, (7, 7)).astype(np.float64),   # many equal maxima: first in row-major order wins
    "const4": np.full((4, 4), 2.0),
    "row1x7": rng.normal(0, 1, (1, 7)),
    "col6x1": rng.normal(0, 1, (6, 1)),
    "one1x1": np.array([[3.5]]),
}
# (map, box, scale): inside, fractional, crossing every edge, smaller than a bin, exact halves
# (rounding away from zero), far outside, and image-coordinate boxes with scale 1/16 and 1/4.
roi_cases = [
    ("ramp6", [0.6, 1.2, 4.3, 3.9], 1.0),
    ("ramp6", [0, 0, 5, 5], 1.0),
    ("ramp6", [-2.3, -1.7, 2.2, 3.1], 1.0),          # crosses the top and left edges
    ("ramp6", [3.4, 2.6, 8.9, 7.2], 1.0),            # crosses the bottom and right edges
    ("ramp6", [-3, -3, 9, 9], 1.0),                  # covers the whole map and more
    ("ramp6", [2.2, 2.4, 2.6, 2.9], 1.0),            # smaller than a bin
    ("ramp6", [1.5, 2.5, 3.5, 4.5], 1.0),            # corners on halves
    ("ramp6", [5, 1, 10, 3], 0.5),                   # halves after scaling: 2.5 -> 3, 0.5 -> 1
    ("ramp6", [-1, -5, 3, 3], 0.5),                  # -0.5 -> -1, -2.5 -> -3
    ("ramp6", [7, 7, 12, 12], 1.0),                  # entirely outside: empty bins
    ("ramp6", [-9, -9, -4, -4], 1.0),
    ("ramp6", [3, 3, 3, 3], 1.0),                    # a point
    ("random8", [16, 24, 100, 90], 1 / 16),
    ("random8", [0.7, 3.1, 6.2, 7.9], 1.0),
    ("random8", [4.4, -2.2, 30.2, 14.6], 0.25),
    ("random8", [-1.6, 5.25, 2.75, 12.5], 1.0),
    ("random5x9", [0.2, 0.1, 8.8, 4.7], 1.0),
    ("random5x9", [2.5, -0.5, 6.5, 3.5], 1.0),
    ("random5x9", [5.9, 3.9, 6.1, 4.05], 1.0),
    ("ties7", [0, 0, 6, 6], 1.0),
    ("ties7", [1.3, 0.4, 5.6, 6.8], 1.0),
    ("const4", [0.2, 0.3, 3.4, 2.2], 1.0),
    ("row1x7", [0.5, -0.4, 5.7, 0.3], 1.0),
    ("col6x1", [-0.3, 0.8, 0.2, 4.9], 1.0),
    ("one1x1", [-0.6, -0.6, 0.4, 0.9], 1.0),
    # sample points exactly on torchvision's keep/drop boundary: with size 1 and sampling_ratio
    # 1 the only sample is the box centre, at -1 or at H (kept, clamped), or just beyond (dropped).
    ("ramp6", [-2, -2, 0, 0], 1.0),
    ("ramp6", [5, 5, 7, 7], 1.0),
    ("ramp6", [-2.5, -2.5, 0.5, -0.5], 1.0),
    ("ramp6", [5.5, 5, 6.5, 7.25], 1.0),
    ("ramp6", [-1.5, -1.5, 0.5, 0.5], 1.0),
    ("ramp6", [5.5, 5.5, 7.5, 7.5], 1.0),
]
pool_out, align_out = [], []
for name, box, scale in roi_cases:
    feature = maps[name]
    x = t(feature)[None, None]
    rois = t([[0.0] + box])
    for size in [1, 2, 3, 4]:
        pooled, argmax = torch.ops.torchvision.roi_pool(x, rois, scale, size, size)
        pool_out.append({"map": name, "box": floats(box), "scale": scale, "size": size,
                         "pooled": floats(pooled[0, 0]), "argmax": argmax[0, 0].tolist()})
        for sampling_ratio in [0, 1, 2, 3]:
            for aligned in [True, False]:
                out = roi_align(x, rois, (size, size), scale, sampling_ratio, aligned)
                align_out.append({"map": name, "box": floats(box), "scale": scale, "size": size,
                                  "sampling_ratio": sampling_ratio, "aligned": aligned,
                                  "pooled": floats(out[0, 0])})

fixture = {
    "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__},
    "iou": iou_out, "encode": encode_out, "nms": nms_out, "smooth_l1": l1_out,
    "maps": {name: floats(m) for name, m in maps.items()}, "roi_pool": pool_out, "roi_align": align_out,
}
out = pathlib.Path(__file__).with_name("faster_rcnn.json")
out.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
print(out, {k: len(v) for k, v in fixture.items() if isinstance(v, list)})
