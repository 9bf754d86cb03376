"""`spikeport report RUN`: one self-contained HTML page per run folder.

Whatever the folder holds is shown: deploy, run summaries (Lava or emulator, with their
NeuroBench metrics), compare, energy (and SANA-FE's second opinion), quantization, continual
and sweep reports. The page opens with the key numbers read from the JSON reports, then each
Markdown report rendered as HTML, then every figure. Plots are embedded as ``data:`` URIs; the
page loads nothing from anywhere (no scripts or styles from the network, no files beside it),
so it can be mailed or archived on its own. No absolute path appears in it: paths are shown
relative to the run folder (:mod:`spikeport.paths`).

A small inline script counts the figures the browser decoded and writes the count into
``<body data-images-loaded>``, so a headless browser test can check the page rendered.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

from spikeport.analysis.neurobench import format_neurobench
from spikeport.errors import DataError
from spikeport.io import atomic_write_text
from spikeport.paths import relative_paths, relative_text

# Markdown reports in the order they appear (the title, the file)
MARKDOWN = (("Deployment", "deploy.md"), ("Comparison", "compare.md"),
            ("Energy", "energy.md"), ("Second opinion (SANA-FE)", "sanafe.md"),
            ("Quantization", "quantization.md"), ("Continual learning", "continual.md"),
            ("Sweep", "report.md"))
RUN_SUMMARIES = tuple(f"{b}_{m}.json" for b in ("lava", "emulator") for m in ("infer", "learn"))

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1rem;color:#1b1f24;background:#fff;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;
margin-top:2.2rem}h3{margin-top:1.4rem}table{border-collapse:collapse;margin:.6rem 0;
font-size:.92rem}th,td{border:1px solid #d0d7de;padding:.25rem .55rem;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{background:#f6f8fa;padding:0 .25rem;border-radius:3px}img{max-width:100%;
border:1px solid #d0d7de;margin:.5rem 0}.muted{color:#57606a;font-size:.9rem}
figure{margin:1rem 0}figcaption{color:#57606a;font-size:.9rem}
"""

