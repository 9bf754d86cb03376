"""Issue 20 item 4: NIR with a real client, spyx 1.0 (CPU jax), in both directions on the
same input spikes.

spikeport → spyx: spyx builds its model by walking the edges from a node named ``input`` to
one named ``output``; before, the export named them after the input population and
``output_spikes``, and spyx built a model with no layers whose output was its input.
spyx → spikeport: spyx writes ``r = β`` and ``w_in = 1`` (decays, input gain 1); read with
NIR's equations that is a gain of β(1−β)(1−α), and the network imported silent without a word.

Timing: spyx tests v against the threshold one step late and spikeport delivers every spike
one step late, so the output spikes line up step for step with no shift. The one difference
left is the reset: spyx subtracts the threshold, spikeport (like Loihi) resets to 0. With
spyx's neuron reset to 0 the two agree spike for spike; with spyx as shipped they agree on
the steps where the leftover above threshold decides nothing (checked, with a floor).

``make test`` installs spyx (dev extras); there (SPIKEPORT_REQUIRE_LAVA=1) a missing spyx is
an error, elsewhere these tests skip.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

if os.environ.get("SPIKEPORT_REQUIRE_LAVA") != "1":
    pytest.importorskip("spyx")
import jax.numpy as jnp  # noqa: E402
import nir  # noqa: E402
import spyx.nn as snn  # noqa: E402
from flax import nnx  # noqa: E402
from spyx import nir as spyx_nir  # noqa: E402

from spikeport.backends.brian2.sim import simulate  # noqa: E402
from spikeport.cli import main  # noqa: E402
from spikeport.models.artefact import load_artefact  # noqa: E402
from spikeport.models.spec import load_spec  # noqa: E402
from spikeport.models.weights import initial_weights  # noqa: E402

SPEC = """\
schema: spikeport/1
name: small
dt: 1 ms
sample_steps: 40
seed: 2
inputs:
  - name: pixels
    n: 16
    encoder: {kind: poisson, max_rate: 100 Hz}
populations:
  - name: hidden
    n: 12
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 1.5
  - name: output
    n: 4
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 1.2
projections:
  - pre: pixels
    post: hidden
    weights: {kind: uniform, low: -0.2, high: 0.8}
  - pre: hidden
    post: output
    weights: {kind: uniform, low: -0.2, high: 0.9}
