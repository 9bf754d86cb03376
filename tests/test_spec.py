"""Network spec: YAML round trips for every type, and one-line errors that name the culprit."""

from pathlib import Path

import numpy as np
import pytest

from spikeport.errors import SpecError
from spikeport.models import (
    NACA,
    SBP,
    STDP,
    STP,
    BetweenSamples,
    Connectivity,
    Encoder,
    Homeostasis,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    SupervisedSTDP,
    Teacher,
    WeightInit,
    dump_spec,
    load_spec,
    save_spec,
    spec_from_yaml,
)
from spikeport.models.weights import check_weights, connectivity_mask, initial_weights

ROOT = Path(__file__).resolve().parents[1]


def small_net(**changes) -> Network:
    """in(4) -> hid(6) -> out(2), every spec type used at least once."""
    base = dict(
        name="small",
        inputs=(InputPopulation("inp", 4, Encoder(kind="regular", max_rate=50.0)),),
        populations=(
            LIFPopulation("hid", 6, tau_u=0.004, tau_v=0.03, threshold=2.0, refractory=0.002,
                          bias=0.1, homeostasis=Homeostasis(target_rate=20.0, eta=0.1)),
            LIFPopulation("out", 2, threshold=1.5),
        ),
        projections=(
            Projection("inp", "hid", weights=WeightInit("normal", mean=0.1, std=0.2),
                       connectivity=Connectivity("random", p=0.5, seed=4),
                       stp=STP(U=0.45, tau_f=0.2, tau_d=2.5),
                       learning=SBP(f_ltp=2.0, f_ltd=1.0, rho=0.3, seed=9)),
            Projection("hid", "out", weights=WeightInit("uniform", low=0.0, high=0.5),
                       sign_mode="excitatory",
                       connectivity=Connectivity("fan_out", groups=2, per_neuron=1),
                       w_min=0.0, w_max=1.0, learning=SupervisedSTDP(eta=0.02, tau_pre=0.01)),
            Projection("hid", "hid", name="lateral", sign_mode="inhibitory",
                       weights=WeightInit("constant", value=-0.2)),
        ),
        teacher=Teacher("out", rate=100.0, kind="poisson"),
        readout=Readout("out", 2),
        between_samples=BetweenSamples("rest", rest_steps=5),
        sample_steps=20,
        seed=7,
    )
    base.update(changes)
    return Network(**base)


def test_round_trip_every_type(tmp_path):
    net = small_net()
    path = tmp_path / "net.yaml"
    save_spec(net, path)
    again = load_spec(path)
    assert again == net
    assert dump_spec(again) == dump_spec(net)


@pytest.mark.parametrize("rule", [STDP(a_plus=0.1, a_minus=0.05), NACA(eta=0.1, seed=3),
                                  SBP(), SupervisedSTDP()])
def test_round_trip_rules(rule):
    text = dump_spec(small_net())
    net = spec_from_yaml(text)
    if isinstance(rule, (STDP, NACA)):
        proj = Projection("inp", "hid", learning=rule)
        net = net.replace(projections=(proj,) + net.projections[1:])
    assert spec_from_yaml(dump_spec(net)) == net


def test_units_in_yaml():
    text = dump_spec(small_net()).replace("tau_u: 0.004", "tau_u: 4 ms")
    assert spec_from_yaml(text).population("hid").tau_u == pytest.approx(0.004)


def test_examples_load():
    for name in ("digits_sbp.yaml", "mnist_sbp.yaml"):
        net = load_spec(ROOT / "examples" / name)
        assert net.readout.n_classes == 10


