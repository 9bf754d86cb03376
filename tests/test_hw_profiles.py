"""Hardware profiles: the bundled files load with sources; malformed files name the key."""

import pytest

from spikeport.errors import SpecError
from spikeport.hw_profiles.profile import available_profiles, load_profile


def test_bundled_profiles_load():
    assert {"loihi1", "loihi2"} <= set(available_profiles())
    l1 = load_profile("loihi1")
    # Davies et al. 2018 Table 2: 23.6 pJ per synaptic op (a minimum), 120 pJ per STDP update
    assert l1.energy["synaptic_op"].value == 23.6
    assert l1.energy["synaptic_op"].status == "simulated"
    assert l1.energy["synaptic_update"].value == 120.0
    assert l1.capacity("neurons_per_core") == 1024
    assert not l1.energy["trace_update"].known
    l2 = load_profile("loihi2")
    # no public per-op energies for Loihi 2: every per-op energy is an estimated range
    for key, q in l2.energy.items():
        if key in ("static_power", "trace_update"):
            continue
        assert q.status == "estimated" and q.is_range, key
    assert l2.features["graded_third_factor"] and not l1.features["graded_third_factor"]


def _write(tmp_path, text):
    path = tmp_path / "chip.toml"
    path.write_text(text)
    return path


def _base():
    from spikeport.hw_profiles.profile import HERE
    return (HERE / "loihi1.toml").read_text()


@pytest.mark.parametrize("old, new, needle", [
    ('status = "simulated", source = "Davies et al. 2018, Table 2 (minimum, 0.75 V)"',
     'status = "guessed", source = "x"', "energy.synaptic_op.status = 'guessed'"),
    ('synaptic_update = { value = 120.0, unit = "pJ",', 'synaptic_update = { value = -1, unit = "pJ",',
     "energy.synaptic_update.value = -1"),
    ('cores = { value = 128, unit = "1", status = "measured", source = "Davies et al. 2018, IEEE Micro 38(1), Sec. \'Loihi chip\'" }\n',
     '', "[chip] is missing 'cores'"),
    ('graded_third_factor = false', 'graded_third_factor = "no"', "features.graded_third_factor"),
    ('[energy]', '[energy\n', "malformed TOML"),
])
def test_malformed_profile_names_the_key(tmp_path, old, new, needle):
    base = _base()
    assert old in base
    path = _write(tmp_path, base.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        load_profile(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_unknown_profile_name():
    with pytest.raises(SpecError, match="no hardware profile named 'loihi9'"):
        load_profile("loihi9")
