"""Sweep files: a base spec, a parameter grid (or list of points) over spec fields, seeds,
a backend, a dataset and metrics — planned into pure jobs.

A sweep file is YAML (``yaml.safe_load``) with ``schema: spikeport-sweep/1``::

    schema: spikeport-sweep/1
    name: digits_rho_f
    base: ../examples/digits_sbp.yaml     # spec path (relative to this file) or zoo name
    backend: brian2                       # brian2 | fixed (= emulator) | emulator | lava
    dataset: digits                       # default: chosen from the spec's input size
    epochs: 3
    train_samples: 600                    # null: the whole training split
    eval_samples: null                    # validation/test samples (null: all)
    seeds: [1, 2, 3]                      # each sets the spec fields in seed_fields
    parameters:                           # a name -> one dotted spec path, or several (tied)
      rho: projections.pixels->hidden.learning.rho
      f: [projections.pixels->hidden.learning.f_ltp, projections.pixels->hidden.learning.f_ltd]
    grid:                                 # the Cartesian product of the value lists ...
      rho: [0.1, 0.5, 1.0]
      f: [0.05, 0.1, 0.2]
    # points: [{rho: 0.1, f: 0.05}, ...]  # ... or an explicit list of points
    metrics: [accuracy]                   # accuracy | learning_energy (lava, emulator)

A dotted path walks the *normalised* spec (every field present, defaults filled in, as
``spikeport validate`` prints it): mapping keys by name, list elements by their ``name`` (a
projection's default name is ``pre->post``) or by index. Grid keys that are not declared under
``parameters`` are dotted paths themselves. A value replaces the field in the YAML mapping and
the whole point is loaded through the spec loader, so every value meets the spec's own checks
(units such as ``"20 ms"`` included).

Planning: points × seeds → :class:`Job` s. A job's ``config`` is everything its result depends
on (the point's normalised spec mapping, backend, data, epochs, metrics, quantizer options,
profile files); its ``id`` is the first 16 hex digits of the SHA-256 of that config as
canonical JSON, so a result file named by it can never be mistaken for another point's, and a
changed base spec re-runs every point.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from spikeport.backends.base import get_backend
from spikeport.data.registry import DATASETS, N_FEATURES
from spikeport.errors import SpecError
from spikeport.hw_profiles.profile import load_profile
from spikeport.io import read_yaml
from spikeport.models._fields import from_dict

SCHEMA = "spikeport-sweep/1"
#: most jobs one sweep file may plan (each is a whole training): more is a typo or a hang
MAX_JOBS = 10_000
JOB_SCHEMA = "spikeport-sweep-job/1"
BACKENDS = ("brian2", "lava", "emulator")
FIXED_POINT_BACKENDS = ("lava", "emulator")
DEFAULT_FIXED_BACKEND = "emulator"
METRICS = ("accuracy", "learning_energy")
TARGETS = ("auto", "numpy", "cython")
KEYS = ("schema", "name", "description", "base", "backend", "target", "dataset", "data_dir",
        "epochs", "train_samples", "eval_samples", "seeds", "seed_fields", "parameters", "grid",
        "points", "metrics", "energy_profiles", "quantize", "timeout", "out")
DEFAULT_TIMEOUT = 6 * 3600.0


@dataclass(frozen=True)
class Parameter:
    """A swept quantity: a name and the spec paths its value is written to (several = tied)."""

    name: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Job:
    """One pure job: a point of the grid with one seed. ``config`` is JSON-able and complete."""

    id: str
    index: int
    params: dict
    seed: int
    config: dict


@dataclass(frozen=True)
class Sweep:
    """A loaded, fully validated sweep file and its planned jobs."""

    path: Path
    name: str
    description: str
    backend: str
    parameters: tuple[Parameter, ...]
    seeds: tuple[int, ...]
    metrics: tuple[str, ...]
    timeout: float
    out: Path | None
    jobs: tuple[Job, ...] = field(default_factory=tuple)

    def plan(self) -> dict:
        """What ``sweep.json`` records: the jobs (id, params, seed) in order."""
        return {"schema": SCHEMA, "name": self.name, "description": self.description,
                "file": str(self.path), "backend": self.backend,
                "parameters": {p.name: list(p.paths) for p in self.parameters},
                "seeds": list(self.seeds), "metrics": list(self.metrics),
                "jobs": [{"id": j.id, "index": j.index, "params": j.params, "seed": j.seed}
                         for j in self.jobs]}


# ---------------------------------------------------------------------------------------------
# dotted paths into a spec mapping

def _element(node: list, seg: str, where: str, path: str, prefix: str) -> int:
    names = [e.get("name") for e in node if isinstance(e, dict)]
    if seg in names:
        return names.index(seg)
    try:
        idx = int(seg)
    except ValueError:
        idx = None
    if idx is not None and 0 <= idx < len(node):
        return idx
    raise SpecError(f"{where}: path {path!r}: {prefix} has no element {seg!r}; allowed: "
                    f"{', '.join(str(n) for n in names if n)} or an index 0..{len(node) - 1}")


def set_path(tree: dict, path: str, value, where: str) -> None:
    """Write ``value`` at dotted ``path`` in the spec mapping ``tree`` (in place)."""
    if not isinstance(path, str) or not path or any(not s for s in path.split(".")):
        raise SpecError(f"{where}: path {path!r} is invalid; allowed: dot-separated field "
                        "names, e.g. projections.pixels->hidden.learning.rho")
    segs = path.split(".")
    node = tree
    for i, seg in enumerate(segs):
        prefix = ".".join(segs[:i]) or "the spec's top level"
        last = i == len(segs) - 1
        if isinstance(node, dict):
            if seg not in node:
                raise SpecError(f"{where}: path {path!r}: {prefix} has no field {seg!r}; "
                                f"allowed: {', '.join(map(str, node))}")
            key = seg
        elif isinstance(node, list):
            key = _element(node, seg, where, path, prefix)
        else:
            raise SpecError(f"{where}: path {path!r}: {prefix} is {node!r}, not a mapping or a "
                            f"list; set {prefix} as a whole instead")
        if last:
            node[key] = copy.deepcopy(value)
        else:
            node = node[key]


# ---------------------------------------------------------------------------------------------
# loading

def _fail(where: str, key: str, value, allowed: str) -> SpecError:
    return SpecError(f"{where}: {key} = {value!r} is invalid; allowed: {allowed}")


def _int(where, key, value, lo, hi=None, optional=False):
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or \
            (hi is not None and value > hi):
        rng = f"integers in [{lo}, {hi if hi is not None else 'inf'}]"
        raise _fail(where, key, value, rng + (" or null" if optional else ""))
    return value


def _str_list(where, key, value, allowed=None) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or \
            not all(isinstance(v, str) and v for v in items):
        raise _fail(where, key, value, "a non-empty list of strings")
    if allowed is not None:
        for v in items:
            if v not in allowed:
                raise _fail(where, key, v, "one of " + ", ".join(allowed))
    return tuple(items)


def _json_safe(obj):
    """Non-finite floats as the strings the spec loader reads (``"inf"``, ``"-inf"``), so a
    spec mapping is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "inf" if obj > 0 else ("-inf" if obj < 0 else "nan")
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def network_from_mapping(tree: dict, where: str):
    """A spec mapping (as in a YAML file) through the spec loader: every check applies."""
    from spikeport.models.spec import _network_from_dict

    return _network_from_dict(copy.deepcopy(tree), where)