@pytest.mark.parametrize("edit, expected", [
    (("tau_u: 0.004", "tau_u: -0.004"), "population 'hid': tau_u = -0.004 is invalid; allowed: > 0"),
    (("tau_u: 0.004", "tau_u: 4 Hz"), "tau_u = '4 Hz' has units of Hz but tau_u is in s"),
    (("threshold: 2.0", "threshold: 0"), "population 'hid': threshold = 0.0"),
    (("rho: 0.3", "rho: 1.5"), "projection 'inp->hid'.learning: rho = 1.5 is invalid; allowed: [0.0, 1.0]"),
    (("kind: poisson", "kind: bernoulli"), "teacher: kind = 'bernoulli'"),
    (("schema: spikeport/1", "schema: spikeport/9"), "schema = 'spikeport/9' is not supported"),
    (("sample_steps: 20", "sample_steps: twenty"), "sample_steps = 'twenty' is invalid; allowed: an integer"),
    (("seed: 7", "seeds: 7"), "unknown field 'seeds'"),
])
def test_errors_name_the_culprit(tmp_path, edit, expected):
    text = dump_spec(small_net())
    assert edit[0] in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    msg = str(err.value)
    assert expected in msg
    assert str(path) in msg and "\n" not in msg


def test_malformed_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("schema: spikeport/1\nname: [unclosed\n")
    with pytest.raises(SpecError, match=r"broken.yaml: malformed YAML at line \d+"):
        load_spec(path)


def test_structure_errors():
    with pytest.raises(SpecError, match="projection 'inp->nowhere': post = 'nowhere'"):
        small_net(projections=(Projection("inp", "nowhere"),))
    with pytest.raises(SpecError, match="unique names"):
        small_net(populations=(LIFPopulation("hid", 2), LIFPopulation("hid", 3)))
    with pytest.raises(SpecError, match="supervised_stdp needs a teacher"):
        small_net(teacher=None, readout=None)
    with pytest.raises(SpecError, match="recurrent projections are static"):
        small_net(projections=(Projection("hid", "hid", learning=STDP()),))
    with pytest.raises(SpecError, match="refractory = 0.0015 is invalid; allowed: a whole number"):
        small_net(populations=(LIFPopulation("hid", 6, refractory=0.0015),
                               LIFPopulation("out", 2)))
    with pytest.raises(SpecError, match=r"groups = 3 is invalid; allowed: integers in \[1, 2\]"):
        small_net(projections=(Projection("hid", "out", connectivity=Connectivity(
            "fan_out", groups=3)),))
    with pytest.raises(SpecError, match="delay = 99"):
        small_net(projections=(Projection("inp", "hid", delay=99),))


def test_weight_shape_error(tmp_path):
    net = small_net()
    with pytest.raises(SpecError, match=r"projection 'hid->out': weights shape \(2, 6\) does "
                                        r"not match \(n_pre=6, n_post=2\)"):
        check_weights(net, net.projection("hid->out"), np.zeros((2, 6)))
    np.savez(tmp_path / "w.npz", **{"hid->out": np.zeros((2, 6))})
    proj = Projection("hid", "out", sign_mode="excitatory", weights=WeightInit("file", path="w.npz"),
                      connectivity=Connectivity("fan_out", groups=2),
                      learning=SupervisedSTDP())
    bad = net.replace(projections=(net.projections[0], proj, net.projections[2]))
    with pytest.raises(SpecError, match=r"w.npz\[hid->out\]\) does not match"):
        initial_weights(bad, tmp_path)


def test_connectivity_masks():
    net = small_net()
    # fan_out: 2 groups of 1 output neuron; hidden neuron j reaches group j mod 2
    m = connectivity_mask(net, net.projection("hid->out"))
    expected = np.array([[j % 2 == k for k in range(2)] for j in range(6)])
    assert (m == expected).all()
    # random masks are fixed by the seed, and masked weights are exactly zero
    w = initial_weights(net)
    mr = connectivity_mask(net, net.projection("inp->hid"))
    assert (connectivity_mask(net, net.projection("inp->hid")) == mr).all()
    assert (w["inp->hid"][~mr] == 0).all()
    assert (w["lateral"] == -0.2).all()
    assert (w["hid->out"] >= 0).all()
