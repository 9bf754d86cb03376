"""``spikeport continual``: a spiking network and the baselines through one class-incremental
schedule, on the same task order, samples and seed.

Methods (``methods=``):

=============  ==============================================================================
``snn``        the spec as given (e.g. NACA), trained in the Brian2 reference
``snn_frozen`` the same network, hidden plasticity removed (:func:`~.baselines.frozen_twin`)
``snn_sbp``    no neuromodulation: NACA → SBP, readout ungated (:func:`~.baselines.sbp_twin`)
``snn_chip``   the spec learning in Loihi fixed point on the emulator, bit-exact to Lava
               (:class:`~.baselines.ChipLearner`): accuracy on the chip, op counts, energy
``mlp_sgd``    numpy MLP of the same hidden size, SGD (:class:`~.baselines.MLPLearner`)
``mlp_ewc``    the same MLP with EWC, λ chosen on the validation split (``tune_ewc``)
``ncm``        frozen random hidden layer + nearest-class-mean readout (``NCMLearner``)
=============  ==============================================================================

Writes ``OUT/continual.json`` (every metric, per method), ``OUT/continual.md``,
``OUT/accuracy_matrix.png`` and, for every spiking method, the network as trained after the
last task: ``OUT/networks/<method>/`` (a Brian2 artefact that ``spikeport convert``/``deploy``
take; the fixed-point method's learned network as a run directory ``spikeport run`` takes).
Learning-phase op counts and energy on the hardware profiles are those of ``snn_chip``
(``learning_cost.ops``/``energy``: counted in its learning runs, priced per profile); the
Brian2 methods report their measured activity (samples, steps, spikes).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from spikeport.backends.brian2.targets import resolve_target
from spikeport.continual.baselines import (
    ChipLearner,
    MLPLearner,
    NCMLearner,
    SpikingLearner,
    frozen_twin,
    sbp_twin,
    tune_ewc,
)
from spikeport.continual.protocol import ProtocolConfig, load_splits, parse_tasks, run_protocol
from spikeport.continual.report import format_report, plot_matrices, summarize
from spikeport.errors import SpecError
from spikeport.io import atomic_write_json, atomic_write_text
from spikeport.models.rules import NACA, SBP
from spikeport.models.spec import WeightInit
from spikeport.paths import relative_paths  # reports carry no absolute paths
from spikeport.provenance import provenance

METHODS = ("snn", "snn_frozen", "snn_sbp", "snn_chip", "mlp_sgd", "mlp_ewc", "ncm")
# what `spikeport continual` runs unless told: the fixed-point run is opt-in (slower)
DEFAULT_METHODS = ("snn", "snn_frozen", "snn_sbp", "mlp_sgd", "mlp_ewc", "ncm")
EWC_GRID = (1.0, 10.0, 100.0, 1e3, 1e4, 1e5)


def hidden_size(net) -> int:
    """Neurons of the spec's LIF populations other than the readout (the MLP/NCM width)."""
    readout = net.readout.population if net.readout else None
    n = sum(p.n for p in net.populations if p.name != readout)
    if n < 1:
        raise SpecError(f"network '{net.name}': no hidden population to size the baselines "
                        "from; pass hidden=")
    return n


def parse_methods(text) -> tuple[str, ...]:
    items = tuple(m.strip() for m in (text.split(",") if isinstance(text, str) else text)
                  if m.strip())
    bad = [m for m in items if m not in METHODS]
    if bad or not items:
        raise SpecError(f"continual: method {bad[0] if bad else '(none)'!r} is invalid; "
                        f"allowed: {', '.join(METHODS)}")
    return items


