"""The core mapper: limits (neurons, synaptic memory, input/output axons, cores) give a one-line
BackendError naming the limit and by how much; features (graded third factor, STP, delays);
the per-sample epoch split; the hardware-readiness entries."""

from __future__ import annotations

from dataclasses import replace

import pytest

from spikeport.converters.quantize import quantize
from spikeport.errors import BackendError
from spikeport.hw_profiles.mapping import (
    HOST_IO,
    PORT,
    STOCK,
    UNSUPPORTED,
    format_mapping,
    hardware_readiness,
    map_network,
)
from spikeport.hw_profiles.profile import Quantity, load_profile
from spikeport.models import (
    SBP,
    STP,
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
)
from spikeport.models.weights import initial_weights


def tiny(n_in=2, n_out=3, **proj) -> Network:
    return Network(name="tiny", dt=0.001, sample_steps=10,
                   inputs=(InputPopulation("inp", n_in, Encoder("poisson", max_rate=100.0)),),
                   populations=(LIFPopulation("out", n_out, threshold=1.0),),
                   projections=(Projection("inp", "out",
                                           weights=WeightInit("constant", value=0.5), **proj),))


def two_layer(n_hid=2, n_out=4) -> Network:
    return Network(name="two", dt=0.001, sample_steps=10,
                   inputs=(InputPopulation("inp", 2),),
                   populations=(LIFPopulation("hid", n_hid), LIFPopulation("out", n_out)),
                   projections=(Projection("inp", "hid", weights=WeightInit("constant", value=.5)),
                                Projection("hid", "out", weights=WeightInit("constant", value=.5))))


def sbp_net(sample_steps=30) -> Network:
    return Network(
        name="sbp", dt=0.001, sample_steps=sample_steps, seed=3,
        inputs=(InputPopulation("inp", 6, Encoder("poisson", max_rate=250.0)),),
        populations=(
            LIFPopulation("hid", 5, tau_u=0.004, tau_v=0.015, threshold=1.0,
                          homeostasis=Homeostasis(target_rate=60.0, eta=0.05, theta_min=0.3,
                                                  theta_max=3.0)),
            LIFPopulation("out", 2, tau_u=0.004, tau_v=0.015, threshold=0.6)),
        projections=(
            Projection("inp", "hid", weights=WeightInit("uniform", low=-0.2, high=0.9),
                       w_min=-1.0, w_max=1.0,
                       learning=SBP(f_ltp=2.0, f_ltd=1.0, rho=0.6, tau_elig=0.02, seed=4)),
            Projection("hid", "out", sign_mode="excitatory", w_min=0.0, w_max=2.0,
                       weights=WeightInit("uniform", low=0.3, high=0.9),
                       connectivity=Connectivity("fan_out", groups=2, per_neuron=1),
                       learning=SupervisedSTDP(eta=0.05, tau_pre=0.01))),
        teacher=Teacher("out", rate=150.0, kind="regular"),
        readout=Readout("out", 2))


def with_chip(name="loihi1", **values):
    """A bundled profile with some capacities (or features) replaced."""
    prof = load_profile(name)
    chip = dict(prof.chip)
    feats = dict(prof.features)
    for k, v in values.items():
        if k in chip:
            chip[k] = Quantity(v, v, chip[k].unit, "estimated", "test")
        else:
            feats[k] = v
    return replace(prof, chip=chip, features=feats)


def test_tiny_network_hand_count():
    # 2 inputs -> 3 LIF, all-to-all: 6 static synapses, stored dense at weight_bits = 9 bits
    # each (no index: all-to-all; no plastic state): 54 bits = 7 B on one core. Input axons:
    # the 2 input neurons; output axons: 0 (out reaches nothing).
    m = map_network(tiny(), "loihi1")
    assert m["cores_used"] == 1
    (core,) = m["cores"]
    assert core["neurons"] == [0, 3] and core["synapses"] == {"inp->out": 6}
    assert core["memory_bits"] == 54 and core["memory_bytes"] == 7
    assert core["input_axons"] == 2 and core["output_axons"] == 0
    assert m["projections"]["inp->out"]["encoding"] == "dense"
    assert m["senders"]["inp"]["dest_cores_max"] == 1
    assert "7" in format_mapping(m)


def test_sparse_and_plastic_bits():
    # fan_out connectivity is sparse: 9 weight bits + ceil(log2 1024) = 10 index bits; a plastic
    # synapse adds the 8-bit plastic reservation in the learning phase only
    net = tiny(n_in=2, n_out=2, connectivity=Connectivity("fan_out", groups=2, per_neuron=1))
    m = map_network(net, "loihi1")
    assert m["projections"]["inp->out"]["bits_per_synapse"] == 19
    assert m["cores"][0]["memory_bits"] == 2 * 19
    net = sbp_net()
    learn = map_network(net, "loihi2", learn=True)
    infer = map_network(net, "loihi2", learn=False)
    # loihi2: index bits = ceil(log2 8192) = 13; inp->hid is all-to-all (dense)
    assert learn["projections"]["inp->hid"]["bits_per_synapse"] == 9 + 8
    assert infer["projections"]["inp->hid"]["bits_per_synapse"] == 9
    assert learn["projections"]["hid->out"]["bits_per_synapse"] == 9 + 13 + 8


def test_chunks_split_a_population_over_cores():
    # 2 neurons per core: 3 neurons -> cores [0,2) and [2,3)
    m = map_network(tiny(), with_chip(neurons_per_core=2))
    assert [c["neurons"] for c in m["cores"]] == [[0, 2], [2, 3]]
    assert m["senders"]["inp"]["dest_cores_max"] == 2


