"""NIR interoperability: round trips, a foreign CubaLIF file against its discretised ODE,
refusals. Brian2 runs use the numpy target on networks of a few neurons."""

import json
import math
import warnings
from dataclasses import replace

import nir
import numpy as np
import pytest

from spikeport import cli
from spikeport.backends.brian2.sim import simulate
from spikeport.converters.nir import (
    DISCRETISATIONS,
    NirWarning,
    export_nir,
    import_nir,
    load_extras,
    sidecar_path,
    swap_axes,
    write_nir,
)
from spikeport.errors import SpecError
from spikeport.models import (
    Encoder,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    WeightInit,
)
from spikeport.models.artefact import load_artefact, load_source
from spikeport.models.inputs import encode_batch
from spikeport.models.rules import STP
from spikeport.models.weights import initial_weights


def as_imported(net: Network) -> Network:
    """What an import of ``net`` must give: the same spec, each projection reading its
    weights from the artefact's weights.npz (the initial-weight recipe is replaced by the
    weights themselves)."""
    return net.replace(projections=tuple(
        replace(p, weights=WeightInit(kind="file", path="weights.npz", key=p.name))
        for p in net.projections))


def export_to_file(tmp_path, net, weights, disc, thresholds=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NirWarning)
        ex = export_nir(net, weights, disc, thresholds)
    path = tmp_path / f"{net.name}_{disc}.nir"
    write_nir(ex.graph, path)
    return ex, path


# ---------------------------------------------------------------------------------------------
# round trip spec → NIR → spec

@pytest.mark.parametrize("disc", DISCRETISATIONS)
def test_round_trip_zoo_spec_and_weights_equal(tmp_path, disc):
    art = load_source("digits_sbp")
    net, w = art.net, art.weights
    # thresholds as homeostasis leaves them: one per hidden neuron
    th = {"hidden": np.linspace(30.0, 50.0, 100)}
    with pytest.warns(NirWarning, match=r"learning rule sbp.*learning rule supervised_stdp"):
        ex = export_nir(net, w, disc, th)
    path = tmp_path / "digits.nir"
    write_nir(ex.graph, path)

    # the file as another framework sees it: NIR nodes only, weights (out, in)
    g = nir.read(path)
    assert {type(n).__name__ for n in g.nodes.values()} == {"Input", "CubaLIF", "Linear",
                                                             "Output"}
    np.testing.assert_array_equal(g.nodes["pixels->hidden"].weight, w["pixels->hidden"].T)
    assert g.nodes["pixels->hidden"].weight.shape == (100, 64)
    np.testing.assert_array_equal(g.nodes["hidden"].v_threshold, th["hidden"])
    hid = g.nodes["hidden"]
    # gain 1: g_m·r = 1 and g_s·w_in = 1 with g = dt/τ (euler) or 1 − exp(−dt/τ) (exp)
    gain = (lambda tau: 1e-3 / tau) if disc == "euler" else (lambda tau: -np.expm1(-1e-3 / tau))
    np.testing.assert_allclose(gain(hid.tau_mem) * hid.r, 1.0, rtol=1e-14)
    np.testing.assert_allclose(gain(hid.tau_syn) * hid.w_in, 1.0, rtol=1e-14)
    if disc == "euler":
        # τ_nir = dt/(1 − e^{−dt/τ}): 1 ms/(1 − e^{−1/20}) = 20.504 ms for τ_v = 20 ms
        np.testing.assert_allclose(hid.tau_mem, 1e-3 / (1 - math.exp(-1 / 20)), rtol=1e-15)
    else:
        np.testing.assert_array_equal(hid.tau_mem, 0.02)
    assert float(g.metadata["dt"]) == 1e-3 and g.metadata["discretisation"] == disc

    res = import_nir(path, dt=1e-3, discretisation=disc, extras=ex.extras)
    assert res.net == as_imported(net)
    assert res.net.projection("pixels->hidden").learning == net.projection(
        "pixels->hidden").learning
    for name in w:
        np.testing.assert_array_equal(res.weights[name], w[name])
    assert set(res.thresholds) == {"hidden"}
    np.testing.assert_array_equal(res.thresholds["hidden"], th["hidden"])
    assert res.report["warnings"] == []