def load_network(source, seed: int | None = None):
    """(net, weights, thresholds) from a spec file, zoo name or artefact; ``seed`` replaces
    the spec's seed (new initial weights; not allowed for a trained artefact)."""
    from spikeport.models.artefact import is_artefact, load_source
    from spikeport.models.weights import initial_weights

    art = load_source(source)
    net, weights, thresholds = art.net, art.weights, dict(art.thresholds or {})
    if seed is not None and seed != net.seed:
        if is_artefact(source):
            raise SpecError(f"{source}: --seed re-initialises the weights; give a spec or a "
                            "zoo name, not a trained artefact")
        net = replace(net, seed=int(seed))
        base = Path(source).parent if Path(str(source)).is_file() else None
        weights = initial_weights(net, base)
    return net, weights, thresholds


def run_continual(source, out: str | Path | None = None, tasks: str = "1",
                  methods=DEFAULT_METHODS, dataset: str | None = None, data_dir: str | None = None,
                  max_epochs: int = 1, early_stop: float | None = None,
                  train_per_class: int | None = None, val_per_class: int | None = None,
                  test_per_class: int | None = None, seed: int | None = None,
                  target: str = "auto", hidden: int | None = None, mlp_lr: float = 0.05,
                  mlp_batch: int = 64, ewc_lambda: float | None = None, ewc_grid=EWC_GRID,
                  sbp_f: float = 0.1, sbp_rho: float = 0.5,
                  twin_init: tuple[float, float] | None = None, progress: bool = True) -> dict:
    """Run every method in ``methods`` through one schedule; returns the result dict (also
    written to ``out`` when given). See the module docstring. ``twin_init`` = (low, high):
    uniform initial weights of the twins' hidden projection (default: the spec's own)."""
    from spikeport.models.inputs import default_dataset

    methods = parse_methods(methods)
    net, weights, thresholds = load_network(source, seed)
    if net.readout is None:
        raise SpecError(f"{source}: continual learning needs a readout population")
    dataset = dataset or default_dataset(net)
    splits = load_splits(dataset, data_dir)
    if splits.n_classes != net.readout.n_classes:
        raise SpecError(f"{source}: readout.n_classes = {net.readout.n_classes} but {dataset} "
                        f"has {splits.n_classes} classes")
    n_in = splits.train.X.shape[1]
    hidden = hidden or hidden_size(net)
    cfg = ProtocolConfig(parse_tasks(tasks, splits.n_classes, net.seed), max_epochs,
                         early_stop, train_per_class, val_per_class, test_per_class)
    target = resolve_target(target) if any(m.startswith("snn") for m in methods) else target
    mlp = dict(n_in=n_in, n_hidden=hidden, n_classes=splits.n_classes, seed=net.seed,
               lr=mlp_lr, batch=mlp_batch)
    init = None
    if twin_init is not None:
        low, high = (float(v) for v in twin_init)
        if not low <= high:
            raise SpecError(f"continual: twin_init = {twin_init!r} is invalid; allowed: "
                            "(low, high) with low <= high")
        init = WeightInit("uniform", low=low, high=high)
    result = {"network": net.name, "dataset": dataset, "seed": net.seed,
              "tasks": [list(t) for t in cfg.tasks], "max_epochs": max_epochs,
              "early_stop": early_stop, "train_per_class": train_per_class,
              "val_per_class": val_per_class, "test_per_class": test_per_class,
              "hidden": hidden, "mlp": {"lr": mlp_lr, "batch": mlp_batch},
              "twin_init": None if twin_init is None else [float(v) for v in twin_init],
              "split_rule": "the dataset's fixed train/val/test split; validation for early "
                            "stopping and EWC λ, test only for the reported accuracies",
              "prediction": "per sample, best-scoring class among the classes seen so far; a "
                            "spiking readout without any output spike abstains (an error)",
              "methods": {}}
    trained = {}
    for method in methods:
        learner = _learner(method, net, weights, thresholds, dataset, target, mlp, cfg, splits,
                           ewc_lambda, ewc_grid, sbp_f, sbp_rho, init, result)
        run = run_protocol(learner, splits, cfg, progress=progress)
        result["methods"][learner.name] = summarize(run) | {"kind": method}
        if isinstance(learner, SpikingLearner):
            trained[learner.name] = learner
    result["test_samples"] = int(sum(len(splits.test.y[splits.test.y == c])
                                     if test_per_class is None else
                                     min(test_per_class, int((splits.test.y == c).sum()))
                                     for c in cfg.classes))
    result["learning_phase_cost"] = ("Brian2 methods: measured activity in learning_cost "
                                     "(samples, steps, spikes); snn_chip: op counters of its "
                                     "fixed-point learning runs and their energy per hardware "
                                     "profile (learning_cost.ops, learning_cost.energy)")
    result["provenance"] = provenance(net, spec=str(source), target=target)
    if out is not None:
        write_outputs(result, out, trained)
    return result


