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

# ---------------------------------------------------------------- deform.conv, per position
# Offset and mask maps that differ from position to position, given directly (offset_map,
# mask_map) or predicted by a plain convolution of the input (offset_weight, offset_bias).
# Stored row-major over output positions: row i·W_out + j holds dy₀, dx₀, dy₁, dx₁, … (masks: m₀,
# m₁, …), which is torchvision's [2N, H_out, W_out] tensor read position by position.


def per_position(a):
    """[C, H_out, W_out] → (H_out·W_out)×C."""
    a = np.asarray(a)
    return a.reshape(a.shape[0], -1).T


def from_rows(rows, oh, ow):
    """(H_out·W_out)×C → [1, C, H_out, W_out]."""
    rows = np.asarray(rows, dtype=np.float64)
    return rows.T.reshape(1, rows.shape[1], oh, ow)


def out_size(H, W, kh, kw, stride, padding, dilation):
    return ((H + 2 * padding - (dilation * (kh - 1) + 1)) // stride + 1,
            (W + 2 * padding - (dilation * (kw - 1) + 1)) // stride + 1)


def map_grads(inp, weight, off, mask, stride, padding, dilation):
    """Output and ∂o(i, j)/∂offset(i, j), ∂o(i, j)/∂mask(i, j) by torch autograd: with a gradient
    of ones on the output, position (i, j)'s slice of each input gradient is its own derivative,
    since o(i, j) reads only the offsets and masks of (i, j)."""
    off_t = t(off).requires_grad_(True)
    mask_t = None if mask is None else t(mask).requires_grad_(True)
    out = deform_conv2d(t(inp)[None, None], off_t, t(weight)[None, None], None,
                        stride=stride, padding=padding, dilation=dilation, mask=mask_t)
    out.sum().backward()
    grad_mask = None if mask is None else per_position(mask_t.grad[0].numpy())
    return out[0, 0].detach().numpy(), per_position(off_t.grad[0].numpy()), grad_mask


map_cases = []


def add_map(map_name, kh, kw, kind, stride=1, padding=0, dilation=1, with_mask=False, label=""):
    inp = maps[map_name]
    H, W = inp.shape
    oh, ow = out_size(H, W, kh, kw, stride, padding, dilation)
    taps = kh * kw
    weight = rng.normal(0, 1, (kh, kw))
    case = {"label": label, "map": map_name, "weight": floats(weight), "stride": stride, "padding": padding,
            "dilation": dilation}
    if kind == "map":
        rows = rng.uniform(-2.5, 2.5, (oh * ow, 2 * taps))
        case["offset_map"] = floats(rows)
    elif kind == "whole":
        # whole-number offsets: every tap sits on a cell or on padding, where the slope is one-sided
        rows = rng.integers(-2, 3, (oh * ow, 2 * taps)).astype(np.float64)
        case["offset_map"] = floats(rows)
    elif kind == "edge":
        # taps pushed to −1, −1.5, H − 1, H − 0.5 and beyond: the band, the dead zone, the far edge
        rows = rng.choice([-3.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5], (oh * ow, 2 * taps))
        case["offset_map"] = floats(rows)
    else:  # "predicted": a plain convolution of the input gives the offsets
        kernels = rng.normal(0, 0.4, (2 * taps, kh, kw))
        bias = rng.normal(0, 0.3, 2 * taps)
        field = torch.nn.functional.conv2d(t(inp)[None, None], t(kernels)[:, None], t(bias),
                                           stride=stride, padding=padding, dilation=dilation)
        rows = per_position(field[0].numpy())
        case["offset_weight"] = floats(kernels.reshape(2 * taps, taps))
        case["offset_bias"] = floats(bias)
        case["predicted_offsets"] = floats(rows)
    mask = None
    if with_mask:
        mask_rows = rng.uniform(-0.5, 1.5, (oh * ow, taps))
        case["mask_map"] = floats(mask_rows)
        mask = from_rows(mask_rows, oh, ow)
    out, g_off, g_mask = map_grads(inp, weight, from_rows(rows, oh, ow), mask, stride, padding, dilation)
    case["output"] = floats(out)
    case["grad_offset"] = floats(g_off)
    case["grad_mask"] = None if g_mask is None else floats(g_mask)
    map_cases.append(case)


add_map("r5", 3, 3, "map", label="random offset map")
add_map("r5", 3, 3, "map", padding=1, with_mask=True, label="offset and mask maps, padding 1")
add_map("r6x8", 2, 3, "map", stride=2, padding=1, with_mask=True, label="2×3 kernel, stride 2, maps")
add_map("r9", 3, 3, "map", dilation=2, padding=2, label="dilation 2, offset map")
add_map("r6x8", 3, 3, "whole", padding=1, with_mask=True, label="whole-number offsets: one-sided slopes")
add_map("r5", 3, 3, "edge", padding=1, with_mask=True, label="taps at the edge, in the band and beyond")
add_map("r1x6", 1, 3, "edge", padding=1, label="one row, taps at −1, −1.5 and the far edge")
add_map("r5", 3, 3, "predicted", padding=1, label="offsets predicted by a 3×3 branch")
add_map("r6x8", 1, 3, "predicted", stride=2, with_mask=True, label="1×3 kernel, predicted offsets, stride 2, mask")
add_map("ramp4", 2, 2, "predicted", dilation=2, padding=1, label="ramp, predicted offsets, dilation 2")

# The uniform form through the same gradient path: every position gets the tap's offsets.
uniform_grads = []
for map_name, kh, kw, stride, padding, dilation, kind in [
        ("r5", 3, 3, 1, 1, 1, "fractional"), ("r9", 3, 3, 2, 1, 2, "integer"), ("r1x6", 1, 3, 1, 1, 1, "edge")]:
    inp = maps[map_name]
    H, W = inp.shape
    oh, ow = out_size(H, W, kh, kw, stride, padding, dilation)
    taps = kh * kw
    weight = rng.normal(0, 1, (kh, kw))
    if kind == "fractional":
        offsets = rng.uniform(-1.5, 1.5, (taps, 2))
    elif kind == "integer":
        offsets = rng.integers(-2, 3, (taps, 2)).astype(np.float64)
    else:
        offsets = np.array([[0.0, -1.5], [0.0, -1.0], [0.0, 1.0]])
    mask = rng.uniform(0, 1, taps)
    rows = np.tile(offsets.reshape(1, -1), (oh * ow, 1))
    out, g_off, g_mask = map_grads(inp, weight, from_rows(rows, oh, ow),
                                   from_rows(np.tile(mask, (oh * ow, 1)), oh, ow), stride, padding, dilation)
    uniform_grads.append({"map": map_name, "weight": floats(weight), "offsets": floats(offsets), "mask": floats(mask),
                          "stride": stride, "padding": padding, "dilation": dilation, "output": floats(out),
                          "grad_offset": floats(g_off), "grad_mask": floats(g_mask)})

# ---------------------------------------------------------------- roi.deform
# Deformable RoI pooling as msracver/Deformable-ConvNets' DeformablePSROIPooling computes it with
# group_size 1 and part_size = pooled_size. Two references:
#  * torch: for a case where no sample is skipped, bin (i, j) equals torchvision's roi_align of a
#    one-bin box over the moved bin (aligned, sampling_ratio = sample_per_part, the box moved by
#    half a sub-bin, since the operator samples from the bin's corner and roi_align from the
#    centres of the sub-bins); within [−0.5, H − 0.5] both clamp onto the map alike. The offset
#    gradient comes from torch autograd through grid_sample (border padding, align_corners), at
#    samples that avoid whole numbers.
#  * a transliteration of the CUDA kernel (forward and backward) in numpy, for every case,
#    including skipped samples and whole-number samples, where the kernel's gradient is 0.


def deform_roi_reference(feature, box, scale, size, offsets, gamma, spp):
    H, W = feature.shape
    start_w = float(np.round(box[0])) * scale - 0.5  # numpy rounds halves to even: boxes avoid .5
    start_h = float(np.round(box[1])) * scale - 0.5
    end_w = (float(np.round(box[2])) + 1) * scale - 0.5
    end_h = (float(np.round(box[3])) + 1) * scale - 0.5
    rw, rh = max(end_w - start_w, 0.1), max(end_h - start_h, 0.1)
    bh, bw = rh / size, rw / size
    sh, sw = bh / spp, bw / spp
    pooled = np.zeros((size, size))
    count = np.zeros((size, size))
    grad = np.zeros((size * size, 2))
    for ph in range(size):
        for pw in range(size):
            k = ph * size + pw
            hstart = ph * bh + start_h + offsets[k][0] * gamma * rh
            wstart = pw * bw + start_w + offsets[k][1] * gamma * rw
            total, n, gx, gy = 0.0, 0, 0.0, 0.0
            for ih in range(spp):
                for iw in range(spp):
                    w = wstart + iw * sw
                    h = hstart + ih * sh
                    if w < -0.5 or w > W - 0.5 or h < -0.5 or h > H - 0.5:
                        continue
                    w = min(max(w, 0.0), W - 1.0)
                    h = min(max(h, 0.0), H - 1.0)
                    x1, x2, y1, y2 = int(np.floor(w)), int(np.ceil(w)), int(np.floor(h)), int(np.ceil(h))
                    dx, dy = w - x1, h - y1
                    v11, v12, v21, v22 = feature[y1, x1], feature[y2, x1], feature[y1, x2], feature[y2, x2]
                    total += (1 - dx) * (1 - dy) * v11 + (1 - dx) * dy * v12 + dx * (1 - dy) * v21 + dx * dy * v22
                    n += 1
                    # backward: U00 = f[y0, x0], U01 = f[y1, x0], U10 = f[y0, x1], U11 = f[y1, x1]
                    gx += v22 * dy + v21 * (1 - dy) - v12 * dy - v11 * (1 - dy)
                    gy += v22 * dx + v12 * (1 - dx) - v21 * dx - v11 * (1 - dx)
            if n:
                pooled[ph, pw] = total / n
                grad[k] = [gy * gamma * rh / n, gx * gamma * rw / n]
            count[ph, pw] = n
    return pooled, count, grad, (start_w, start_h, end_w, end_h, rw, rh)


def deform_roi_torch(feature, box, scale, size, offsets, gamma, spp):
    """Values from torchvision's roi_align bin by bin, gradients by autograd through grid_sample.
    Valid only when no sample is skipped (asserted)."""
    H, W = feature.shape
    start_w = float(np.round(box[0])) * scale - 0.5
    start_h = float(np.round(box[1])) * scale - 0.5
    rw = (float(np.round(box[2])) + 1) * scale - 0.5 - start_w
    rh = (float(np.round(box[3])) + 1) * scale - 0.5 - start_h
    bh, bw = rh / size, rw / size
    sh, sw = bh / spp, bw / spp
    off = t(offsets).requires_grad_(True)
    fmap = t(feature)[None, None]
    pooled = np.zeros((size, size))
    means = []
    for ph in range(size):
        for pw in range(size):
            k = ph * size + pw
            hstart = ph * bh + start_h + off[k, 0] * gamma * rh
            wstart = pw * bw + start_w + off[k, 1] * gamma * rw
            ii = torch.arange(spp, dtype=torch.float64)
            ys = (hstart + ii * sh)[:, None].expand(spp, spp)
            xs = (wstart + ii * sw)[None, :].expand(spp, spp)
            assert bool(((xs >= -0.5) & (xs <= W - 0.5) & (ys >= -0.5) & (ys <= H - 0.5)).all()), "a sample is skipped"
            assert not bool(((xs == xs.round()) | (ys == ys.round())).any()), "a whole-number sample"
            grid = torch.stack([2 * xs / (W - 1) - 1, 2 * ys / (H - 1) - 1], dim=-1)[None]
            sampled = torch.nn.functional.grid_sample(fmap, grid, mode="bilinear", padding_mode="border",
                                                      align_corners=True)
            means.append(sampled.mean())
            # torchvision roi_align over the moved bin, one output bin, shifted by half a sub-bin
            x1 = float(wstart.detach()) - 0.5 * sw + 0.5
            y1 = float(hstart.detach()) - 0.5 * sh + 0.5
            rois = t([[0, x1, y1, x1 + bw, y1 + bh]])
            pooled[ph, pw] = float(torchvision.ops.roi_align(fmap, rois, output_size=1, spatial_scale=1.0,
                                                             sampling_ratio=spp, aligned=True)[0, 0, 0, 0])
    torch.stack(means).sum().backward()
    return pooled, off.grad.numpy()


feature6 = rng.normal(0, 1, (6, 6))
feature7x9 = rng.normal(0, 1, (7, 9))
roi_cases = []


def add_roi(feature_name, box, scale, size, offsets, gamma, spp, torch_check, label):
    feature = {"f6": feature6, "f7x9": feature7x9}[feature_name]
    offsets = np.asarray(offsets, dtype=np.float64).reshape(size * size, 2)
    pooled, count, grad, geometry = deform_roi_reference(feature, box, scale, size, offsets, gamma, spp)
    case = {"label": label, "feature": feature_name, "box": [float(b) for b in box], "scale": scale, "size": size,
            "offsets": floats(offsets), "gamma": gamma, "sample_per_part": spp, "pooled": floats(pooled),
            "count": floats(count), "offset_grad": floats(grad), "roi": list(geometry[:4]),
            "roi_width": geometry[4], "roi_height": geometry[5]}
    if torch_check:
        torch_pooled, torch_grad = deform_roi_torch(feature, box, scale, size, offsets, gamma, spp)
        assert np.allclose(torch_pooled, pooled, atol=1e-12), label
        assert np.allclose(torch_grad, grad, atol=1e-12), label
        case["torch_pooled"] = floats(torch_pooled)
        case["torch_offset_grad"] = floats(torch_grad)
    roi_cases.append(case)


add_roi("f6", [1.2, 0.8, 3.9, 4.1], 1, 2, rng.uniform(-0.6, 0.6, (4, 2)), 0.1, 3, True, "interior, 2×2 bins, 3×3 samples")
add_roi("f7x9", [8.3, 4.4, 27.6, 20.2], 0.25, 3, rng.uniform(-1, 1, (9, 2)), 0.1, 2, True, "scale 1/4, 3×3 bins")
add_roi("f7x9", [2, 1, 6, 4], 1, 2, rng.uniform(-1, 1, (4, 2)), 0.3, 3, True, "γ = 0.3")
add_roi("f6", [0, 0, 5, 5], 1, 3, rng.uniform(-3, 3, (9, 2)), 0.1, 4, False, "whole map, large offsets: skipped samples")
add_roi("f6", [0, 0, 2, 2], 1, 1, [[-1.0, -1.0]], 0.5, 2, False, "pushed off the top-left: a partial count")
add_roi("f6", [0, 0, 3, 3], 1, 2, [[0, 1.25]] * 4, 0.1, 2, False, "samples on whole numbers: gradient 0 along x")
add_roi("f7x9", [1, 1, 1, 1], 1, 1, [[0.0, 0.0]], 0.1, 2, False, "a one-cell box")
add_roi("f6", [0, 0, 5, 5], 1, 2, [[40.0, 0.0]] * 4, 0.1, 2, False, "every sample below the map: count 0, value 0")

fixture = {
    "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__},
    "maps": {name: floats(m) for name, m in maps.items()},
    "conv": cases,
    "conv_maps": map_cases,
    "conv_uniform_grads": uniform_grads,
    "bilinear": bilinear,
    "roi_features": {"f6": floats(feature6), "f7x9": floats(feature7x9)},
    "roi_deform": roi_cases,
}
out = pathlib.Path(__file__).with_name("deformable_conv.json")
out.write_text(json.dumps(fixture, indent=None, separators=(",", ":")) + "\n")
print(out, len(cases), "conv cases,", len(map_cases), "map cases,", len(uniform_grads), "uniform gradient cases,",
      len(points), "bilinear points,", len(roi_cases), "roi.deform cases")