def small_net(bias=0.02):
    return Network(
        name="rt", inputs=(InputPopulation("x", 6, Encoder("poisson", 150.0)),),
        populations=(LIFPopulation("h", 8, tau_u=0.004, tau_v=0.015, threshold=1.0, bias=bias),
                     LIFPopulation("o", 3, tau_u=0.003, tau_v=0.01, threshold=0.8)),
        projections=(Projection("x", "h", weights=WeightInit("uniform", -0.2, 0.6)),
                     Projection("h", "o", weights=WeightInit("uniform", 0.0, 0.5),
                                sign_mode="excitatory"),
                     Projection("o", "o", weights=WeightInit("constant", value=-0.3),
                                sign_mode="inhibitory")),
        sample_steps=40, seed=7)


def test_round_trip_gives_identical_spikes_in_brian2(tmp_path):
    net = small_net()
    w = initial_weights(net)
    th = {"h": np.linspace(0.8, 1.2, 8)}
    X = np.linspace(0.2, 1.0, 4 * 6).reshape(4, 6)
    batch = encode_batch(net, X, np.zeros(4, int), np.arange(4))
    ref = simulate(net, batch.inputs, w, thresholds=th)
    for pop in ("h", "o"):
        assert ref.spikes[pop].sum() > 20  # a raster worth comparing
    for disc in DISCRETISATIONS:
        ex, path = export_to_file(tmp_path, net, w, disc, th)
        # no extras: the dynamics come from the NIR file alone
        res = import_nir(path, dt=net.dt, discretisation=disc, sample_steps=net.sample_steps)
        assert res.net.population("h").bias == net.population("h").bias  # via v_leak
        assert res.net.projection("o->o").is_recurrent
        out = simulate(res.net, batch.inputs, res.weights, thresholds=res.thresholds)
        for pop in ("h", "o"):
            np.testing.assert_array_equal(out.spikes[pop], ref.spikes[pop], err_msg=disc)


# ---------------------------------------------------------------------------------------------
# a CubaLIF network written by `nir` as another framework would

DT = 1e-4               # snnTorch writes its τ with dt = 1e-4
ALPHA, BETA = 0.5, 0.75  # per-step decays of the synaptic current and the membrane
W1 = np.array([[0.9, 0.0, 0.3],    # (out, in): hidden neuron 0 listens to inputs 0 and 2
               [0.0, 0.6, 0.6]])   # hidden neuron 1 to inputs 1 and 2
W2 = np.array([[0.7, 0.5]])        # output neuron from hidden 0 and 1


def cubalif(n, style):
    tau_syn, tau_mem = DT / (1 - ALPHA), DT / (1 - BETA)   # 0.2 ms, 0.4 ms
    if style == "snntorch":   # r = τ_mem/dt, w_in = τ_syn/dt: gain g_m·r·g_s·w_in = 1
        r, w_in = tau_mem / DT, tau_syn / DT
    else:                     # r = w_in = 1: gain (dt/τ_mem)·(dt/τ_syn) = 0.25·0.5 = 1/8
        r, w_in = 1.0, 1.0
    return nir.CubaLIF(tau_syn=np.full(n, tau_syn), tau_mem=np.full(n, tau_mem),
                       r=np.full(n, r), v_leak=np.zeros(n), v_threshold=np.ones(n),
                       v_reset=np.zeros(n), w_in=np.full(n, w_in))


def foreign_file(tmp_path, style):
    scale = 1.0 if style == "snntorch" else 8.0   # undo the 1/8 gain in the weights
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([3])),
               "fc1": nir.Affine(weight=scale * W1, bias=np.zeros(2)),
               "lif1": cubalif(2, style),
               "fc2": nir.Linear(weight=scale * W2),
               "lif2": cubalif(1, style),
               "output": nir.Output(output_type=np.array([1]))},
        edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
               ("lif2", "output")])
    path = tmp_path / f"{style}.nir"
    nir.write(path, graph)
    return path


