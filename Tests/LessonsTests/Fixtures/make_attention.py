#!/usr/bin/env python3
"""Reference values for attention.tiled, attention.io, attention.backward, attention.split-kv
and the new outputs of softmax.online.

Writes attention.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_attention.py

Independent paths, none of them a transcription of the Swift loops:

- tiled: numpy attention on the whole score matrix; the counts (tiles computed and skipped,
  masked row-tiles, rescales) and the per-tile trace of one row from their definitions
  (m after tile t = max of the visible scores in tiles 0..t, and so on), not by streaming;
- precision: torch rounds the inputs to fp16/bf16, and a scalar numpy.float32 emulation of the
  data flow the module documents gives the bit-exact expected output; torch's own half-precision
  scaled_dot_product_attention gives an independent error scale;
- io: a literal simulation of the loops of Algorithm 0 (2022), Algorithm 1 (2022) and
  Algorithm 1 (2023), adding up every load and store line by line and block by block;
- backward: torch float64 autograd of L = sum(dO * O), with S.grad for dS;
- split-kv: per-part states from the definition and numpy attention;
- online: a Python scalar loop (math.exp, the same libm as Swift's exp on Linux) for the ulp
  distance of l from the safe sum, on rising scores.
"""
import json
import math
import pathlib

import numpy as np
import torch

rng = np.random.default_rng(20260611)
torch.set_default_dtype(torch.float64)


def scores(q, k, scale, causal):
    s = (q @ k.T) * scale
    if causal:
        s = np.where(np.triu(np.ones_like(s, dtype=bool), k=1), -np.inf, s)
    return s


def attention(s, v):
    m = s.max(axis=1)
    p = np.exp(s - m[:, None])
    l = p.sum(axis=1)
    return (p / l[:, None]) @ v, m, l


def tile_facts(s, v, block_q, block, trace_row):
    """Counts and the trace from their definitions, on the full score matrix s (−inf masked)."""
    n, m = s.shape
    computed = skipped = masked_row_tiles = rescales = 0
    live = 0
    trace = {"m": [], "l": [], "acc": []}
    for r0 in range(0, n, block_q):
        rows = range(r0, min(r0 + block_q, n))
        for c0 in range(0, m, block):
            cols = range(c0, min(c0 + block, m))
            if not np.isfinite(s[np.ix_(rows, cols)]).any():
                skipped += 1
                continue
            computed += 1
            live = max(live, len(rows) * len(cols))
            for i in rows:
                seen_before = s[i, :c0]
                seen = s[i, : cols[-1] + 1]
                if not np.isfinite(s[i, cols]).any():
                    masked_row_tiles += 1
                before = seen_before.max() if c0 > 0 else -np.inf
                after = seen.max()
                if np.isfinite(before) and after > before:
                    rescales += 1
                if i == trace_row:
                    w = np.where(np.isfinite(seen), np.exp(seen - after), 0.0)
                    trace["m"].append(float(after))
                    trace["l"].append(float(w.sum()))
                    trace["acc"].append((w @ v[: cols[-1] + 1]).tolist())
    return {"tiles_computed": computed, "tiles_skipped": skipped, "masked_row_tiles": masked_row_tiles,
            "rescales": rescales, "score_elements_tiled": live, "trace": trace}


tiled_cases = []
for (n, m, d, dv) in [(3, 4, 2, 2), (5, 7, 3, 4), (8, 8, 4, 3), (6, 3, 2, 1), (1, 5, 2, 2)]:
    q, k, v = rng.normal(size=(n, d)), rng.normal(size=(m, d)), rng.normal(size=(m, dv))
    for causal in [False, True]:
        scale = 1 / np.sqrt(d)
        s = scores(q, k, scale, causal)
        out, rowmax, rowsum = attention(s, v)
        facts = {}
        for block_q in sorted({1, 2, 3, n}):
            for block in sorted({1, 2, 3, m}):
                trace_row = (block_q + block) % n
                f = tile_facts(s, v, block_q, block, trace_row)
                f["trace_row"] = trace_row
                facts[f"{block_q},{block}"] = f
        tiled_cases.append({"q": q.tolist(), "k": k.tolist(), "v": v.tolist(), "causal": causal,
                            "output": out.tolist(), "m": rowmax.tolist(), "l": rowsum.tolist(),
                            "lse": (rowmax + np.log(rowsum)).tolist(), "facts": facts})


