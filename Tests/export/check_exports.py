#!/usr/bin/env python3
"""Checks `derive export` the way a reader meets it.

For every bundled lesson:
  * the web page, opened in headless Chromium: no console error, no page error, no request
    beyond the page itself, no script element; every number shown in a cell's outputs, and
    every value in the prose that names a cell's output, equals what `derive run --format json`
    gives (exactly where the page prints the shortest round-trip form; to the digits shown
    where the prose formats it);
  * the Jupyter notebook: `nbformat.validate` passes and `jupyter nbconvert --to html` opens it.
Then an escape test: a lesson whose text holds <script>, </svg>, quotes and control
characters exports to a page where none of it is live markup.
A screenshot of one page is written under .build/ for a person to look at.

Usage: Tests/export/check_exports.py [DERIVE_BINARY]   (default .build/debug/derive)
Needs: chromium (Debian), and from PyPI playwright (driving the system Chromium; it downloads
no browser), nbformat and nbconvert.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DERIVE = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".build/debug/derive")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

failures = []
checks = 0


def check(ok, message):
    global checks
    checks += 1
    if not ok:
        failures.append(message)


def derive(*args, lessons=None, cwd=None):
    command = [DERIVE] + (["--lessons", str(lessons)] if lessons else []) + list(args)
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env={**os.environ, "DERIVE_DB": str(DB)})


def as_number(v):
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v)
    if isinstance(v, bool):
        return None
    return float(v)


def shown_number(text):
    """A number as the page prints it (shortest form, inf/NaN, a thousands-free decimal)."""
    t = text.strip().replace("−", "-")
    if t in ("inf", "+inf"):
        return math.inf
    if t == "-inf":
        return -math.inf
    if t == "NaN":
        return math.nan
    return float(t)


def same(shown, expected, rel=0.0, absolute=0.0):
    if math.isnan(expected):
        return math.isnan(shown)
    if math.isinf(expected):
        return shown == expected
    return abs(shown - expected) <= max(absolute, rel * abs(expected))


def unit_in_last_place(text):
    """Half a unit in the last digit a formatted number shows: how far it may be from the truth."""
    t = text.strip().replace("−", "-").rstrip("%")
    m = re.fullmatch(r"[-+]?(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?", t)
    if not m:
        return None
    decimals = len(m.group(2) or "")
    exponent = int(m.group(3) or 0)
    return 0.5 * 10 ** (exponent - decimals) * 1.000001


def lookup(outputs_by_cell, ref):
    m = re.fullmatch(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)((?:\[\d+\])*)", ref)
    if not m:
        return None
    value = outputs_by_cell.get(m.group(1), {}).get(m.group(2))
    for index in re.findall(r"\[(\d+)\]", m.group(3)):
        if not isinstance(value, list):
            return None
        value = value[int(index)]
    return value


READ_PAGE = """() => {
  const cells = [...document.querySelectorAll('section.cell')].map(section => ({
    id: section.dataset.cell,
    outputs: [...section.querySelectorAll('td.value')].map(td => ({
      name: td.dataset.output, kind: td.dataset.kind,
      numbers: [...td.querySelectorAll(':scope > .n, :scope > .vec > .n, :scope > table.matrix .n')].map(n => n.textContent),
      percent: td.querySelector(':scope > .n[data-percent]') !== null,
      count: (td.querySelector(':scope .count') || {}).textContent || null,
      bits: [...td.querySelectorAll(':scope > table.bits tr:first-child td')].map(c => c.textContent),
      text: (td.querySelector(':scope > .t, :scope > .b') || {}).textContent || null,
    })),
  }));
  const live = [...document.querySelectorAll('.live[data-ref]')].map(s => ({ref: s.dataset.ref, text: s.textContent}));
  return {cells, live, scripts: document.scripts.length, title: document.title};
}"""


def check_page(page, html_path, lesson_json, lesson_id):
    events = {"console": [], "requests": []}
    url = html_path.as_uri()
    page.on("console", lambda m: events["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: events["console"].append(str(e)))
    page.on("request", lambda r: events["requests"].append(r.url) if r.url != url else None)
    page.goto(url, wait_until="load")
    data = page.evaluate(READ_PAGE)
    check(not events["console"], f"{lesson_id}: console errors {events['console'][:3]}")
    check(not events["requests"], f"{lesson_id}: network requests {events['requests'][:3]}")
    check(data["scripts"] == 0, f"{lesson_id}: the page has {data['scripts']} script element(s)")

    outputs_by_cell = {c["id"]: c["outputs"] for c in lesson_json["cells"]}
    shown_cells = {c["id"]: c for c in data["cells"]}
    check(set(shown_cells) == set(outputs_by_cell), f"{lesson_id}: page cells {sorted(shown_cells)} != json cells")
    compared = 0
    for cell in data["cells"]:
        expected = outputs_by_cell.get(cell["id"], {})
        check([o["name"] for o in cell["outputs"]] == list(expected), f"{lesson_id}.{cell['id']}: output names differ")
        for out in cell["outputs"]:
            where = f"{lesson_id}.{cell['id']}.{out['name']}"
            value = expected.get(out["name"])
            if out["kind"] in ("number", "integer"):
                x = as_number(value)
                if out["percent"]:
                    ok = same(shown_number(out["numbers"][0]), x * 100, absolute=0.0500001)
                else:
                    ok = same(shown_number(out["numbers"][0]), x)
                check(ok, f"{where}: shows {out['numbers']}, json {value}")
                compared += 1
            elif out["kind"] == "vector":
                xs = [as_number(v) for v in value]
                shown = [shown_number(t) for t in out["numbers"]]
                check(len(shown) == min(len(xs), 64), f"{where}: shows {len(shown)} of {len(xs)} values")
                check(all(same(a, b) for a, b in zip(shown, xs)), f"{where}: shown values differ from json")
                if len(xs) > 64:
                    check(out["count"] == f"({len(xs)} values)", f"{where}: count {out['count']!r}")
                compared += len(shown)
            elif out["kind"] == "matrix":
                flat = [as_number(v) for row in value for v in row]
                if out["numbers"]:
                    shown = [shown_number(t) for t in out["numbers"]]
                    check(len(shown) == len(flat) and all(same(a, b) for a, b in zip(shown, flat)), f"{where}: matrix differs")
                    compared += len(shown)
                else:
                    check(out["count"] == f"{len(value)}×{len(value[0]) if value else 0} matrix", f"{where}: summary {out['count']!r}")
            elif out["kind"] == "bool":
                check(out["text"] == ("true" if value else "false"), f"{where}: shows {out['text']!r}, json {value}")
                compared += 1
            elif out["kind"] == "text":
                shown = " ".join(out["bits"]) if out["bits"] else out["text"]
                check(shown == value, f"{where}: shows {shown!r}, json {value!r}")
                compared += 1
    for span in data["live"]:
        value = lookup(outputs_by_cell, span["ref"])
        where = f"{lesson_id}: prose {{{{{span['ref']}}}}}"
        if isinstance(value, bool) or isinstance(value, list) or value is None:
            continue
        if isinstance(value, str) and as_number(value) is None:
            check(span["text"] == value, f"{where} shows {span['text']!r}, json {value!r}")
            continue
        x = as_number(value)
        text = span["text"].strip()
        if not math.isfinite(x):
            check(same(shown_number(text), x), f"{where} shows {text!r}, json {value}")
            compared += 1
            continue
        half = unit_in_last_place(text)
        if half is None:
            check(False, f"{where}: cannot read {text!r} as a number (json {value})")
            continue
        shown = shown_number(text.rstrip("%"))
        scale = 100 if text.endswith("%") else 1
        check(same(shown, x * scale, absolute=half) or same(shown, x * scale, rel=1e-15),
              f"{where} shows {text!r}, json {value}")
        compared += 1
    return compared


def check_notebook(path, lesson_id, out_dir):
    import nbformat
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        check(True, "")
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        check(False, f"{lesson_id}.ipynb: {type(e).__name__}: {e}"[:400])
        return
    run = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(out_dir), str(path)],
                         capture_output=True, text=True)
    check(run.returncode == 0, f"{lesson_id}.ipynb: nbconvert failed: {run.stderr[-400:]}")


ESCAPE_LESSON = """---
id: hostile
title: "A <script>alert('title')</script> & \\"quotes\\""
summary: Text that must never become markup </svg> <img src=x onerror=alert(1)>
---