def _learner(method, net, weights, thresholds, dataset, target, mlp, cfg, splits, ewc_lambda,
             ewc_grid, sbp_f, sbp_rho, init, result):
    from spikeport.models.weights import initial_weights

    if method == "snn":
        return SpikingLearner(net, weights, thresholds, dataset, target)
    if method == "snn_chip":
        return ChipLearner(net, weights, thresholds, dataset)
    if method in ("snn_frozen", "snn_sbp"):
        twin = frozen_twin(net, init) if method == "snn_frozen" else sbp_twin(net, sbp_f,
                                                                               sbp_rho, init)
        w = dict(weights)
        if init is not None:   # same streams: only the re-initialised projections change
            fresh = initial_weights(twin)
            w.update({p.name: fresh[p.name] for p in net.projections
                      if isinstance(p.learning, (NACA, SBP))})
        return SpikingLearner(twin, w, thresholds, dataset, target)
    if method == "mlp_sgd":
        return MLPLearner(**mlp)
    if method == "mlp_ewc":
        if ewc_lambda is None:
            ewc_lambda, search = tune_ewc(splits, cfg, ewc_grid, **mlp)
            result["ewc_search"] = search
        result["ewc_lambda"] = float(ewc_lambda)
        return MLPLearner(ewc_lambda=ewc_lambda, **mlp)
    return NCMLearner(mlp["n_in"], mlp["n_hidden"], mlp["n_classes"], mlp["seed"])


def write_outputs(result: dict, out: str | Path, trained: dict | None = None) -> dict[str, Path]:
    """``continual.json``, ``continual.md``, ``accuracy_matrix.png`` in ``out`` (atomic), and
    ``networks/<method>/`` for every learner in ``trained`` (name -> spiking learner)."""

    out = Path(out)
    paths = {"json": out / "continual.json", "markdown": out / "continual.md",
             "heatmap": out / "accuracy_matrix.png"}
    for name, learner in (trained or {}).items():
        paths[f"network:{name}"] = save_network(learner, out / "networks" / name,
                                                result["methods"].get(name, {}))

    atomic_write_json(paths["json"], relative_paths(result, out))
    atomic_write_text(paths["markdown"], format_report(relative_paths(result, out))
                      + "\n\n![accuracy matrices]"
                      "(accuracy_matrix.png)\n")
    plot_matrices(result["methods"], result["tasks"], paths["heatmap"],
                  title=f"{result['network']} on {result['dataset']}, seed {result['seed']}")
    return paths


def save_network(learner, path: str | Path, metrics: dict) -> Path:
    """The trained network of a spiking learner: a Brian2 artefact, or (fixed point) a run
    directory with ``fixed/`` and ``spec.yaml``. Written beside and renamed into place."""
    import shutil

    from spikeport.converters.run_folder import FIXED
    from spikeport.models.artefact import save_artefact
    from spikeport.models.spec import save_spec

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    keep = {k: metrics[k] for k in ("final_mean_accuracy", "final_seen_accuracy", "bwt")
            if k in metrics}
    if isinstance(learner, ChipLearner):
        learner.fixed.save(tmp / FIXED)
        save_spec(learner.net, tmp / "spec.yaml")
    else:
        save_artefact(learner.artefact({"continual": keep}), tmp)
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    return path