def to_format(x, fmt):
    """Rounds to nearest even. numpy rounds a double to fp16 and fp32 in one step; torch's
    bf16 conversion goes through float32, which can differ from one rounding only for a double
    within 2^-29 relative of a bf16 tie, which none of these random inputs is (the bit-exact
    test would show it)."""
    x = np.asarray(x, dtype=np.float64)
    if fmt == "fp16":
        return x.astype(np.float16).astype(np.float64)
    if fmt == "fp32":
        return x.astype(np.float32).astype(np.float64)
    return torch.tensor(x).to(torch.bfloat16).to(torch.float64).numpy()


def emulate(q, k, v, scale, causal, fmt, block):
    """The module's documented data flow in numpy.float32 scalars, one operation at a time."""
    f32 = np.float32
    n, m = q.shape[0], k.shape[0]
    sc = f32(scale)
    out = []
    for i in range(n):
        mi, li = f32(-np.inf), f32(0)
        acc = [f32(0)] * v.shape[1]
        for c0 in range(0, m, block):
            cols = [j for j in range(c0, min(c0 + block, m)) if not causal or j <= i]
            if not cols:
                continue
            tile = []
            for j in cols:
                s = f32(0)
                for t in range(q.shape[1]):
                    s = f32(s + f32(f32(q[i, t]) * f32(k[j, t])))
                tile.append(f32(s * sc))
            new = max(mi, max(tile))
            alpha = f32(0) if mi == -np.inf else f32(math.exp(float(f32(mi - new))))
            li = f32(li * alpha)
            acc = [f32(a * alpha) for a in acc]
            for j, s in zip(cols, tile):
                p = f32(math.exp(float(f32(s - new))))
                li = f32(li + p)
                operand = p if fmt == "fp32" else f32(to_format([float(p)], fmt)[0])
                acc = [f32(a + f32(operand * f32(v[j, c]))) for c, a in enumerate(acc)]
            mi = new
        o = [float(f32(a / li)) for a in acc]
        out.append(o if fmt == "fp32" else to_format(o, fmt).tolist())
    return out


precision_cases = []
for (n, m, d, dv, spread) in [(4, 6, 8, 3, 1.0), (5, 9, 16, 4, 3.0), (3, 5, 4, 2, 0.3)]:
    q, k, v = rng.normal(0, spread, (n, d)), rng.normal(0, spread, (m, d)), rng.normal(size=(m, dv))
    for fmt in ["fp16", "bf16", "fp32"]:
        for causal in [False, True]:
            scale = 1 / np.sqrt(d)
            qr, kr, vr = to_format(q, fmt), to_format(k, fmt), to_format(v, fmt)
            ref, _, _ = attention(scores(q, k, scale, causal), v)
            dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[fmt]
            tq, tk, tv = (torch.tensor(x).to(dtype)[None, None] for x in (q, k, v))
            torch_out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
            torch_err = float((torch_out.double()[0, 0].numpy() - ref).__abs__().max())
            precision_cases.append({
                "q": q.tolist(), "k": k.tolist(), "v": v.tolist(), "format": fmt, "causal": causal, "block": 2,
                "q_rounded": qr.tolist(), "k_rounded": kr.tolist(), "v_rounded": vr.tolist(),
                "output": emulate(qr, kr, vr, scale, causal, fmt, 2), "reference": ref.tolist(),
                "torch_max_abs_diff": torch_err,
            })