# Escapes <script>window.__pwned = 1</script>

Prose with <b>tags</b>, </svg>, "double" and 'single' quotes, an \x1b[31m escape and a \x07 bell,
[a link](javascript:alert(1)) and `<code>` in backticks, math $a < b$ and $$</math><script>x</script>$$.

```question id=q cell=ok answer="softmax[2]" hint="</details><script>window.__pwned = 4</script>"
Which is largest, "<script>window.__pwned = 3</script>"?
```

```cell id=ok compute=softmax.safe title="</svg><script>window.__pwned = 2</script>"
x = [1, 2, 3]
expect softmax[2] > softmax[1]
```
"""


def check_escapes(page, work):
    folder = work / "hostile-lessons"
    folder.mkdir()
    (folder / "hostile.md").write_text(ESCAPE_LESSON)
    out = work / "hostile.html"
    run = derive("export", "hostile", "-o", str(out), lessons=folder)
    check(run.returncode == 0, f"hostile: export failed: {run.stderr[-400:]}")
    if run.returncode != 0:
        return
    html = out.read_text()
    check("<script" not in html.lower(), "hostile: a <script tag reached the page")
    check("javascript:" not in html, "hostile: a javascript: link reached the page")
    check("\x1b" not in html and "\x07" not in html, "hostile: control characters reached the page")
    events = []
    page.on("console", lambda m: events.append(m.text) if m.type == "error" else None)
    page.goto(out.as_uri(), wait_until="load")
    state = page.evaluate("() => ({pwned: window.__pwned, scripts: document.scripts.length, imgs: document.images.length,"
                          " text: document.body.innerText, title: document.title})")
    check(state["pwned"] is None and state["scripts"] == 0 and state["imgs"] == 0, f"hostile: live markup {state['pwned'], state['scripts'], state['imgs']}")
    for visible in ["<script>window.__pwned = 1</script>", "</svg>", "<b>tags</b>", '"double"', "'single'", "<code>"]:
        check(visible in state["text"], f"hostile: {visible!r} is not shown as text")
    check("<script>alert('title')</script>" in state["title"], f"hostile: title {state['title']!r}")
    check(not events, f"hostile: console errors {events}")


def main():
    global DB
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        DB = work / "progress.sqlite"
        listing = json.loads(derive("list", "--format", "json", lessons=ROOT / "lessons").stdout)
        ids = [lesson["id"] for lesson in listing]
        check(len(ids) >= 12, f"only {len(ids)} bundled lessons listed")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            compared = 0
            for lesson_id in ids:
                html = work / f"{lesson_id}.html"
                notebook = work / f"{lesson_id}.ipynb"
                for target, path in (("html", html), ("ipynb", notebook)):
                    run = derive("export", lesson_id, "--to", target, "-o", str(path), lessons=ROOT / "lessons")
                    check(run.returncode == 0 and path.exists(), f"{lesson_id}: export --to {target} failed: {run.stderr[-300:]}")
                truth = json.loads(derive("run", lesson_id, "--no-record", "--format", "json", lessons=ROOT / "lessons").stdout)
                page = browser.new_page(viewport={"width": 1000, "height": 1400})
                compared += check_page(page, html, truth, lesson_id)
                if lesson_id == "online-softmax":
                    shot = ROOT / ".build" / "export-online-softmax.png"
                    shot.parent.mkdir(exist_ok=True)
                    page.screenshot(path=str(shot), full_page=False)
                page.close()
                check_notebook(notebook, lesson_id, work / "nbconvert")
            page = browser.new_page()
            check_escapes(page, work)
            browser.close()
    for f in failures:
        print("FAIL", f)
    print(f"export: {len(ids)} lessons, {compared} numbers read back from the pages")
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