def point_network(config: dict):
    """The network of a job config."""
    return network_from_mapping(config["spec"], "job spec")


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def job_id(config: dict) -> str:
    """First 16 hex digits of the SHA-256 of the config as canonical JSON."""
    return hashlib.sha256(_canonical(config).encode()).hexdigest()[:16]


def _base_spec(base, sweep_path: Path, where: str):
    """(normalised spec mapping, description of the base, weight files to hash)."""
    from spikeport.models import zoo
    from spikeport.models.spec import load_spec, spec_to_dict

    if not isinstance(base, str) or not base:
        raise _fail(where, "base", base, "a spec YAML path (relative to the sweep file) or a "
                                         "zoo name: " + ", ".join(zoo.names()))
    path = (sweep_path.parent / base).resolve()
    if path.is_file():
        net, folder = load_spec(path), path.parent
    elif base in zoo.names():
        net, folder = zoo.load(base), zoo.EXAMPLES
    else:
        raise _fail(where, "base", base, f"an existing spec file ({path} does not exist) or a "
                                         "zoo name: " + ", ".join(zoo.names()))
    tree = spec_to_dict(net)
    # weight files are named relative to the base spec: make them absolute, and hash them
    files = {}
    for proj in tree["projections"]:
        w = proj.get("weights") or {}
        if w.get("kind") == "file" and w.get("path"):
            p = (folder / w["path"]).resolve()
            w["path"] = str(p)
            try:
                files[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            except OSError as exc:
                raise SpecError(f"{where}: base spec {base!r}: weight file {p}: "
                                f"{exc.strerror}") from None
    return tree, str(path) if path.is_file() else f"zoo:{base}", files


def _parameters(data: dict, where: str) -> dict[str, Parameter]:
    raw = data.get("parameters") or {}
    if not isinstance(raw, dict):
        raise _fail(where, "parameters", raw, "a mapping: name -> dotted spec path or a list "
                                              "of paths")
    params = {}
    for name, paths in raw.items():
        if not isinstance(name, str) or not name:
            raise _fail(where, "parameters", name, "names that are non-empty strings")
        params[name] = Parameter(name, _str_list(where, f"parameters.{name}", paths))
    return params


def _param(params: dict, name, where: str, key: str, top: tuple) -> Parameter:
    if not isinstance(name, str) or not name:
        raise _fail(where, key, name, "parameter names or dotted spec paths")
    if name in params:
        return params[name]
    if "." in name or name in top:
        return Parameter(name, (name,))
    raise _fail(where, key, name, "a name declared under 'parameters' ("
                + (", ".join(params) or "none declared") + "), a top-level spec field ("
                + ", ".join(top) + ") or a dotted spec path")


def _points(data: dict, params: dict, where: str,
            top: tuple) -> tuple[dict[str, Parameter], list[dict]]:
    grid, points = data.get("grid"), data.get("points")
    if (grid is None) == (points is None):
        raise SpecError(f"{where}: give exactly one of 'grid' (a mapping: parameter -> list of "
                        "values) or 'points' (a list of mappings: parameter -> value)")
    if grid is not None:
        if not isinstance(grid, dict) or not grid:
            raise _fail(where, "grid", grid, "a non-empty mapping: parameter -> list of values")
        used = {}
        for name, values in grid.items():
            if not isinstance(values, list) or not values:
                raise _fail(where, f"grid.{name}", values, "a non-empty list of values")
            used[name] = _param(params, name, where, "grid", top)
        size = math.prod(len(v) for v in grid.values())
        if size > MAX_JOBS:
            raise _fail(where, "grid", f"{size:,} points",
                        f"at most {MAX_JOBS:,} points (split it into several sweep files)")
        combos = itertools.product(*grid.values())
        return used, [dict(zip(grid, c)) for c in combos]
    if not isinstance(points, list) or not points:
        raise _fail(where, "points", points, "a non-empty list of mappings: parameter -> value")
    used: dict[str, Parameter] = {}
    out = []
    for i, pt in enumerate(points):
        if not isinstance(pt, dict) or not pt:
            raise _fail(where, f"points[{i}]", pt, "a non-empty mapping: parameter -> value")
        for name in pt:
            used.setdefault(name, _param(params, name, where, f"points[{i}]", top))
        out.append(dict(pt))
    return used, out


def _point_label(point: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in point.items())


def _profiles(data: dict, where: str, metrics: tuple[str, ...]) -> list[dict]:

    raw = data.get("energy_profiles")
    if raw is None:
        names = ("loihi1", "loihi2") if "learning_energy" in metrics else ()
    else:
        names = _str_list(where, "energy_profiles", raw)
        if "learning_energy" not in metrics:
            raise SpecError(f"{where}: energy_profiles are given but metrics {list(metrics)} "
                            "does not ask for learning_energy")
    out = []
    for name in names:
        try:
            prof = load_profile(name)
        except SpecError as exc:
            raise SpecError(f"{where}: energy_profiles: {exc}") from None
        digest = hashlib.sha256(Path(prof.path).read_bytes()).hexdigest()
        out.append({"name": prof.name, "path": str(prof.path), "sha256": digest})
    return out


def _quantize(data: dict, where: str) -> dict:
    from dataclasses import asdict

    from spikeport.converters.quantize import QuantizeOptions

    raw = data.get("quantize") or {}
    try:
        opts = from_dict(QuantizeOptions, raw, f"{where}: quantize")
    except SpecError as exc:
        raise SpecError(str(exc)) from None
    if opts.sbp_epoch not in ("sample", "step"):
        raise _fail(where, "quantize.sbp_epoch", opts.sbp_epoch, "'sample' or 'step'")
    return asdict(opts)


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file and plan its jobs; every problem is a one-line
    SpecError naming the file, the key, the value and what is allowed."""
    from spikeport.models.inputs import default_dataset
    from spikeport.models.spec import spec_to_dict

    path = Path(path)
    where = str(path)
    data = read_yaml(path, "sweep file")
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the top level must be a mapping of sweep keys, got "
                        f"{type(data).__name__}")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise SpecError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(KEYS)}")
    if data.get("schema") != SCHEMA:
        raise SpecError(f"{where}: schema = {data.get('schema')!r} is not supported; allowed: "
                        f"{SCHEMA!r} (write `schema: {SCHEMA}` at the top)")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name or "/" in name:
        raise _fail(where, "name", name, "a non-empty string without '/'")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _fail(where, "description", description, "a string")
    backend = data.get("backend", "brian2")
    # "fixed": the default fixed-point backend, bit-exact to Lava
    backend = {"fixed": DEFAULT_FIXED_BACKEND}.get(backend, backend)
    if backend not in BACKENDS:
        raise _fail(where, "backend", backend, "one of fixed, " + ", ".join(BACKENDS))
    target = data.get("target", "auto")
    if target not in TARGETS:
        raise _fail(where, "target", target, "one of " + ", ".join(TARGETS))
    epochs = _int(where, "epochs", data.get("epochs", 1), 1)
    train_samples = _int(where, "train_samples", data.get("train_samples"), 1, optional=True)
    eval_samples = _int(where, "eval_samples", data.get("eval_samples"), 1, optional=True)
    data_dir = data.get("data_dir")
    if data_dir is not None:
        if not isinstance(data_dir, str) or not data_dir:
            raise _fail(where, "data_dir", data_dir, "a folder path or null")
        data_dir = str((path.parent / data_dir).resolve())
    seeds = data.get("seeds", [None])
    if seeds != [None]:
        if not isinstance(seeds, list) or not seeds:
            raise _fail(where, "seeds", seeds, "a non-empty list of integers in [0, 2**32-1]")
        for s in seeds:
            _int(where, "seeds", s, 0, 2**32 - 1)
        if len(set(seeds)) != len(seeds):
            raise _fail(where, "seeds", seeds, "distinct integers")
    seed_fields = _str_list(where, "seed_fields", data.get("seed_fields", ["seed"]))
    metrics = _str_list(where, "metrics", data.get("metrics", ["accuracy"]), METRICS)
    if "learning_energy" in metrics and backend not in FIXED_POINT_BACKENDS:
        raise _fail(where, "metrics", "learning_energy",
                    f"only with backend lava or emulator (op counts are measured in the "
                    f"fixed-point run; backend is {backend!r})")
    profiles = _profiles(data, where, metrics)
    quantize = _quantize(data, where) if backend in FIXED_POINT_BACKENDS else None
    if "quantize" in data and quantize is None:
        raise SpecError(f"{where}: quantize options apply to backends lava and emulator, not "
                        f"{backend!r}")
    timeout = data.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
            not math.isfinite(timeout) or timeout <= 0:
        raise _fail(where, "timeout", timeout, "seconds > 0 (per job)")
    out = data.get("out")
    if out is not None:
        if not isinstance(out, str) or not out:
            raise _fail(where, "out", out, "a folder path (relative to the sweep file)")
        out = (path.parent / out).resolve()
    if backend in FIXED_POINT_BACKENDS:

        get_backend(backend)     # not installed here (Lava) or not importable: one line now

    base_tree, base_desc, weight_files = _base_spec(data.get("base"), path, where)
    params = _parameters(data, where)
    used, points = _points(data, params, where, tuple(base_tree))
    for p in used.values():
        clash = set(p.paths) & set(seed_fields) if seeds != [None] else set()
        if clash:
            raise SpecError(f"{where}: parameter {p.name!r} sets {sorted(clash)[0]!r}, which "
                            "the seeds also set (seed_fields); sweep it through 'seeds'")

    jobs, seen = [], {}
    if len(points) * len(seeds) > MAX_JOBS:
        raise _fail(where, "points", f"{len(points):,} points x {len(seeds)} seeds",
                    f"at most {MAX_JOBS:,} jobs (split it into several sweep files)")
    for pt in points:
        tree = copy.deepcopy(base_tree)
        label = _point_label(pt)
        pwhere = f"{where}: point {label}"
        for pname, value in pt.items():
            for spath in used[pname].paths:
                set_path(tree, spath, value, f"{where}: parameter {pname!r}")
        for seed in seeds:
            t = copy.deepcopy(tree)
            if seed is not None:
                for spath in seed_fields:
                    set_path(t, spath, seed, f"{where}: seed_fields")
            try:
                net = network_from_mapping(t, pwhere)
            except SpecError as exc:
                msg = str(exc)
                raise SpecError(msg if msg.startswith(pwhere) else f"{pwhere}: {msg}") from None
            ds = data.get("dataset")
            if ds is None:
                try:
                    ds = default_dataset(net)
                except SpecError as exc:
                    raise SpecError(f"{where}: dataset: {exc}") from None
            if ds not in DATASETS:
                raise _fail(where, "dataset", ds, "one of " + ", ".join(DATASETS))
            if N_FEATURES[ds] != net.inputs[0].n:
                raise _fail(where, "dataset", ds, f"a dataset with {net.inputs[0].n} features "
                            f"per sample (input '{net.inputs[0].name}'); {ds} has "
                            f"{N_FEATURES[ds]}")
            if net.readout is None:
                raise SpecError(f"{pwhere}: the network has no readout; a sweep scores accuracy")
            config = {"schema": JOB_SCHEMA, "backend": backend,
                      "spec": _json_safe(spec_to_dict(net)),
                      "base": base_desc, "weight_files": weight_files, "dataset": ds,
                      "data_dir": data_dir, "epochs": epochs, "train_samples": train_samples,
                      "eval_samples": eval_samples, "metrics": list(metrics)}
            if backend not in FIXED_POINT_BACKENDS:      # the float reference
                config["target"] = target
            else:
                config["quantize"] = quantize
                config["energy_profiles"] = profiles
            jid = job_id(config)
            shown = dict(pt)
            if jid in seen:
                raise SpecError(f"{where}: points {seen[jid]} and {label} (seed {seed}) give "
                                "the same job; remove the duplicate value")
            seen[jid] = f"{label} (seed {seed})"
            jobs.append(Job(jid, len(jobs), shown, net.seed if seed is None else seed, config))
    return Sweep(path=path, name=name, description=description, backend=backend,
                 parameters=tuple(used.values()), seeds=tuple(s for s in seeds if s is not None),
                 metrics=metrics, timeout=float(timeout), out=out, jobs=tuple(jobs))


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"K/N"`` → (K, N) with 0 ≤ K < N: run jobs whose index ≡ K (mod N)."""
    if text is None:
        return None
    try:
        k, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise SpecError(f"--shard = {text!r} is invalid; allowed: K/N with integers "
                        "0 <= K < N, e.g. 0/4") from None
    if n < 1 or not 0 <= k < n:
        raise SpecError(f"--shard = {text!r} is invalid; allowed: K/N with 0 <= K < N")
    return k, n


__all__ = ["Sweep", "Job", "Parameter", "load_sweep", "set_path", "job_id", "parse_shard",
           "point_network", "network_from_mapping",
           "SCHEMA", "BACKENDS", "METRICS"]
