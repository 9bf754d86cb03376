"""`spikeport report RUN`: a self-contained HTML page, opened in headless Chromium (skipped only
when no chromium is installed: `apt-get install -y chromium`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from spikeport.cli import main
from spikeport.paths import has_absolute_path, relative_text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("report") / "digits"
    assert main(["convert", "digits_sbp", "-o", str(run)]) == 0
    assert main(["run", str(run), "--backend", "emulator", "--samples", "12",
                 "--no-progress"]) == 0
    assert main(["run", str(run), "--learn", "--backend", "emulator", "--samples", "12",
                 "--no-progress"]) == 0
    assert main(["energy", str(run), "--backend", "emulator", "--no-baselines",
                 "--profile", "loihi1"]) == 0
    assert main(["report", str(run)]) == 0
    return run


def _strip_images(text: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)


def test_no_absolute_paths_in_any_report(run_dir):
    files = [p for p in run_dir.iterdir() if p.suffix in (".json", ".md", ".html")]
    assert {"emulator_infer.json", "energy.json", "energy.md", "report.html"} <= {
        p.name for p in files}
    for p in files:
        text = _strip_images(p.read_text())
        assert str(run_dir) not in text and str(run_dir.parent) not in text, p.name
        assert not has_absolute_path(text), (p.name, re.findall(r"\s/\S+/\S+", text)[:3])
    # what the reports point to is relative to the folder and still readable
    summary = json.loads((run_dir / "emulator_learn.json").read_text())
    assert summary["fixed_network"] == "fixed" and summary["learned_network"] == "emulator_learned"


def test_relative_text():
    base = Path("/data/runs/x")
    assert relative_text("counts (/data/runs/x/lava_infer.json), 23.6 pJ/op, 1/64", base) == \
        "counts (lava_infer.json), 23.6 pJ/op, 1/64"
    assert relative_text("source /data/art/spec.yaml", base) == "source ../../art/spec.yaml"
    assert relative_text("# net (/data/runs/x)", base) == "# net (x)"
    assert relative_text("far /srv/a/b/c/spec.yaml", base) == "far spec.yaml"
    profile = Path(__import__("spikeport").__file__).parent / "hw_profiles" / "loihi1.toml"
    assert relative_text(f"profile {profile}", base) == "profile spikeport/hw_profiles/loihi1.toml"


def test_page_is_self_contained(run_dir):
    page = (run_dir / "report.html").read_text()
    # nothing fetched from anywhere: no external or relative src/href, images are data URIs
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    n_png = len(list(run_dir.glob("*.png")))
    assert n_png >= 1 and page.count('src="data:image/png;base64,') == n_png
    infer = json.loads((run_dir / "emulator_infer.json").read_text())
    acc = f"{100 * infer['accuracy']:.1f}%"
    assert re.search(r'data-key="emulator_infer.accuracy">.*?' + re.escape(acc), page)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_renders_in_headless_chromium(run_dir, tmp_path):
    page = (run_dir / "report.html").resolve()
    url = page.as_uri()
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
              "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True,
                         timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the page's own script counted the figures the browser decoded
    n_img = (run_dir / "report.html").read_text().count("<img ")
    m = re.search(r'<body data-images-loaded="(\d+)"', dom.stdout)
    assert m and int(m.group(1)) == n_img >= 1, dom.stdout[:500]
    infer = json.loads((run_dir / "emulator_infer.json").read_text())
    nb = infer["neurobench"]["workload"]["SynapticOperations"]["Effective_ACs"]
    for text in (f"{100 * infer['accuracy']:.1f}%", f"{nb:,.1f}", "Key numbers",
                 "NeuroBench", "Energy"):
        assert text in dom.stdout, text
    console = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, console
    shot = tmp_path / "shot.png"
    res = subprocess.run(common + [f"--screenshot={shot}", "--window-size=1200,1600", url],
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)[..., :3]
    # not blank: dark text on white and coloured plot pixels
    assert img.std() > 0.05 and (img.mean(axis=2) < 0.3).mean() > 0.001
    assert not [ln for ln in res.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]


def test_errors(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no report found" in err


def test_markdown_subset(tmp_path):
    import matplotlib.pyplot as plt

    from spikeport.analysis.html_report import markdown_to_html

    fig = plt.figure(figsize=(1, 1))
    fig.savefig(tmp_path / "a.png")
    plt.close(fig)
    used = set()
    out = markdown_to_html("# T\n\n| a | b |\n|---|---:|\n| x<y | **2** |\n\n- one `c`\n\n"
                           "![plot](a.png)\n![gone](../b.png)\n", tmp_path, used)
    assert "<h3>T</h3>" in out and '<td class="num"><strong>2</strong></td>' in out
    assert "<td class=\"\">x&lt;y</td>" in out and "<li>one <code>c</code></li>" in out
    assert used == {"a.png"} and out.count("data:image/png;base64,") == 1
    assert np.isfinite(len(out))