def euler_reference(path, x):
    """NIR's CubaLIF ODE stepped by forward Euler from the file's own fields, layer by layer,
    each layer seeing the previous layer's spikes one step later (spikeport's synaptic delay):
        I[t] = (1 − dt/τ_syn)·I[t−1] + (dt/τ_syn)·w_in·(W·s_pre[t−1])
        v[t] = (1 − dt/τ_mem)·v[t−1] + (dt/τ_mem)·(v_leak + r·I[t]);  v > v_th → spike, v_reset
    """
    g = nir.read(path)
    spikes, out = x, []
    for lin, lif in (("fc1", "lif1"), ("fc2", "lif2")):
        W, p = g.nodes[lin].weight, g.nodes[lif]
        I = np.zeros(W.shape[0])
        v = np.zeros(W.shape[0])
        s = np.zeros((len(spikes), W.shape[0]), bool)
        for t in range(len(spikes)):
            S = W @ spikes[t - 1] if t > 0 else np.zeros(W.shape[0])
            I = (1 - DT / p.tau_syn) * I + DT / p.tau_syn * p.w_in * S
            v = (1 - DT / p.tau_mem) * v + DT / p.tau_mem * (p.v_leak + p.r * I)
            s[t] = v > p.v_threshold
            v = np.where(s[t], p.v_reset, v)
        out.append(s)
        spikes = s
    return out


@pytest.mark.parametrize("style", ["snntorch", "unit_r_w_in"])
@pytest.mark.parametrize("spec_dt", [None, 1e-3])
def test_foreign_cubalif_file_gives_the_discretised_ode_spikes(tmp_path, style, spec_dt):
    path = foreign_file(tmp_path, style)
    res = import_nir(path, dt=DT, discretisation="euler", spec_dt=spec_dt, sample_steps=10)
    net = res.net
    assert [p.name for p in net.populations] == ["lif1", "lif2"]
    assert [(p.name, p.pre, p.post) for p in net.projections] == [
        ("fc1", "input", "lif1"), ("fc2", "lif1", "lif2")]
    # (pre, post) = transposed (out, in); the gain is 1 in both styles (×8 · 1/8 is exact)
    np.testing.assert_array_equal(res.weights["fc1"], W1.T)
    np.testing.assert_array_equal(res.weights["fc2"], W2.T)
    # per-step decays kept: exp(−dt_spec/τ_u) = 0.5, exp(−dt_spec/τ_v) = 0.75
    step = DT if spec_dt is None else spec_dt
    assert math.exp(-step / net.population("lif1").tau_u) == pytest.approx(ALPHA, rel=1e-14)
    assert math.exp(-step / net.population("lif1").tau_v) == pytest.approx(BETA, rel=1e-14)
    assert res.report["warnings"] == []

    x = np.zeros((1, 10, 3), bool)
    x[0, 0, 0] = x[0, 0, 1] = x[0, 1, 1] = x[0, 4, 2] = True
    r = simulate(net, {"input": x}, res.weights)
    # By hand (u = current, one step of synaptic delay, u ← 0.5u + in, v ← 0.75v + u):
    # hidden 0: input 0 (w 0.9) at step 0 → u1 = 0.9, v1 = 0.9; u2 = 0.45,
    #   v2 = 0.675 + 0.45 = 1.125 > 1 → spike at 2, v = 0; input 2 (w 0.3) at step 4:
    #   u5 = 0.05625 + 0.3, v5 = 0.2109375 + 0.35625 = 0.5671875, then it decays: no spike.
    # hidden 1: input 1 (w 0.6) at steps 0, 1 → u1 = 0.6, v1 = 0.6; u2 = 0.3 + 0.6 = 0.9,
    #   v2 = 0.45 + 0.9 = 1.35 → spike at 2; u3 = 0.45, v3 = 0.45; u4 = 0.225,
    #   v4 = 0.3375 + 0.225 = 0.5625; input 2 (w 0.6) at step 4 → u5 = 0.1125 + 0.6 = 0.7125,
    #   v5 = 0.421875 + 0.7125 = 1.134375 → spike at 5.
    # output: both hidden spikes of step 2 arrive at 3: u3 = 0.7 + 0.5 = 1.2 = v3 → spike at 3;
    #   u4 = 0.6 = v4; u5 = 0.3, v5 = 0.45 + 0.3 = 0.75; hidden 1's spike of step 5 arrives
    #   at 6: u6 = 0.15 + 0.5 = 0.65, v6 = 0.5625 + 0.65 = 1.2125 → spike at 6.
    assert np.flatnonzero(r.spikes["lif1"][0, :, 0]).tolist() == [2]
    assert np.flatnonzero(r.spikes["lif1"][0, :, 1]).tolist() == [2, 5]
    assert np.flatnonzero(r.spikes["lif2"][0, :, 0]).tolist() == [3, 6]
    ode1, ode2 = euler_reference(path, x[0])
    np.testing.assert_array_equal(r.spikes["lif1"][0], ode1)
    np.testing.assert_array_equal(r.spikes["lif2"][0], ode2)


