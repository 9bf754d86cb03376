"""Fuzz: every file kind a command reads after a spec — a trained artefact (``convert``), the
fixed-point network ``fixed/network.json`` + ``weights.npz`` (``run``), run summaries and
metrics (``energy``), spike files, IDX files, profiles, sweep files — and output paths. Each
corruption must give one clean line (exit 2) naming the file and the field; each fair input a
correct result."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from fuzz_support import COUNTS, DEFECTS, TINY, api_outcome, record, refresh_hash, report, run_cli

from spikeport.data.mnist import read_idx_images, read_idx_labels
from spikeport.data.spikefile import load_spikes
from spikeport.flow.result import RunResult
from spikeport.hw_profiles.profile import load_profile
from spikeport.models.artefact import Artefact, save_artefact
from spikeport.models.spec import load_spec
from spikeport.models.weights import initial_weights

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module", autouse=True)
def tally(tmp_path_factory):
    COUNTS.clear()
    DEFECTS.clear()
    yield
    report(tmp_path_factory.getbasetemp(), "files")


@pytest.fixture(scope="module")
def artefact(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("art")
    (d / "tiny.yaml").write_text(TINY)
    net = load_spec(d / "tiny.yaml")
    save_artefact(Artefact(net, initial_weights(net), {}, {"dataset": "digits"}), d / "artefact")
    return d / "artefact"


@pytest.fixture(scope="module")
def converted(artefact, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    kind, _, detail = run_cli("convert", artefact, "-o", out)
    assert kind == "exit0", detail
    return out


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


# ---------------------------------------------------------------------------- artefacts

def _weights(art: Path) -> dict:
    with np.load(art / "weights.npz") as z:
        return {k: z[k] for k in z.files}


def _set_weights(art: Path, **changes) -> None:
    w = _weights(art)
    for k, v in changes.items():
        if v is None:
            w.pop(k, None)
        else:
            w[k] = v
    np.savez(art / "weights.npz", **w)


ART_CASES = {
    "complex weights": (lambda a: _set_weights(a, **{"pixels->hidden": _weights(a)[
        "pixels->hidden"] + 1j}), ("pixels->hidden", "complex")),
    "nan weight": (lambda a: _set_weights(a, **{"pixels->hidden": np.full((64, 12), np.nan)}),
                   ("pixels->hidden", "finite")),
    "weight above w_max": (lambda a: _set_weights(a, **{"hidden->output": np.full((12, 10),
                                                                                  3.0)}),
                           ("hidden->output", "w_max")),
    "transposed weights": (lambda a: _set_weights(a, **{"pixels->hidden": np.zeros((12, 64))}),
                           ("pixels->hidden", "shape")),
    "missing projection": (lambda a: _set_weights(a, **{"pixels->hidden": None}),
                           ("pixels->hidden",)),
    "negative threshold": (lambda a: _set_weights(a, **{"threshold/hidden": np.array(-1.0)}),
                           ("threshold/hidden", "> 0")),
    "zero threshold": (lambda a: _set_weights(a, **{"threshold/hidden": np.zeros(12)}),
                       ("threshold/hidden",)),
    "tiny threshold (vth 0)": (lambda a: _set_weights(a, **{"threshold/hidden":
                                                            np.full(12, 1e-9)}),
                               ("hidden", "vth")),
    "object array": (lambda a: np.savez(a / "weights.npz", **{
        "pixels->hidden": np.array([None], dtype=object)}), ("pickle",)),
    "weights not a zip": (lambda a: (a / "weights.npz").write_bytes(b"PK\x03\x04garbage"),
                          ("weights.npz",)),
    "metrics a list": (lambda a: (a / "metrics.json").write_text("[1, 2]"),
                       ("metrics.json", "object")),
    "metrics not JSON": (lambda a: (a / "metrics.json").write_text("{nope"),
                         ("metrics.json", "JSON")),
    "metrics accuracy 7": (lambda a: (a / "metrics.json").write_text(json.dumps(
        {"epochs": [{"epoch": 0, "val_accuracy": 7}]})), ("val_accuracy",)),
    "metrics NaN": (lambda a: (a / "metrics.json").write_text('{"x": NaN}'), ("NaN",)),
    "spec of another network": (lambda a: (a / "spec.yaml").write_text(
        TINY.replace("n: 12", "n: 13")), ("shape",)),
}


@pytest.mark.parametrize("case", list(ART_CASES))
def test_corrupt_artefact_is_refused_by_convert(case, artefact, tmp_path):
    art = _copy(artefact, tmp_path)
    corrupt, must = ART_CASES[case]
    corrupt(art)
    kind, _, detail = run_cli("convert", art, "-o", tmp_path / "out")
    assert record(case, kind, detail, "error", must) == "clean", detail


# ---------------------------------------------------------------------------- fixed network

def _doc(run: Path) -> dict:
    return json.loads((run / "fixed" / "network.json").read_text())


def _put(run: Path, doc) -> None:
    (run / "fixed" / "network.json").write_text(json.dumps(doc))


def _edit(fn):
    def apply(run):
        doc = _doc(run)
        fn(doc)
        _put(run, doc)
    return apply


def _arrays(fn):
    """Rewrite weights.npz through ``fn`` and refresh the stored hash, as a careful corrupter
    would: only the value checks can catch it."""
    def apply(run):
        npz = run / "fixed" / "weights.npz"
        with np.load(npz) as z:
            arrays = {k: z[k] for k in z.files}
        fn(arrays)
        np.savez(npz, **arrays)
        refresh_hash(run / "fixed")
    return apply


def _pop(doc, name):
    return next(p for p in doc["populations"] if p["name"] == name)


FIXED_CASES = {
    "a JSON list": (lambda r: _put(r, [1, 2]), ("network.json", "object")),
    "not JSON": (lambda r: (r / "fixed" / "network.json").write_text("{"), ("JSON",)),
    "non-UTF-8": (lambda r: (r / "fixed" / "network.json").write_bytes(b"{\xff}"), ("UTF-8",)),
    "no weights_sha256": (_edit(lambda d: d.pop("weights_sha256")), ("weights_sha256",)),
    "no projections": (_edit(lambda d: d.pop("projections")), ("projections",)),
    "projections an object": (_edit(lambda d: d.update(projections={})), ("projections",)),
    "string threshold": (_edit(lambda d: _pop(d, "hidden").update(vth="high")), ("vth",)),
    "du out of range": (_edit(lambda d: _pop(d, "hidden").update(du=5000)), ("du", "4095")),
    "negative vth": (_edit(lambda d: _pop(d, "hidden").update(vth=-3)), ("vth",)),
    "vth list too short": (_edit(lambda d: _pop(d, "hidden").update(vth=[5, 6])), ("vth",)),
    "bias_exp 9": (_edit(lambda d: _pop(d, "hidden").update(bias_exp=9)), ("bias_exp",)),
    "huge weight_exp": (_edit(lambda d: d["projections"][0].update(weight_exp=10**6)),
                        ("weight_exp",)),
    "float weight_exp": (_edit(lambda d: d["projections"][0].update(weight_exp=1.5)),
                         ("weight_exp",)),
    "unknown sign mode": (_edit(lambda d: d["projections"][0].update(sign_mode="both")),
                          ("sign_mode",)),
    "unknown post": (_edit(lambda d: d["projections"][0].update(post="nobody")), ("post",)),
    "n of zero": (_edit(lambda d: _pop(d, "hidden").update(n=0)), ("n",)),
    "dt negative": (_edit(lambda d: d.update(dt=-0.001)), ("dt",)),
    "reset a string": (_edit(lambda d: d.update(reset="yes")), ("reset",)),
    "unknown population key": (_edit(lambda d: _pop(d, "hidden").update(gain=2)), ("gain",)),
    "teacher of nobody": (_edit(lambda d: d["teacher"].update(population="ghost")),
                          ("population",)),
    "rule not an object": (_edit(lambda d: d["projections"][1].update(rule=[1])), ("rule",)),
    "rule missing keys": (_edit(lambda d: d["projections"][1].update(rule={"kind": "x"})),
                          ("rule",)),
    "wrong schema": (_edit(lambda d: d.update(schema="spikeport-fixed/9")), ("schema",)),
    "weights.npz removed": (lambda r: (r / "fixed" / "weights.npz").unlink(), ("weights.npz",)),
    "weights changed, hash stale": (lambda r: np.savez(r / "fixed" / "weights.npz",
                                                       x=np.zeros(1)), ("SHA-256",)),
    "weights beyond 8 bits": (_arrays(lambda a: a.update(p0_weights=a["p0_weights"] * 0 + 900)),
                              ("p0_weights", "255")),
    "transposed weights": (_arrays(lambda a: a.update(p0_weights=a["p0_weights"].T.copy())),
                           ("p0_weights", "shape")),
    "NaN weights": (_arrays(lambda a: a.update(p0_weights=np.full(a["p0_weights"].shape,
                                                                  np.nan))),
                    ("p0_weights", "float")),
    "weight on an absent synapse": (_arrays(lambda a: a.update(
        p0_connectivity=np.zeros_like(a["p0_connectivity"]),
        p0_weights=np.ones_like(a["p0_weights"]) * 2)), ("absent",)),
    "connectivity of ints": (_arrays(lambda a: a.update(
        p0_connectivity=a["p0_connectivity"].astype(np.int64))), ("p0_connectivity",)),
    "array missing": (_arrays(lambda a: a.pop("p1_connectivity")), ("p1_connectivity",)),
}


@pytest.mark.parametrize("case", list(FIXED_CASES))
def test_corrupt_fixed_network_is_refused_by_run(case, converted, tmp_path):
    run = _copy(converted, tmp_path)
    corrupt, must = FIXED_CASES[case]
    corrupt(run)
    kind, _, detail = run_cli("run", run, "--samples", 2, "--no-progress")
    assert record(case, kind, detail, "error", must) == "clean", detail


def test_fixed_network_fifo_is_refused(converted, tmp_path):
    run = _copy(converted, tmp_path)
    (run / "fixed" / "network.json").unlink()
    os.mkfifo(run / "fixed" / "network.json")
    kind, _, detail = run_cli("run", run, "--samples", 2, "--no-progress")
    assert record("network.json FIFO", kind, detail, "error", ("FIFO",)) == "clean", detail


# ---------------------------------------------------------------------------- run summaries

def _summary(network="fuzz_tiny", **changes) -> dict:
    s = {"backend": "emulator", "mode": "infer", "network": network, "samples": 2,
         "dataset": "digits", "split": "test", "wall_time_s": 0.5, "steps_per_s": 40.0,
         "ops": {"population:hidden": {"neuron_updates": 240, "spikes": 7},
                 "population:output": {"neuron_updates": 200, "spikes": 3},
                 "projection:pixels->hidden": {"syn_ops": 300},
                 "projection:hidden->output": {"syn_ops": 70},
                 "input:pixels": {"values_sent": 60}},
         "rates_hz": {"hidden": 29.0, "output": 15.0}, "accuracy": 0.5}
    s.update(changes)
    return s


SUMMARY_CASES = {
    "a JSON list": ("[]", ("emulator_infer.json", "object")),
    "samples 0": (json.dumps(_summary(samples=0)), ("samples",)),
    "samples a string": (json.dumps(_summary(samples="2")), ("samples",)),
    "negative op count": (json.dumps(_summary(ops={"population:hidden": {"spikes": -5}})),
                          ("spikes", ">= 0")),
    "NaN op count": ('{"samples": 2, "ops": {"population:hidden": {"spikes": NaN}}}',
                     ("NaN",)),
    "ops a string": (json.dumps(_summary(ops="many")), ("ops",)),
    "unknown component": (json.dumps(_summary(ops={"gpu:x": {"flops": 1}})), ("gpu:x",)),
    "accuracy 2": (json.dumps(_summary(accuracy=2.0)), ("accuracy",)),
    "no ops": (json.dumps({"samples": 2}), ("ops",)),
    "truncated": (json.dumps(_summary())[:40], ("JSON",)),
}


@pytest.mark.parametrize("case", list(SUMMARY_CASES))
def test_corrupt_run_summary_is_refused_by_energy(case, converted, tmp_path):
    run = _copy(converted, tmp_path)
    text, must = SUMMARY_CASES[case]
    (run / "emulator_infer.json").write_text(text)
    kind, _, detail = run_cli("energy", run, "--no-baselines", "--json")
    assert record(case, kind, detail, "error", must) == "clean", detail


def test_fair_run_summary_is_priced(converted, tmp_path):
    run = _copy(converted, tmp_path)
    (run / "emulator_infer.json").write_text(json.dumps(_summary()))
    kind, _, detail = run_cli("energy", run, "--no-baselines", "--json")
    report_ = json.loads((run / "energy.json").read_text()) if kind == "exit0" else {}
    ok = kind == "exit0" and report_["phases"]["inference"]["samples"] == 2
    assert record("fair summary", "exit0" if ok else kind, detail, "ok") == "accepted", detail


def test_converting_another_network_clears_the_old_runs(converted, tmp_path):
    """A reused run folder never prices the old network's runs as the new one's."""
    run = _copy(converted, tmp_path)
    (run / "emulator_infer.json").write_text(json.dumps(_summary()))
    (run / "fixed_learned").mkdir()
    other = tmp_path / "other.yaml"
    other.write_text(TINY.replace("n: 12", "n: 20").replace("fuzz_tiny", "fuzz_other"))
    kind, _, detail = run_cli("convert", other, "-o", run)
    ok = (kind == "exit0" and not (run / "emulator_infer.json").exists()
          and not (run / "fixed_learned").exists() and not (run / ".incomplete").exists()
          and json.loads((run / "fixed" / "network.json").read_text())["name"] == "fuzz_other")
    assert record("reused folder", "exit0" if ok else "other", detail, "ok") == "accepted"
    kind, _, detail = run_cli("energy", run, "--no-baselines")
    assert record("reused folder, energy", kind, detail, "error",
                  ("emulator_infer.json",)) == "clean", detail


def test_interrupted_folder_is_refused_until_rerun(converted, tmp_path):
    run = _copy(converted, tmp_path)
    (run / ".incomplete").write_text("spikeport convert\n")
    kind, _, detail = run_cli("run", run, "--samples", 2, "--no-progress")
    assert record("marked folder", kind, detail, "error", ("interrupted",)) == "clean", detail


# ---------------------------------------------------------------------------- output paths

def test_output_paths_that_cannot_be_folders(artefact, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    cases = {
        "convert -o FILE": ("convert", artefact, "-o", a_file),
        "convert -o FILE/sub": ("convert", artefact, "-o", a_file / "sub"),
        "compare -o FILE": ("compare", artefact, "-o", a_file),
        "import-nir -o FILE": ("import-nir", a_file, "-o", a_file),
        "export-nir -o FOLDER": ("export-nir", artefact, "-o", tmp_path),
    }
    for case, argv in cases.items():
        kind, _, detail = run_cli(*argv)
        assert record(case, kind, detail, "error", (str(argv[-1]),)) == "clean", detail


def test_files_are_readable_as_the_umask_says(converted):
    umask = os.umask(0o022)
    os.umask(umask)
    want = 0o666 & ~umask
    modes = {p.name: p.stat().st_mode & 0o777 for p in converted.rglob("*") if p.is_file()}
    ok = modes and all(m == want for m in modes.values())
    assert record("umask modes", "exit0" if ok else "other", str(modes), "ok") == "accepted", \
        modes


# ---------------------------------------------------------------------------- data files

def _idx_images(n, rows=2, cols=2, extra=b"") -> bytes:
    return struct.pack(">IIII", 2051, n, rows, cols) + bytes(n * rows * cols) + extra


DATA_CASES = {
    "sparse spikes claiming 1e15 entries": (
        "spikes.npz", lambda p: np.savez(p, spikes_shape=np.array([10**5, 10**5, 10**5]),
                                         spikes_index=np.array([0])),
        load_spikes, ("memory",)),
    "spikes of floats": ("spikes.npz", lambda p: np.savez(p, spikes=np.zeros((1, 2, 3))),
                         load_spikes, ("dtype",)),
    "spikes of 2s": ("spikes.npz", lambda p: np.savez(p, spikes=np.full((1, 2, 3), 2)),
                     load_spikes, ("0/1",)),
    "spikes 2-D": ("spikes.npz", lambda p: np.savez(p, spikes=np.zeros((2, 3), bool)),
                   load_spikes, ("3 dimensions",)),
    "labels negative": ("spikes.npz", lambda p: np.savez(p, spikes=np.zeros((2, 2, 3), bool),
                                                       labels=np.array([-1, 0])),
                        load_spikes, ("labels",)),
    "npz bomb": ("spikes.npz", lambda p: _npz_bomb(p), load_spikes, ("memory",)),
    "run result meta a list": ("r.npz", lambda p: np.savez(p, meta_json=np.frombuffer(
        b"[1]", np.uint8)), RunResult.load, ("meta_json",)),
    "run result meta not UTF-8": ("r.npz", lambda p: np.savez(p, meta_json=np.frombuffer(
        b"\xff", np.uint8)), RunResult.load, ("meta_json",)),
    "empty IDX images": ("x-images-idx3-ubyte", lambda p: p.write_bytes(_idx_images(0)),
                         read_idx_images, ("0 images",)),
    "empty IDX file": ("x-images-idx3-ubyte", lambda p: p.write_bytes(b""),
                       read_idx_images, ("truncated",)),
    "IDX labels of 11": ("x-labels-idx1-ubyte", lambda p: p.write_bytes(
        struct.pack(">II", 2049, 1) + b"\x0b"), read_idx_labels, ("label 11",)),
    "IDX gzip truncated": ("x-images-idx3-ubyte.gz", lambda p: p.write_bytes(
        gzip.compress(_idx_images(3))[:-8]), read_idx_images, ("gzip",)),
    "IDX FIFO": ("x-images-idx3-ubyte", lambda p: os.mkfifo(p), read_idx_images, ("FIFO",)),
    "profile non-UTF-8": ("chip.toml", lambda p: p.write_bytes(b"name = '\xff'\n"),
                          load_profile, ("UTF-8",)),
    "profile FIFO": ("chip.toml", lambda p: os.mkfifo(p), load_profile, ("FIFO",)),
    "profile malformed": ("chip.toml", lambda p: p.write_text("name = \n"), load_profile,
                          ("TOML",)),
}


def _npz_bomb(path: Path) -> None:
    """A valid .npz whose one array's header declares 2**50 bytes (the data is absent)."""
    import zipfile

    header = {"descr": "<f8", "fortran_order": False, "shape": (2**47,)}
    buf = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("spikes.npy", buf.getvalue())


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_corrupt_data_files(case, tmp_path):
    name, write, reader, must = DATA_CASES[case]
    path = tmp_path / name
    write(path)
    kind, detail = api_outcome(reader, path)
    assert record(case, kind, detail, "error", must) == "clean", detail


