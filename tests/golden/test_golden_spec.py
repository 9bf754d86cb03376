"""Golden spec YAML: load -> dump (``spikeport validate``) of every example and every zoo
network, with every default written out; data/spec/examples/*.yaml, data/spec/zoo/*.yaml.

Examples go through the CLI (``spikeport validate FILE`` prints the normalised YAML); zoo
networks through the library (``spikeport.models.zoo.load`` + ``dump_spec``), as the commands
that take a zoo name do. Each dump must also load back to the same dump."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from golden_support import DATA, UPDATE, check, spikeport_main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.yaml")
                  if "schema: spikeport/1" in p.read_text())
SWEEPS = sorted(p.name for p in (ROOT / "examples").glob("*.yaml") if p.name not in EXAMPLES)


def zoo_names() -> list[str]:
    from spikeport.models import zoo

    return zoo.names()


def test_example_and_zoo_lists_are_locked():
    """A new example or zoo network needs its golden dump (update deliberately)."""
    golden_examples = sorted(p.name for p in (DATA / "spec" / "examples").glob("*.yaml"))
    golden_zoo = sorted(p.stem for p in (DATA / "spec" / "zoo").glob("*.yaml"))
    if UPDATE:
        return
    assert EXAMPLES == golden_examples
    assert sorted(zoo_names()) == golden_zoo
    assert SWEEPS == ["sweep_digits.yaml"]  # sweep files are not network specs


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_load_dump(name):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert spikeport_main()(["validate", str(ROOT / "examples" / name)]) == 0
    text = buf.getvalue()
    check(f"spec/examples/{name}", text)
    from spikeport.models import dump_spec, spec_from_yaml

    assert dump_spec(spec_from_yaml(text)) == text  # the dump is a fixed point


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_load_dump(name):
    from spikeport.models import dump_spec, spec_from_yaml, zoo

    text = dump_spec(zoo.load(name))
    check(f"spec/zoo/{name}.yaml", text)
    assert dump_spec(spec_from_yaml(text)) == text