def test_nested_recurrent_subgraph_is_inlined(tmp_path):
    # snnTorch's RSynaptic layout: a subgraph Input → lif ⇄ w_rec, lif → Output
    W_in = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]])          # (3 out, 2 in)
    W_rec = np.array([[0.0, -0.1, 0.2], [0.3, 0.0, 0.0], [0.0, 0.0, -0.4]])
    rsyn = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([3])),
                               "lif": cubalif(3, "snntorch"),
                               "w_rec": nir.Linear(weight=W_rec),
                               "output": nir.Output(output_type=np.array([3]))},
                        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"),
                               ("lif", "output")], type_check=False)
    graph = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([2])),
                                "fc": nir.Linear(weight=W_in), "rsyn": rsyn,
                                "output": nir.Output(output_type=np.array([3]))},
                         edges=[("input", "fc"), ("fc", "rsyn"), ("rsyn", "output")],
                         type_check=False)
    path = tmp_path / "rsyn.nir"
    nir.write(path, graph)
    res = import_nir(path, dt=DT, readout_classes=3)
    assert [p.name for p in res.net.populations] == ["rsyn_lif"]
    rec = res.net.projection("rsyn.w_rec")
    assert rec.is_recurrent and rec.pre == "rsyn_lif"
    np.testing.assert_array_equal(res.weights["rsyn.w_rec"], W_rec.T)   # gain 1
    np.testing.assert_array_equal(res.weights["fc"], W_in.T)
    assert res.net.readout.population == "rsyn_lif"


def test_lif_node_and_v_leak(tmp_path):
    # nir.LIF, euler, dt = 0.1 ms, τ = 0.4 ms: a = 0.75, g_m = 0.25; r = 4 → gain 1;
    # v_leak = 0.2 → bias = g_m·v_leak = 0.05. No synaptic current: τ_u = dt/ln 4096.
    lif = nir.LIF(tau=np.full(2, 4e-4), r=np.full(2, 4.0), v_leak=np.full(2, 0.2),
                  v_threshold=np.ones(2), v_reset=np.zeros(2))
    graph = nir.NIRGraph(nodes={"in": nir.Input(input_type=np.array([2])),
                                "w": nir.Linear(weight=np.array([[1.0, 2.0], [3.0, 4.0]])),
                                "lif": lif, "out": nir.Output(output_type=np.array([2]))},
                         edges=[("in", "w"), ("w", "lif"), ("lif", "out")])
    path = tmp_path / "lif.nir"
    nir.write(path, graph)
    with pytest.warns(NirWarning, match="1/4096"):
        res = import_nir(path, dt=1e-4)
    pop = res.net.population("lif")
    assert pop.bias == pytest.approx(0.05, rel=1e-14)
    assert pop.tau_u == 1e-4 / math.log(4096)
    np.testing.assert_array_equal(res.weights["w"], [[1.0, 3.0], [2.0, 4.0]])


