#!/usr/bin/env python3
"""Reference values for deform.bilinear and deform.conv.

Writes deformable_conv.json beside this script. Every expected value comes from
torchvision.ops.deform_conv2d itself, in float64 on the CPU, for one input channel, one output
channel, one offset group and no bias:

  input  [1, 1, H, W]
  weight [1, 1, kh, kw]
  offset [1, 2·kh·kw, H_out, W_out]: channel 2t holds dy and 2t + 1 holds dx of tap t
         (row-major over the kernel); the module uses one (dy, dx) per tap everywhere, so
         each channel is constant
  mask   [1, kh·kw, H_out, W_out], likewise constant per tap

deform.bilinear is checked through the same operator: a 1×1 kernel of weight 1 with stride 1
and no padding makes output (i, j) = bilinear(i + dy_ij, j + dx_ij), so per-position offsets
put a chosen sample point at every output position.

Needs `pip install torch torchvision` (PyPI). Deterministic:

    python3 Tests/LessonsTests/Fixtures/make_deformable_conv.py
"""
import json
import pathlib

import numpy as np
import torch
import torchvision
from torchvision.ops import deform_conv2d

rng = np.random.default_rng(20260418)


def t(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


def floats(a):
    return np.asarray(a, dtype=np.float64).tolist()


def conv(inp, weight, offsets, mask, stride, padding, dilation):
    inp, weight = np.asarray(inp, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    H, W = inp.shape
    kh, kw = weight.shape
    oh = (H + 2 * padding - (dilation * (kh - 1) + 1)) // stride + 1
    ow = (W + 2 * padding - (dilation * (kw - 1) + 1)) // stride + 1
    off = np.zeros((1, 2 * kh * kw, oh, ow))
    for k, (dy, dx) in enumerate(offsets):
        off[0, 2 * k] = dy
        off[0, 2 * k + 1] = dx
    m = None
    if mask is not None:
        m = np.zeros((1, kh * kw, oh, ow))
        for k, v in enumerate(mask):
            m[0, k] = v
        m = t(m)
    out = deform_conv2d(t(inp)[None, None], t(off), t(weight)[None, None], None,
                        stride=stride, padding=padding, dilation=dilation, mask=m)
    regular = torch.nn.functional.conv2d(t(inp)[None, None], t(weight)[None, None],
                                         stride=stride, padding=padding, dilation=dilation)
    return out[0, 0], regular[0, 0]


# ---------------------------------------------------------------- deform.conv
maps = {
    "r5": rng.normal(0, 1, (5, 5)),
    "r6x8": rng.normal(0, 1, (6, 8)),
    "r9": rng.normal(0, 1, (9, 9)),
    "r1x6": rng.normal(0, 1, (1, 6)),
    "ramp4": np.arange(16, dtype=np.float64).reshape(4, 4),
}
cases = []


def add(map_name, kh, kw, offsets="zero", mask=None, stride=1, padding=0, dilation=1, label=""):
    taps = kh * kw
    if offsets == "zero":
        offsets = np.zeros((taps, 2))
    elif offsets == "fractional":
        offsets = rng.uniform(-1, 1, (taps, 2))
    elif offsets == "negative":
        offsets = -rng.uniform(0.1, 2.5, (taps, 2))
    elif offsets == "far":
        # beyond the map on some taps, into the (−1, 0) and (H − 1, H) fringes on others
        offsets = rng.choice([-12.0, -1.5, -0.75, 0.6, 3.3, 11.0], (taps, 2)) + rng.uniform(-0.2, 0.2, (taps, 2))
    elif offsets == "integer":
        offsets = rng.integers(-2, 3, (taps, 2)).astype(np.float64)
    if isinstance(mask, str) and mask == "random":
        mask = rng.uniform(-0.5, 1.5, taps)
    weight = rng.normal(0, 1, (kh, kw))
    out, regular = conv(maps[map_name], weight, offsets, mask, stride, padding, dilation)
    cases.append({"label": label, "map": map_name, "weight": floats(weight), "offsets": floats(offsets),
                  "mask": None if mask is None else floats(mask), "stride": stride, "padding": padding,
                  "dilation": dilation, "output": floats(out), "regular": floats(regular)})


add("r5", 3, 3, label="zero offsets: the regular convolution")
add("r6x8", 3, 3, "zero", padding=1, label="zero offsets, padding 1")
add("r5", 3, 3, "fractional", label="fractional offsets")
add("r5", 3, 3, "negative", label="negative offsets")
add("r5", 3, 3, "far", label="offsets beyond the map")
add("r5", 3, 3, "integer", label="integer offsets")
add("r5", 3, 3, "fractional", mask="random", label="fractional offsets with a mask")
add("r9", 3, 3, "fractional", stride=2, label="stride 2")
add("r6x8", 3, 3, "fractional", padding=1, label="padding 1")
add("r6x8", 2, 2, "negative", padding=2, mask="random", label="padding 2, mask")
add("r9", 3, 3, "fractional", dilation=2, label="dilation 2")
add("r9", 3, 3, "far", stride=2, padding=1, dilation=2, mask="random", label="stride 2, padding 1, dilation 2, mask")
add("r6x8", 1, 3, "fractional", label="1×3 kernel")
add("r6x8", 3, 1, "negative", padding=1, label="3×1 kernel, padding 1")
add("r9", 2, 3, "fractional", stride=2, dilation=2, label="2×3 kernel, stride 2, dilation 2")
add("r9", 3, 2, "far", stride=3, padding=2, mask="random", label="3×2 kernel, stride 3, padding 2, mask")
add("r1x6", 1, 2, "fractional", label="one-row input")
add("r1x6", 1, 1, "fractional", padding=1, mask="random", label="1×1 kernel on one row, padding 1")
add("ramp4", 3, 3, "fractional", padding=1, label="ramp, fractional offsets, padding 1")
add("ramp4", 2, 2, "zero", mask=[1.0, 0.5, 0.0, -1.0], stride=2, label="ramp, zero offsets, a mask, stride 2")

# ---------------------------------------------------------------- deform.bilinear
H, W = 4, 5
feature = rng.normal(0, 1, (H, W))
points = [
    (0.0, 0.0), (1.5, 2.25), (3.0, 4.0), (2.75, 0.125),
    (-0.5, 1.5), (-0.999, 2.0), (-1.0, 2.0), (-1.2, 2.0),           # above the top row
    (3.5, 1.0), (3.999, 4.5), (4.0, 1.0),                           # below the bottom row
    (1.0, -0.25), (2.5, -1.0), (1.0, 4.6), (1.0, 5.0), (0.5, 7.3),  # left and right
    (-0.5, -0.5), (3.5, 4.5), (-2.0, -3.0), (9.0, 9.0),             # corners of the map and beyond
]
dy = np.zeros((1, H, W))
dx = np.zeros((1, H, W))
for k, (y, x) in enumerate(points):
    i, j = divmod(k, W)
    dy[0, i, j] = y - i
    dx[0, i, j] = x - j
offset = np.stack([dy, dx], axis=1)  # [1, 2, H, W]
sampled = deform_conv2d(t(feature)[None, None], t(offset), t([[1.0]])[None, None])[0, 0]
# The point the operator sampled is i + dy, which can differ from y in its last bit; store it.
used = [(float(divmod(k, W)[0] + dy[0][divmod(k, W)]), float(divmod(k, W)[1] + dx[0][divmod(k, W)])) for k in range(len(points))]
bilinear = {"feature": floats(feature),
            "points": [[y, x, float(sampled[divmod(k, W)])] for k, (y, x) in enumerate(used)]}

fixture = {
    "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__},
    "maps": {name: floats(m) for name, m in maps.items()},
    "conv": cases,
    "bilinear": bilinear,
}
out = pathlib.Path(__file__).with_name("deformable_conv.json")
out.write_text(json.dumps(fixture, indent=None, separators=(",", ":")) + "\n")
print(out, len(cases), "conv cases,", len(points), "bilinear points")
