/// The stylesheet of exported pages: system fonts only, a light and a dark scheme from the
/// reader's settings, a narrow-screen layout, and a print layout without colour backgrounds.
enum HTMLStyle {
    static let css = """
    :root{color-scheme:light dark;--fg:#1d1f23;--muted:#5d6470;--bg:#fdfdfc;--box:#f3f4f6;--line:#d6d9de;--accent:#2f5fa8;--pass:#1f7a3a;--fail:#b3261e;
    --sign:#f4d7a1;--exp:#b9d8f2;--man:#cfe8c4}
    @media (prefers-color-scheme:dark){:root{--fg:#e4e6ea;--muted:#a0a7b3;--bg:#15171a;--box:#1f2226;--line:#3a3f46;--accent:#8fb4ec;--pass:#6fcf8a;--fail:#f28b82;
    --sign:#6b5526;--exp:#274a66;--man:#34532c}}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--fg);font:17px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
    main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}
    h1{font-size:1.9rem;line-height:1.25}h2{margin-top:2.2rem;border-bottom:1px solid var(--line)}
    a{color:var(--accent)}
    code,pre,.n{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.9em}
    pre{background:var(--box);padding:.75rem;overflow-x:auto;border-radius:6px}
    math[display=block]{margin:.8rem 0;overflow-x:auto;overflow-y:hidden}
    .live{font-weight:600}
    .summary{color:var(--muted);font-size:1.05rem}.note{border-left:3px solid var(--accent);padding-left:.75rem}
    .scroll{overflow-x:auto}
    table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.2rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
    caption{text-align:left;font-size:.8rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
    .cell{background:var(--box);border:1px solid var(--line);border-radius:8px;padding:.6rem 1rem;margin:1.4rem 0;break-inside:avoid}
    .cell header h3{margin:.2rem 0 0;font-size:1.05rem}.cell-meta{margin:0;color:var(--muted);font-size:.85rem}
    .vec{word-break:break-word}.count{color:var(--muted)}
    .matrix td{border:none;padding:0 .5rem;text-align:right}
    figure.chart{margin:.4rem 0}svg.chart{width:100%;max-width:560px;height:auto}
    .bits td{font-family:ui-monospace,monospace;border:1px solid var(--line);text-align:center}
    .bits .sign{background:var(--sign)}.bits .exponent{background:var(--exp)}.bits .mantissa{background:var(--man)}
    .bits .f0{background:var(--sign)}.bits .f1{background:var(--exp)}.bits .f2{background:var(--man)}
    .bits .names td{border:none;font-size:.75rem;color:var(--muted)}
    .expectations{list-style:none;padding-left:0}.pass .mark{color:var(--pass)}.fail .mark,.fail{color:var(--fail)}
    .status{margin:.2rem 0;font-size:.8rem;color:var(--muted)}.status.problem{color:var(--fail)}
    .edited{font-size:.75rem;color:var(--accent)}
    .question{border-left:4px solid var(--accent);padding:.2rem 1rem;margin:1.4rem 0}
    .question-label{font-size:.8rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin-bottom:0}.question-label code{text-transform:none}
    details{margin:.4rem 0}summary{cursor:pointer;color:var(--accent)}
    .page-footer{max-width:46rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.8rem}
    @media (max-width:600px){body{font-size:16px}main{padding:1rem .7rem 2rem}.cell{padding:.5rem .6rem}}
    @media print{:root{--fg:#000;--muted:#444;--bg:#fff;--box:#fff;--line:#999}body{font-size:11pt}
    main{max-width:none;padding:0}.cell,.question{break-inside:avoid}a{color:#000}
    details::details-content{content-visibility:visible;display:contents}}
    """
}