def test_metadata_is_provenance_not_trusted(tmp_path):
    net = small_net()
    _, path = export_to_file(tmp_path, net, initial_weights(net), "euler")
    with pytest.warns(NirWarning, match=r"metadata says dt = 0\.001 but the import used dt "
                                        r"= 0\.002"):
        res = import_nir(path, dt=2e-3)
    # τ_mem written for dt = 1 ms: 1e-3/(1 − e^{−1/15}); stepped with dt = 2 ms the decay is
    # a = 1 − 2·(1 − e^{−1/15}), so τ_v = −2 ms / ln a (not the 15 ms of the metadata)
    a = 1 - 2 * (1 - math.exp(-1 / 15))
    assert res.net.population("h").tau_v == pytest.approx(-2e-3 / math.log(a), rel=1e-12)
    assert res.net.population("h").tau_v != pytest.approx(0.015, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# refusals: one line, naming the node and the reason

def lif_node(n=2, **changes):
    fields = dict(tau_syn=np.full(n, 2e-4), tau_mem=np.full(n, 4e-4), r=np.full(n, 4.0),
                  v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n),
                  w_in=np.full(n, 2.0))
    fields.update(changes)
    return nir.CubaLIF(**fields)


def chain(*middle, out=True):
    nodes = {"in": nir.Input(input_type=np.array([2]))}
    edges, prev = [], "in"
    for name, node in middle:
        nodes[name] = node
        edges.append((prev, name))
        prev = name
    if out:
        nodes["out"] = nir.Output(output_type=np.array([2]))
        edges.append((prev, "out"))
    return nodes, edges


EYE = np.eye(2)
REFUSED = {
    "conv": (chain(("conv", nir.Conv2d(input_shape=np.array([4, 4]), weight=np.zeros((2, 1, 3, 3)),
                                       stride=1, padding=0, dilation=1, groups=1,
                                       bias=np.zeros(2))), ("lif", lif_node())),
             "node 'conv' (Conv2d): a convolution"),
    "affine_bias": (chain(("fc", nir.Affine(weight=EYE, bias=np.array([0.1, 0.0]))),
                          ("lif", lif_node())), "node 'fc' (Affine): nonzero bias"),
    "v_leak_varies": (chain(("fc", nir.Linear(weight=EYE)),
                            ("lif", lif_node(v_leak=np.array([0.0, 0.1])))),
                      "node 'lif' (CubaLIF): v_leak varies across neurons (0 to 0.1)"),
    "tau_varies": (chain(("fc", nir.Linear(weight=EYE)),
                         ("lif", lif_node(tau_mem=np.array([4e-4, 5e-4])))),
                   "node 'lif' (CubaLIF): tau_mem varies across neurons"),
    "decay_too_fast": (chain(("fc", nir.Linear(weight=EYE)),
                             ("lif", lif_node(tau_mem=np.full(2, 0.5e-4)))),
                       "node 'lif' (CubaLIF): tau_mem = 5e-05 s with dt = 0.0001 s (euler) "
                       "gives a per-step decay 1 − dt/tau = -1"),
    "if_neuron": (chain(("fc", nir.Linear(weight=EYE)),
                        ("if", nir.IF(r=np.ones(2), v_threshold=np.ones(2)))),
                  "node 'if' (IF): integrate-and-fire without leak"),
    "linear_readout": (chain(("fc", nir.Linear(weight=EYE)), ("lif", lif_node()),
                             ("ro", nir.Linear(weight=EYE))),
                       "node 'ro' (Linear): it feeds Output 'out' directly: a non-spiking "
                       "readout"),
    "linear_chain": (chain(("fc", nir.Linear(weight=EYE)), ("fc2", nir.Linear(weight=EYE)),
                           ("lif", lif_node())),
                     "node 'fc' (Linear): it feeds Linear 'fc2': chains of linear maps"),
}


def two_population_loop():
    nodes, edges = chain(("w_a", nir.Linear(weight=EYE)), ("a", lif_node()),
                         ("ab", nir.Linear(weight=EYE)), ("b", lif_node()))
    nodes["ba"] = nir.Linear(weight=EYE)
    return nodes, edges + [("b", "ba"), ("ba", "a")]


