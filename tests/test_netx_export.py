"""spikeport export-netx: the HDF5 layout lava-dl's netx reads, values derived here from the
fixed-point network (the run on Lava through netx itself is scripts/interop/run.sh)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from spikeport.cli import main
from spikeport.converters.netx import export_netx, netx_layers
from spikeport.converters.quantize import QuantizeOptions
from spikeport.converters.run_folder import convert
from spikeport.errors import BackendError, SpecError
from spikeport.flow.fixed import FixedNetwork

h5py = pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("netx") / "run"
    convert("digits_sbp", out, QuantizeOptions(weight_exp=0))
    return out


def _expected_effective(proj) -> np.ndarray:
    # Lava's Dense on its first step: MIXED keeps 8 magnitude bits + a sign bit, so the lowest
    # bit goes (arithmetic shift right then left = floor to an even number); EXCITATORY keeps
    # all 8 bits. With weight_exp = 0 that is the weight in vth units; netx wants (out, in).
    w = np.asarray(proj.weights, dtype=np.int64)
    if proj.sign_mode == "mixed":
        w = np.floor_divide(w, 2) * 2
    return w.T


def test_layout_and_values(run_dir, tmp_path):
    fixed = FixedNetwork.load(run_dir / "fixed")
    path = tmp_path / "net.h5"
    assert main(["export-netx", str(run_dir), "-o", str(path)]) == 0
    with h5py.File(path, "r") as f:
        layers = f["layer"]
        assert sorted(layers.keys()) == ["0", "1", "2"]
        g0 = layers["0"]
        assert g0["type"][()] == b"input"
        assert list(g0["shape"][()]) == [64]
        assert "neuron" not in g0
        for key, proj_name in (("1", "pixels->hidden"), ("2", "hidden->output")):
            g = layers[key]
            proj = fixed.projection(proj_name)
            pop = fixed.population(proj.post)
            # datasets, not attributes: netx reads only datasets
            assert isinstance(g["type"], h5py.Dataset) and g["type"][()] == b"dense"
            assert list(g["shape"][()]) == [pop.n]
            w = g["weight"][()].astype(int)
            assert w.shape == (pop.n, fixed.size(proj.pre))
            np.testing.assert_array_equal(w, _expected_effective(proj))
            assert w.min() >= -256 and w.max() <= 255
            n = g["neuron"]
            assert n["type"][()] == b"CUBA"
            assert int(n["vThMant"][()]) == pop.vth
            assert int(n["iDecay"][()]) - 1 == pop.du  # netx hands iDecay - 1 to Lava's du
            assert int(n["vDecay"][()]) == pop.dv
            assert "bias" not in g  # digits_sbp has no bias


def test_learned_weights_and_notes(run_dir, tmp_path):
    fixed = FixedNetwork.load(run_dir / "fixed")
    proj = fixed.projection("hidden->output")
    w = proj.weights.copy()
    w[w > 0] += 1  # odd learned mantissas stay: excitatory keeps every bit
    learned = fixed.with_learned(weights={proj.name: np.minimum(w, 255)})
    summary = export_netx(learned, tmp_path / "l.h5")
    with h5py.File(tmp_path / "l.h5", "r") as f:
        np.testing.assert_array_equal(f["layer/2/weight"][()], np.minimum(w, 255).T)
    notes = " ".join(summary["notes"])
    assert "learning rule (sbp) left out" in notes and "teacher of 'output'" in notes


def test_bias_divided_by_64(run_dir, tmp_path):
    fixed = FixedNetwork.load(run_dir / "fixed")
    pops = tuple(replace(p, bias_mant=3, bias_exp=7) if p.name == "hidden" else p
                 for p in fixed.populations)
    export_netx(replace(fixed, populations=pops), tmp_path / "b.h5")
    with h5py.File(tmp_path / "b.h5", "r") as f:
        # 3 << 7 = 384 state units; netx's LIF uses bias_exp 6: 384 / 64 = 6
        np.testing.assert_array_equal(f["layer/1/bias"][()], np.full(100, 6))
    pops = tuple(replace(p, bias_mant=3, bias_exp=2) if p.name == "hidden" else p
                 for p in fixed.populations)
    with pytest.raises(BackendError, match="layer 'hidden'.*bias 12 state units"):
        netx_layers(replace(fixed, populations=pops))


def test_refusals(run_dir, tmp_path):
    fixed = FixedNetwork.load(run_dir / "fixed")
    out = fixed.projection("hidden->output")
    # weights beyond 8 bits after the exponent's shift
    big = replace(fixed, projections=(fixed.projection("pixels->hidden"),
                                      replace(out, weight_exp=3)))  # 0..63 -> 0..504
    with pytest.raises(BackendError, match=r"layer 'output'.*exceed 8 bits; allowed for "
                                           r"excitatory weights: \[0, 255\]"):
        netx_layers(big)
    # a negative exponent floors sums: only exact when every mantissa is a multiple
    neg = replace(fixed, projections=(fixed.projection("pixels->hidden"),
                                      replace(out, weight_exp=-3)))
    with pytest.raises(BackendError, match="'hidden->output': weight_exp = -3 floors"):
        netx_layers(neg)
    # recurrence
    rec = replace(out, name="output->output", pre="output", post="output",
                  weights=np.zeros((10, 10), dtype=np.int64),
                  connectivity=np.ones((10, 10), dtype=bool), rule=None)
    with pytest.raises(BackendError, match="population 'output': recurrence through "
                                           "projection 'output->output'"):
        netx_layers(replace(fixed, projections=fixed.projections + (rec,)))
    # per-neuron thresholds
    pops = tuple(replace(p, vth=[p.vth + i for i in range(p.n)]) if p.name == "output" else p
                 for p in fixed.populations)
    with pytest.raises(BackendError, match="layer 'output'.*per-neuron thresholds"):
        netx_layers(replace(fixed, populations=pops))


def test_cli_errors(tmp_path, capsys):
    default = tmp_path / "default"
    convert("digits_sbp", default)  # exponents chosen per range: 0..1008 on the output
    assert main(["export-netx", str(default), "-o", str(tmp_path / "x.h5")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "layer 'output'" in err and "exceed 8 bits" in err
    assert not (tmp_path / "x.h5").exists()
    assert main(["export-netx", str(default), "--learned", "-o", str(tmp_path / "y.h5")]) == 2
    assert "fixed_learned" in capsys.readouterr().err


def test_weight_exp_option_checked():
    from spikeport.converters.quantize import quantize
    from spikeport.models.artefact import load_source

    art = load_source("digits_sbp")
    with pytest.raises(SpecError, match=r"weight_exp = 9 is invalid; allowed: None or integers "
                                        r"in \[-8, 7\]"):
        quantize(art.net, art.weights, QuantizeOptions(weight_exp=9))
    fixed = quantize(art.net, art.weights, QuantizeOptions(weight_exp=0))
    assert {p.weight_exp for p in fixed.projections} == {0}