def test_fair_data_files_are_read(tmp_path):
    spikes = np.zeros((2, 3, 4), bool)
    spikes[1, 2, 3] = True
    np.savez(tmp_path / "s.npz", spikes_shape=np.array([2, 3, 4]), spikes_index=np.array([23]))
    got = load_spikes(tmp_path / "s.npz").spikes
    (tmp_path / "x-images-idx3-ubyte").write_bytes(_idx_images(3))
    ok = np.array_equal(got, spikes) and read_idx_images(tmp_path / "x-images-idx3-ubyte"
                                                         ).shape == (3, 2, 2)
    assert record("fair data", "exit0" if ok else "other", "", "ok") == "accepted"


# ---------------------------------------------------------------------------- sweep files

SWEEP = """\
schema: spikeport-sweep/1
name: fz
base: {base}
epochs: 1
parameters:
  eta: projections.hidden->output.learning.eta
grid:
  eta: {values}
"""


@pytest.mark.parametrize("case", ["huge grid", "duplicate key", "fifo", "grid a string"])
def test_corrupt_sweep_files(case, tmp_path):
    (tmp_path / "base.yaml").write_text(TINY)
    path = tmp_path / "sweep.yaml"
    if case == "huge grid":
        text = SWEEP.format(base="base.yaml", values="[0.1, 0.2]").replace(
            "grid:\n  eta: [0.1, 0.2]", "seeds: [" + ", ".join(map(str, range(200))) + "]\n"
            "seed_fields: [seed]\ngrid:\n  eta: [" + ", ".join(["0.001"] * 100) + "]")
        must = ("at most",)
    elif case == "duplicate key":
        text = SWEEP.format(base="base.yaml", values="[0.1]") + "epochs: 2\n"
        must = ("duplicate key", "epochs")
    elif case == "grid a string":
        text = SWEEP.format(base="base.yaml", values="lots")
        must = ("grid",)
    else:
        os.mkfifo(path)
        text, must = None, ("FIFO",)
    if text is not None:
        path.write_text(text)
    kind, _, detail = run_cli("sweep", path, "--dry-run", "-o", tmp_path / "res")
    assert record(case, kind, detail, "error", must) == "clean", detail
