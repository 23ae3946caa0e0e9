#!/usr/bin/env python3
"""Reference values for rpn.proposals (RPNProposalsTests), from torchvision's own operators.

Runs, in float64 on the CPU and in py-faster-rcnn's proposal-layer order:
  BoxCoder((1, 1, 1, 1)).decode_single   (caps dw, dh at log(1000/16) as torchvision does)
  torchvision.ops.clip_boxes_to_image
  torchvision.ops.remove_small_boxes(., 16)
  a stable sort by score, the pre-NMS top-N, torchvision.ops.nms(., ., 0.7), the post-NMS top-N

Prints the values that RPNProposalsTests types in, and asserts them:

    python3 Tests/LessonsTests/Fixtures/make_rpn_proposals.py

Needs `pip install torch torchvision` (PyPI).
"""
import math

import torch
from torchvision.models.detection._utils import BoxCoder
from torchvision.ops import clip_boxes_to_image, nms, remove_small_boxes

torch.set_default_dtype(torch.float64)

anchors = torch.tensor([
    [597, 195, 779, 285], [613, 195, 795, 285], [560, 112, 816, 368], [112, 160, 368, 416],
    [624, 224, 1136, 736], [-16, -16, 112, 112], [128, 160, 384, 416],
], dtype=torch.float64)
deltas = torch.tensor([
    [0.02, 0.05, 0, 0.02], [-0.08, 0.04, -0.03, 0.05], [0, 0.02, -0.35, -1.0], [0.03, 0.04, 0.15, 0.16],
    [0, 0, 0, 0], [0, 0, -2.5, -2.5], [-0.05, 0.02, 0.1, 0.2],
], dtype=torch.float64)
scores = torch.tensor([0.95, 0.9, 0.6, 0.92, 0.3, 0.2, 0.5], dtype=torch.float64)
coder = BoxCoder((1.0, 1.0, 1.0, 1.0))


def proposals(pre_nms_top_n, post_nms_top_n, min_size=16.0, iou=0.7, size=(600, 1000)):
    decoded = coder.decode_single(deltas, anchors)
    clipped = clip_boxes_to_image(decoded, size)  # size is (height, width)
    fate = [0] * len(anchors)
    big = remove_small_boxes(clipped, min_size).tolist()
    for i in range(len(anchors)):
        if i not in big:
            fate[i] = 1
    ranked = sorted(big, key=lambda i: (-scores[i].item(), i))
    for i in ranked[pre_nms_top_n:]:
        fate[i] = 2
    top = ranked[:pre_nms_top_n]
    kept = [top[j] for j in nms(clipped[top], scores[top], iou).tolist()]
    for i in top:
        if i not in kept:
            fate[i] = 3
    for i in kept[post_nms_top_n:]:
        fate[i] = 4
    return decoded, clipped, fate, top, kept[:post_nms_top_n]


decoded, clipped, fate, top, keep = proposals(6000, 2)
print("decoded", decoded.tolist())
print("clipped changed rows", [i for i in range(len(anchors)) if not torch.equal(decoded[i], clipped[i])])
print("fate", fate, "candidates", len(top), "keep", keep)
assert clipped[4].tolist() == [624, 224, 1000, 600]
assert fate == [0, 3, 3, 0, 4, 1, 3] and len(top) == 6 and keep == [0, 3]
expected_decoded = [
    [600.64, 198.59093969879598, 782.64, 290.409060301204],
    [601.1294564470858, 196.2928006630789, 777.7505435529143, 290.90719933692105],
    [597.7999245160047, 198.0314315300554, 778.2000754839953, 292.2085684699446],
    [98.96521693077977, 148.0306085130483, 396.39478306922024, 448.44939148695175],
    [624.0, 224.0, 1136.0, 736.0],
    [42.746560088070474, 42.746560088070474, 53.253439911929526, 53.253439911929526],
    [101.73812248631708, 136.78044695549826, 384.6618775136829, 449.4595530445017],
]
assert torch.allclose(decoded, torch.tensor(expected_decoded), rtol=0, atol=1e-9)

_, _, fate2, top2, keep2 = proposals(2, 300)
print("pre_nms_top_n=2: fate", fate2, "candidates", len(top2), "keep", keep2)
assert fate2 == [0, 2, 2, 0, 2, 1, 2] and len(top2) == 2 and keep2 == [0, 3]

# The cap: a 16-pixel anchor with dw = 10 is clamped at log(1000/16), so it is 1000 pixels wide.
capped = coder.decode_single(torch.tensor([[0.0, 0, 10, -1]]), torch.tensor([[0.0, 0, 16, 16]]))
print("capped", capped.tolist())
assert torch.allclose(capped, torch.tensor([[-492, 5.056964470628461, 508, 10.943035529371539]]), rtol=0, atol=1e-9)
assert math.isclose(capped[0, 2].item() - capped[0, 0].item(), 1000)
print("all asserted values match")