def _one_line(err):
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_too_many_neurons_for_the_chip():
    with pytest.raises(BackendError) as err:
        map_network(tiny(), with_chip(neurons_per_core=2, cores=1))
    msg = _one_line(err)
    assert "needs 2 cores" in msg and "chip.cores" in msg and "over by 1" in msg


def test_synaptic_memory_exceeded():
    # one neuron needs 2 synapses x 9 bits = 18 bits = 2 B > 1 B
    with pytest.raises(BackendError) as err:
        map_network(tiny(), with_chip(synaptic_memory_per_core=1))
    msg = _one_line(err)
    assert "synaptic_memory_per_core = 1 B" in msg and "population 'out'" in msg
    assert "over by 1 B" in msg


def test_memory_splits_before_it_refuses():
    # 3 B per core: 24 bits hold one neuron's 18 bits, not two (36): three cores
    m = map_network(tiny(), with_chip(synaptic_memory_per_core=3))
    assert m["cores_used"] == 3


def test_input_axons_exceeded():
    with pytest.raises(BackendError) as err:
        map_network(tiny(n_in=3), with_chip(input_axons_per_core=2))
    msg = _one_line(err)
    assert "3 distinct presynaptic sources" in msg and "input_axons_per_core = 2" in msg
    assert "over by 1" in msg


def test_output_axons_exceeded():
    # out (4 neurons) on 2 cores of 2; each hid neuron reaches both: 2 neurons x 2 cores = 4
    m = map_network(two_layer(), with_chip(neurons_per_core=2))
    assert m["cores"][0]["population"] == "hid" and m["cores"][0]["output_axons"] == 4
    with pytest.raises(BackendError) as err:
        map_network(two_layer(), with_chip(neurons_per_core=2, output_axons_per_core=3))
    msg = _one_line(err)
    assert "output_axons_per_core = 3" in msg and "core 0" in msg and "over by 1" in msg


def test_sbp_refused_on_loihi1_accepted_on_loihi2():
    net = sbp_net()
    with pytest.raises(BackendError) as err:
        map_network(net, "loihi1", learn=True)
    msg = _one_line(err)
    assert "graded_third_factor" in msg and "sbp" in msg and "loihi1" in msg
    # inference needs no relay: fits on loihi1
    assert map_network(net, "loihi1", learn=False)["cores_used"] == 2
    m = map_network(net, "loihi2", learn=True)
    # hid, the relay (microcoded neurons, one per hidden neuron), out
    assert [c["population"] for c in m["cores"]] == ["hid", "relay:inp->hid", "out"]
    # hid's inputs: 6 pixels + 5 graded relay values; the relay's: 5 hid + 2 out + 2 teacher
    assert m["cores"][0]["input_axons"] == 11 and m["cores"][1]["input_axons"] == 9


def test_sbp_from_fixed_network_matches_spec():
    net = sbp_net()
    fixed = quantize(net, initial_weights(net))
    a = map_network(fixed, "loihi2")
    b = map_network(net, "loihi2")
    assert a["cores_used"] == b["cores_used"] == 3
    for name in ("inp->hid", "hid->out"):
        assert a["projections"][name]["plastic_synapses"] == \
            b["projections"][name]["plastic_synapses"]


def test_per_sample_epoch_split():
    # T = 100 > max_learning_epoch 63: the per-sample SBP epoch runs as 2 x 50 steps, and its
    # u0 products touch every plastic synapse twice; supervised STDP (t_epoch 1) is untouched
    m = map_network(sbp_net(sample_steps=100), "loihi2")
    assert m["epoch_split"] == {"inp->hid": {
        "t_epoch": 100, "chip_t_epoch": 50, "epochs_per_sample": 2, "syn_update_factor": 2,
        "note": m["epoch_split"]["inp->hid"]["note"]}}


def test_stp_and_delay_features():
    with pytest.raises(BackendError, match="short_term_plasticity"):
        map_network(tiny(stp=STP()), "loihi1")
    assert map_network(tiny(stp=STP()), "loihi2")["cores_used"] == 1
    with pytest.raises(BackendError) as err:
        map_network(tiny(delay=3), with_chip(axonal_delay_max=2))
    assert "axonal_delay_max = 2 by 1" in _one_line(err)


def test_readiness_entries():
    net = sbp_net()
    by = {p: {(e["process"], e["name"]): e for e in hardware_readiness(net, p)}
          for p in ("loihi1", "loihi2")}
    for p in ("loihi1", "loihi2"):
        assert by[p][("SpikeSource", "inp")]["status"] == HOST_IO
    assert by["loihi1"][("SBPRelay", "relay:inp->hid")]["status"] == UNSUPPORTED
    relay2 = by["loihi2"][("SBPRelay", "relay:inp->hid")]
    assert relay2["status"] == PORT and "microcode" in relay2["needs"]
    assert by["loihi2"][("PlasticDense", "inp->hid")]["status"] == STOCK
    assert "Loihi3FLearningRule" in by["loihi2"][("PlasticDense", "inp->hid")]["stock"]
    assert "LearningSparse" in by["loihi2"][("PlasticDense", "inp->hid")]["needs"]
    assert by["loihi1"][("PlasticDense", "inp->hid")]["status"] == UNSUPPORTED
    # homeostasis and the third factor make the hidden LIF a CPU-only model
    assert by["loihi2"][("ThirdFactorLIF", "hid")]["status"] == PORT
    # a plain LIF with static input is stock Lava LIF / Dense
    plain = {(e["process"], e["name"]): e for e in hardware_readiness(tiny(), "loihi1")}
    assert plain[("ThirdFactorLIF", "out")]["status"] == STOCK
    assert plain[("ResetDense", "inp->out")]["status"] == STOCK
    assert "lava.proc.dense" in plain[("ResetDense", "inp->out")]["stock"]