"""


def _spikes(n_samples, T, n, p, seed):
    return np.random.default_rng(seed).random((n_samples, T, n)) < p


def _reset_to_zero(self, x, VI):
    """spyx's CuBaLIF step with one change: v is set to 0 at a spike (spikeport's and NIR's
    reset) instead of having the threshold subtracted."""
    V, current = jnp.split(VI, 2, -1)
    alpha = jnp.clip(self.alpha[...], 0, 1)
    beta = jnp.clip(self.beta[...], 0, 1)
    s = self.spike(V - self.threshold)
    V = V * (1 - s)
    current = alpha * current + x
    V = beta * V + current
    return s, jnp.concatenate([V, current], axis=-1)


def _run_spyx(graph, x, dt):
    model, out = spyx_nir.from_nir(graph, jnp.asarray(x.transpose(1, 0, 2), jnp.float32),
                                   dt=dt)
    return model, np.asarray(out).transpose(1, 0, 2) > 0


def test_spikeport_export_runs_in_spyx(tmp_path, capsys):
    (tmp_path / "small.yaml").write_text(SPEC)
    assert main(["export-nir", str(tmp_path / "small.yaml"), "-o", str(tmp_path / "n.nir"),
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["node_names"] == {"pixels": "input", "output": "output_population"}
    net = load_spec(tmp_path / "small.yaml")
    x = _spikes(6, net.sample_steps, 16, 0.1, seed=0)
    model, out = _run_spyx(nir.read(tmp_path / "n.nir"), x, net.dt)
    assert [type(m).__name__ for m in model.layers] == ["Linear", "CuBaLIF", "Linear",
                                                        "CuBaLIF"]
    ref = simulate(net, {"pixels": x}, initial_weights(net), target="numpy").spikes["output"]
    assert out.shape == ref.shape and ref.sum() > 0
    np.testing.assert_array_equal(out, ref)          # spike for spike, same steps
    # and back into spikeport: names restored from the node metadata
    assert main(["import-nir", str(tmp_path / "n.nir"), "-o", str(tmp_path / "back"),
                 "--no-probe", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["convention"] == "nir" and set(rep["populations"]) == {"hidden", "output"}
    assert set(rep["inputs"]) == {"pixels"}
    assert set(rep["projections"]) == {"pixels->hidden", "hidden->output"}


def _spyx_model():
    rngs = nnx.Rngs(0)
    return snn.Sequential(nnx.Linear(16, 12, use_bias=False, rngs=rngs),
                          snn.CuBaLIF((12,), alpha=0.8, beta=0.9, threshold=1.0, rngs=rngs),
                          nnx.Linear(12, 4, use_bias=False, rngs=rngs),
                          snn.CuBaLIF((4,), alpha=0.7, beta=0.85, threshold=1.0, rngs=rngs))


def test_spyx_network_imports_with_its_convention(tmp_path, capsys, monkeypatch):
    path = tmp_path / "spyx.nir"
    nir.write(path, spyx_nir.to_nir(_spyx_model(), {"input": np.array([16])},
                                    {"output": np.array([4])}, dt=1e-3))
    T = 40
    assert main(["import-nir", str(path), "-o", str(tmp_path / "imp"), "--sample-steps",
                 str(T), "--json"]) == 0
    cap = capsys.readouterr()
    rep = json.loads(cap.out)
    assert (rep["convention"], rep["dt"], rep["discretisation"]) == ("spyx", 1e-3, "euler")
    assert all(p["gain"] == [1.0, 1.0] for p in rep["populations"].values())
    assert rep["probe"]["warnings"] == [] and "warning" not in cap.err
    # decays are spyx's alpha and beta
    assert rep["populations"]["layer_1"]["decay_u"] == pytest.approx(0.8, rel=1e-6)
    assert rep["populations"]["layer_1"]["decay_v"] == pytest.approx(0.9, rel=1e-6)

    art = load_artefact(tmp_path / "imp")
    x = _spikes(4, T, 16, 0.2, seed=1)
    ours = simulate(art.net, {"input": x}, art.weights, target="numpy").spikes["layer_3"]
    graph = nir.read(path)
    _, theirs = _run_spyx(graph, x, 1e-3)
    # as shipped, spyx's subtractive reset leaves its neurons more excitable after a spike:
    # fewer spikes here, never none (the old import was silent: 0)
    assert theirs.sum() > 0 and 0.5 * theirs.sum() <= ours.sum() <= theirs.sum()
    assert (ours == theirs).mean() >= 0.9
    with monkeypatch.context() as m:
        m.setattr(snn.CuBaLIF, "__call__", _reset_to_zero)
        _, aligned = _run_spyx(graph, x, 1e-3)
    np.testing.assert_array_equal(ours, aligned)  # spike for spike once the reset agrees


def test_spyx_file_read_with_nir_equations_is_reported_silent(tmp_path, capsys):
    path = tmp_path / "spyx.nir"
    nir.write(path, spyx_nir.to_nir(_spyx_model(), {"input": np.array([16])},
                                    {"output": np.array([4])}, dt=1e-3))
    assert main(["import-nir", str(path), "-o", str(tmp_path / "imp"), "--sample-steps", "40",
                 "--convention", "nir"]) == 0
    err = capsys.readouterr().err
    assert "spikeport: warning: the imported network is silent: population 'layer_3'" in err
    rep = json.loads((tmp_path / "imp" / "nir_import.json").read_text())
    g = rep["populations"]["layer_1"]["gain"][0]
    assert g == pytest.approx(0.9 * (1 - 0.9) * (1 - 0.8), rel=1e-5)   # beta(1-beta)(1-alpha)