REFUSED["loop"] = (two_population_loop(), "recurrent loop a -> b -> a through several "
                                          "populations")


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refusals_name_the_node_and_the_reason(tmp_path, case):
    (nodes, edges), expected = REFUSED[case]
    path = tmp_path / f"{case}.nir"
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
    with pytest.raises(SpecError) as err:
        import_nir(path, dt=1e-4)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(str(path))
    assert expected in msg


def test_refused_arguments_and_exports(tmp_path):
    path = tmp_path / "ok.nir"
    nodes, edges = chain(("fc", nir.Linear(weight=EYE)), ("lif", lif_node()))
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges))
    with pytest.raises(SpecError, match="reset = 'subtract' cannot be expressed"):
        import_nir(path, dt=1e-4, reset="subtract")
    with pytest.raises(SpecError, match="discretisation = 'rk4' is invalid"):
        import_nir(path, dt=1e-4, discretisation="rk4")
    with pytest.raises(SpecError, match=r"populations \['lif'\] have per-neuron thresholds"):
        from spikeport.converters.nir import save_import

        nodes["lif"] = lif_node(v_threshold=np.array([1.0, 2.0]))
        nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges))
        save_import(import_nir(path, dt=1e-4), tmp_path / "spec.yaml")
    net = small_net()
    w = initial_weights(net)
    refr = net.replace(populations=(replace(net.populations[0], refractory=0.002),
                                    net.populations[1]))
    with pytest.raises(SpecError, match=r"population 'h': refractory = 0\.002 s cannot be "
                                        r"exported .*CubaLIF has no refractory"):
        export_nir(refr, w)
    stp = net.replace(projections=(replace(net.projections[0], stp=STP()),) + net.projections[1:])
    with pytest.raises(SpecError, match=r"projection 'x->h': stp"):
        export_nir(stp, w)


def test_swap_axes_is_its_own_inverse():
    w = np.arange(6.0).reshape(2, 3)   # (pre=2, post=3)
    assert swap_axes(w).shape == (3, 2) and swap_axes(w)[2, 1] == w[1, 2]
    np.testing.assert_array_equal(swap_axes(swap_axes(w)), w)


# ---------------------------------------------------------------------------------------------
# CLI

def test_cli_export_then_import_into_an_artefact_and_a_spec(tmp_path, capsys):
    nir_file = tmp_path / "digits.nir"
    assert cli.main(["export-nir", "digits_sbp", "-o", str(nir_file)]) == 0
    out = capsys.readouterr()
    assert "learning rule sbp" in out.out and "spikeport: warning: not part of NIR" in out.err
    side = sidecar_path(nir_file)
    assert side.name == "digits.spikeport.yaml"
    assert load_extras(side)["projections"]["pixels->hidden"]["learning"]["rule"] == "sbp"

    art_dir = tmp_path / "imported"
    assert cli.main(["import-nir", str(nir_file), "-o", str(art_dir), "--rules", str(side)]) == 0
    assert "| hidden | hidden | CubaLIF | 100 | 5 | 20 | 40 |" in capsys.readouterr().out
    original = load_source("digits_sbp")
    art = load_artefact(art_dir)
    assert art.net == as_imported(original.net)
    for name, w in original.weights.items():
        np.testing.assert_array_equal(art.weights[name], w)
    report = json.loads((art_dir / "nir_import.json").read_text())
    assert report["discretisation"] == "euler" and report["dt"] == 1e-3
    assert art.metrics == {}   # nothing was trained here: no training metrics
    # the artefact's spec also loads on its own, with the same weights
    alone = load_source(art_dir / "spec.yaml")
    np.testing.assert_array_equal(alone.weights["hidden->output"],
                                  original.weights["hidden->output"])

    spec = tmp_path / "spec.yaml"
    assert cli.main(["import-nir", str(nir_file), "-o", str(spec), "--json"]) == 0
    assert (tmp_path / "spec.npz").is_file()
    as_spec = load_source(spec)
    np.testing.assert_array_equal(as_spec.weights["pixels->hidden"],
                                  original.weights["pixels->hidden"])
    assert as_spec.net.projection("pixels->hidden").learning is None   # no --rules given


def test_cli_help_says_where_the_network_goes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["import-nir", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "trained-artefact directory" in text and "deploy does not retrain" in text