def simulate_io(n, d, sram, nbytes, causal, block_r=None, block_c=None):
    """Walks the three algorithms' loops and adds up every HBM load and store."""
    bc = min(block_c or math.ceil(sram / (4 * d)), n)
    br = min(block_r or min(math.ceil(sram / (4 * d)), d), n)
    row_blocks = [(r, min(r + br, n)) for r in range(0, n, br)]
    col_blocks = [(c, min(c + bc, n)) for c in range(0, n, bc)]

    def visible(rows, cols):
        return not causal or cols[0] <= rows[1] - 1

    std = [n * d, n * d, n * n, n * n, n * n, n * n, n * d, n * d]
    # FlashAttention (2022), Algorithm 1.
    init_o, init_stats = n * d, 2 * n
    kv = q_reads = o_reads = stat_reads = o_writes = stat_writes = 0
    pairs = 0
    for cols in col_blocks:
        inner = [rows for rows in row_blocks if visible(rows, cols)]
        if not inner:
            continue
        kv += 2 * (cols[1] - cols[0]) * d
        for rows in inner:
            pairs += 1
            size = rows[1] - rows[0]
            q_reads += size * d
            o_reads += size * d
            stat_reads += 2 * size
            o_writes += size * d
            stat_writes += 2 * size
    fa1 = [init_o, init_stats, kv, q_reads, o_reads, stat_reads, o_writes, stat_writes]
    fa1_bytes = (init_o + kv + q_reads + o_reads + o_writes) * nbytes + (init_stats + stat_reads + stat_writes) * 4
    # FlashAttention-2, Algorithm 1.
    q2 = kv2 = o2 = l2 = 0
    for rows in row_blocks:
        q2 += (rows[1] - rows[0]) * d
        for cols in col_blocks:
            if visible(rows, cols):
                kv2 += 2 * (cols[1] - cols[0]) * d
        o2 += (rows[1] - rows[0]) * d
        l2 += rows[1] - rows[0]
    fa2 = [q2, kv2, o2, l2]
    return {"n": n, "d": d, "sram": sram, "bytes": nbytes, "causal": causal, "block_r": block_r, "block_c": block_c,
            "used_block_r": br, "used_block_c": bc, "tiles_r": len(row_blocks), "tiles_c": len(col_blocks),
            "tiles_computed": pairs,
            "standard_terms": std, "standard_bytes": sum(std) * nbytes,
            "fa1_terms": fa1, "fa1_bytes": fa1_bytes,
            "fa2_terms": fa2, "fa2_bytes": (q2 + kv2 + o2) * nbytes + l2 * 4,
            "sram_elements": 2 * bc * d + 2 * br * d + 2 * br + br * bc}


io_cases = []
for n in [1024, 8192]:
    for d in [64, 128]:
        for causal in [False, True]:
            io_cases.append(simulate_io(n, d, 98304, 2, causal))
for args in [(1000, 48, 5000, 2, True), (1000, 48, 5000, 4, False), (37, 5, 7, 1, True), (1, 1, 1, 8, True),
             (257, 16, 4096, 2, True, 128, 64), (300, 64, 98304, 2, True, 1, 7), (4096, 128, 98304, 2, False, 128, 128)]:
    io_cases.append(simulate_io(*args))


backward_cases = []
for (n, m, d, dv) in [(3, 4, 2, 2), (5, 7, 3, 4), (6, 6, 4, 3), (4, 2, 3, 5), (1, 3, 2, 1)]:
    q, k, v, g = rng.normal(size=(n, d)), rng.normal(size=(m, d)), rng.normal(size=(m, dv)), rng.normal(size=(n, dv))
    for causal in [False, True]:
        scale = 1 / np.sqrt(d)
        tq, tk, tv = (torch.tensor(x, requires_grad=True) for x in (q, k, v))
        s = (tq @ tk.T) * scale
        if causal:
            s = s.masked_fill(torch.triu(torch.ones(n, m, dtype=torch.bool), diagonal=1), float("-inf"))
        s.retain_grad()
        p = torch.softmax(s, dim=1)
        o = p @ tv
        loss = (o * torch.tensor(g)).sum()
        loss.backward()
        backward_cases.append({
            "q": q.tolist(), "k": k.tolist(), "v": v.tolist(), "d_out": g.tolist(), "causal": causal,
            "output": o.detach().numpy().tolist(), "lse": torch.logsumexp(s, dim=1).detach().numpy().tolist(),
            "p": p.detach().numpy().tolist(), "delta": (o * torch.tensor(g)).sum(dim=1).detach().numpy().tolist(),
            "ds": s.grad.numpy().tolist(), "dq": tq.grad.numpy().tolist(), "dk": tk.grad.numpy().tolist(),
            "dv": tv.grad.numpy().tolist(), "loss": float(loss.detach()),
        })