SCRIPT = """
window.addEventListener('load', function () {
  var n = 0, imgs = document.images;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) { n++; }
  }
  document.body.setAttribute('data-images-loaded', String(n));
});
"""


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _j(v) -> str:
    if v is None:
        return "n/a"
    for unit, f in (("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)):
        if abs(v) >= f:
            return f"{v / f:.3g} {unit}"
    return f"{v:.3g} J"


def _rng(r) -> str:
    if isinstance(r, dict) and "low" in r:
        lo, hi = _j(r["low"]), _j(r["high"])
        return lo if lo == hi else f"{lo} – {hi}"
    return _j(r) if isinstance(r, (int, float)) else "n/a"


def key_numbers(run: Path) -> list[tuple[str, str, str]]:
    """(id, label, value) rows read from the folder's JSON reports."""
    rows = []
    d = _read_json(run / "deploy.json")
    if d:
        rows += [("deploy.brian2_accuracy", "Brian2 (float) accuracy",
                  _pct(d.get("brian2_accuracy"))),
                 ("deploy.lava_accuracy", "Lava fixed-point accuracy",
                  _pct(d.get("lava_accuracy"))),
                 ("deploy.agreement", "same class, Brian2 vs Lava",
                  _pct(d.get("classification_agreement")))]
    for name in RUN_SUMMARIES:
        s = _read_json(run / name)
        if not s:
            continue
        stem = name[:-5]
        acc = s.get("accuracy", s.get("accuracy_while_learning"))
        label = "accuracy" if "accuracy" in s else "accuracy while learning"
        rows.append((f"{stem}.accuracy", f"{stem}: {label} ({s.get('samples')} samples)",
                     _pct(acc)))
        nb = s.get("neurobench")
        if nb:
            so = nb["workload"]["SynapticOperations"]
            rows.append((f"{stem}.effective_acs", f"{stem}: NeuroBench Effective_ACs per sample",
                         f"{so['Effective_ACs']:,.1f}"))
            sp = nb["workload"].get("ActivationSparsity")
            rows.append((f"{stem}.activation_sparsity", f"{stem}: NeuroBench ActivationSparsity",
                         "n/a" if sp is None else f"{sp:.4f}"))
    c = _read_json(run / "compare.json")
    if c:
        for k, v in (c.get("infer", {}).get("accuracy") or {}).items():
            rows.append((f"compare.accuracy.{k}", f"compare: {k} accuracy", _pct(v)))
        if c.get("gates"):
            rows.append(("compare.gates", "compare: gates passed",
                         f"{sum(g['passed'] for g in c['gates'])}/{len(c['gates'])}"))
    e = _read_json(run / "energy.json")
    if e:
        for prof, p in e.get("profiles", {}).items():
            for phase, ph in p.get("phases", {}).items():
                if isinstance(ph, dict) and "dynamic_per_sample_J" in ph:
                    rows.append((f"energy.{prof}.{phase}",
                                 f"energy: {prof} {phase}, dynamic per sample",
                                 _rng(ph["dynamic_per_sample_J"])))
    sf = _read_json(run / "sanafe.json")
    if sf:
        rows.append(("sanafe.total", "SANA-FE Loihi: dynamic energy per sample",
                     _j(sf.get("energy_J_per_sample", {}).get("total"))))
        rows.append(("sanafe.rasters", "SANA-FE rasters equal to the run's",
                     "yes" if sf.get("rasters_equal") else "no"))
    ct = _read_json(run / "continual.json")
    if ct and isinstance(ct.get("methods"), dict):
        for m, r in ct["methods"].items():
            v = r.get("final_mean_accuracy")
            v = v.get("mean") if isinstance(v, dict) else v
            rows.append((f"continual.{m}", f"continual: {m} final mean accuracy", _pct(v)))
    sw = _read_json(run / "report.json")
    if sw and "points" in sw:
        rows.append(("sweep.points", f"sweep {sw.get('sweep')}: points", str(len(sw["points"]))))
    return rows


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _inline(text: str) -> str:
    """Inline Markdown (already HTML-escaped): code, bold, images, links."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return text


def markdown_to_html(md: str, run: Path, used: set) -> str:
    """The Markdown subset spikeport's reports use: headings, pipe tables, lists, images of
    files in the run folder (embedded), paragraphs."""
    out, para, lines = [], [], md.splitlines()

    def flush():
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        line = html.escape(raw, quote=False)
        img = re.fullmatch(r"!\[([^\]]*)\]\(([^)\s]+)\)", raw.strip())
        if img:
            flush()
            src = run / img.group(2)
            if src.suffix == ".png" and src.is_file() and src.resolve().parent == run.resolve():
                used.add(src.name)
                out.append(f'<figure><img alt="{html.escape(img.group(1))}" '
                           f'src="{_png_uri(src)}"><figcaption>{html.escape(src.name)}'
                           "</figcaption></figure>")
            i += 1
            continue
        if raw.startswith("#"):
            flush()
            level = min(len(raw) - len(raw.lstrip("#")) + 2, 6)  # under the section h2
            out.append(f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>")
        elif raw.startswith("|") and i + 1 < len(lines) and re.fullmatch(
                r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", lines[i + 1].strip()):
            flush()
            aligns = ["num" if c.strip().endswith(":") else ""
                      for c in lines[i + 1].strip().strip("|").split("|")]
            head = [c.strip() for c in line.strip().strip("|").split("|")]
            rows = ["<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"]
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in
                         html.escape(lines[i].rstrip(), quote=False).strip().strip("|").split("|")]
                rows.append("<tr>" + "".join(
                    f'<td class="{aligns[k] if k < len(aligns) else ""}">{_inline(c)}</td>'
                    for k, c in enumerate(cells)) + "</tr>")
                i += 1
            out.append("<table>" + "".join(rows) + "</table>")
            continue
        elif re.match(r"\s*[-*] ", raw):
            flush()
            items = []
            while i < len(lines) and re.match(r"\s*[-*] ", lines[i]):
                items.append(f"<li>{_inline(html.escape(lines[i].strip()[2:], quote=False))}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif not raw.strip():
            flush()
        else:
            para.append(line)
        i += 1
    flush()
    return "\n".join(out)


def build_report(run: str | Path) -> str:
    """The HTML page for a run folder (a string)."""
    run = Path(run)
    if not run.is_dir():
        raise DataError(f"{run}: not a folder; allowed: a run folder written by deploy, convert "
                        "+ run, compare, energy, continual or sweep")
    sections, used = [], set()
    for title, name in MARKDOWN:
        path = run / name
        if path.is_file():
            md = relative_text(path.read_text(), run)
            sections.append((title, name, markdown_to_html(md, run, used)))
    for name in RUN_SUMMARIES:
        s = _read_json(run / name)
        md_path = run / name.replace(".json", ".md")
        if s and md_path.is_file():  # the run's own Markdown, NeuroBench metrics included
            sections.append((f"Run: {name[:-5]}", md_path.name, markdown_to_html(
                relative_text(md_path.read_text(), run), run, used)))
        elif s and s.get("neurobench"):

            md = relative_text(format_neurobench(relative_paths(s["neurobench"], run)), run)
            sections.append((f"NeuroBench metrics: {name[:-5]}", name,
                             markdown_to_html(md, run, used)))
    figures = [p for p in sorted(run.glob("*.png")) if p.name not in used]
    keys = key_numbers(run)
    if not sections and not figures and not keys:
        raise DataError(f"{run}: no report found (deploy.json, compare.json, energy.json, "
                        "{lava,emulator}_{infer,learn}.json, continual.json or report.json)")
    body = [f"<h1>spikeport report: {html.escape(run.resolve().name)}</h1>",
            '<p class="muted">One page per run folder, written by <code>spikeport report'
            "</code>; paths are relative to the folder, figures are embedded.</p>"]
    if keys:
        body.append('<h2 id="key-numbers">Key numbers</h2><table>'
                    "<tr><th>quantity</th><th>value</th></tr>")
        for key, label, value in keys:
            body.append(f'<tr data-key="{html.escape(key)}"><td>{html.escape(label)}</td>'
                        f'<td class="num">{html.escape(value)}</td></tr>')
        body.append("</table>")
    for title, name, content in sections:
        body.append(f'<section data-source="{html.escape(name)}"><h2>{html.escape(title)} '
                    f'<span class="muted">({html.escape(name)})</span></h2>{content}</section>')
    if figures:
        body.append('<h2 id="figures">Figures</h2>')
        for p in figures:
            body.append(f'<figure><img alt="{html.escape(p.stem)}" src="{_png_uri(p)}">'
                        f"<figcaption>{html.escape(p.name)}</figcaption></figure>")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>spikeport report: {html.escape(run.resolve().name)}</title>"
            f"<style>{CSS}</style><script>{SCRIPT}</script></head>"
            "<body data-images-loaded=\"0\">\n" + "\n".join(body) + "\n</body></html>\n")
    return relative_text(page, run)


def write_report(run: str | Path, out: str | Path | None = None) -> Path:
    """Write the page (default ``RUN/report.html``) atomically; return its path."""

    run = Path(run)
    path = Path(out) if out else run / "report.html"
    atomic_write_text(path, build_report(run))
    return path