split_cases = []
for (n, m, d, dv) in [(3, 4, 2, 2), (5, 9, 3, 2), (7, 7, 2, 3)]:
    q, k, v = rng.normal(0, 2, (n, d)), rng.normal(0, 2, (m, d)), rng.normal(size=(m, dv))
    for causal in [False, True]:
        s = scores(q, k, 1 / np.sqrt(d), causal)
        out, _, _ = attention(s, v)
        for parts in sorted({1, 2, 3, m}):
            sizes = [m // parts + (1 if p < m % parts else 0) for p in range(parts)]
            bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
            row = (parts * 2) % n
            pm, pl, pacc = [], [], []
            for p in range(parts):
                part = s[row, bounds[p]:bounds[p + 1]]
                mp = part.max()
                w = np.exp(part - mp) if np.isfinite(mp) else np.zeros_like(part)
                pm.append(float(mp))
                pl.append(float(w.sum()))
                pacc.append((w @ v[bounds[p]:bounds[p + 1]]).tolist())
            masked = int(sum(not np.isfinite(s[i, bounds[p]:bounds[p + 1]]).any() for i in range(n) for p in range(parts)))
            split_cases.append({"q": q.tolist(), "k": k.tolist(), "v": v.tolist(), "causal": causal, "parts": parts,
                                "row": row, "part_sizes": sizes, "part_m": pm, "part_l": pl, "part_acc": pacc,
                                "output": out.tolist(), "masked_parts": masked})


def online_l(x, block):
    m, l, rescales = -math.inf, 0.0, 0
    for start in range(0, len(x), block):
        b = x[start:start + block]
        new = max(m, max(b))
        factor = 0.0 if m == -math.inf else math.exp(m - new)
        if m > -math.inf and new > m:
            rescales += 1
        block_sum = 0.0
        for xi in b:
            block_sum += 0.0 if xi == -math.inf else math.exp(xi - new)
        l = l * factor + block_sum
        m = new
    return l, rescales


online_cases = []
# x_i = i / divisor: one correctly rounded division, the same double in Swift, so the 14,000
# scores need not be stored.
for divisor in [1000.0, 7000.0]:
    x = [i / divisor for i in range(14000)]
    top = max(x)
    safe = 0.0
    for xi in x:
        safe += math.exp(xi - top)
    entry = {"count": 14000, "divisor": divisor, "blocks": {}}
    for block in [1, 7, 128]:
        l, rescales = online_l(x, block)
        entry["blocks"][str(block)] = {"l_ulps_vs_safe": abs(l - safe) / math.ulp(safe), "rescales": rescales}
    online_cases.append(entry)

def finite_json(x):
    """JSON has no infinities: write them as the strings the Swift tests' fixtureNumber reads."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {key: finite_json(value) for key, value in x.items()}
    if isinstance(x, list):
        return [finite_json(value) for value in x]
    return x


out = pathlib.Path(__file__).with_name("attention.json")
document = {"tiled": tiled_cases, "precision": precision_cases, "io": io_cases,
            "backward": backward_cases, "split": split_cases, "online": online_cases}
out.write_text(json.dumps(finite_json(document), allow_nan=False) + "\n")
print(f"wrote {out}: {len(tiled_cases)} tiled, {len(precision_cases)} precision, {len(io_cases)} io, "
      f"{len(backward_cases)} backward, {len(split_cases)} split, {len(online_cases)} online cases "
      f"(numpy {np.__version__}, torch {torch.__version__})")
