"""Command line: argument parsing only; every command calls a library function.

User errors (bad spec, bad data file, unsupported feature) print one line and exit 2;
Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from spikeport import __version__
from spikeport.errors import DataError, SpikeportError

DATASETS = ("digits", "mnist", "nettalk", "nmnist", "dvsgesture", "shd")


def _add_data_args(p: argparse.ArgumentParser, default_split: str | None = "test") -> None:
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="dataset to encode (default: chosen from the input size: 64 → digits, "
                        "784 → mnist, 189 → nettalk, 1024 → dvsgesture)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder holding the dataset files; for MNIST, IDX files named like the "
                        "official ones (*-images-idx3-ubyte[.gz], *-labels-idx1-ubyte[.gz])")
    if default_split is not None:
        p.add_argument("--split", choices=("train", "val", "test"), default=default_split,
                       help=f"which fixed split of the dataset to use (default: {default_split})")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikeport",
        description="Define a plastic spiking network once, simulate and train it in Brian2, "
                    "run it in Lava fixed point, and report drift and learning cost.",
        epilog="Run 'spikeport COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"spikeport {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "simulate", help="run the Brian2 float reference on encoded samples",
        description="Encode samples of a dataset with the spec's encoder and seed, run them "
                    "through the Brian2 reference in one run() and print spike statistics per "
                    "population and the (untrained) readout accuracy.")
    p.add_argument("spec", help="network spec (YAML, schema spikeport/1)")
    _add_data_args(p)
    p.add_argument("--samples", type=_positive_int, default=50,
                   help="number of samples from the start of the split (default: 50)")
    p.add_argument("--spikes", default=None, metavar="FILE",
                   help="run on your own input spikes instead of a dataset: an .npz with "
                        "'spikes' (n_samples, sample_steps, n_inputs) and optional 'labels'")
    p.add_argument("--target", choices=("numpy", "cython"), default="numpy",
                   help="Brian2 code-generation target (default: numpy, no compiler needed)")
    p.add_argument("-o", "--out", default=None, metavar="DIR",
                   help="write simulate.json and spikes.npz (input spikes included) to DIR")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser(
        "train", help="train a spec in the Brian2 reference (or in fixed point on the emulator)",
        description="Train with the spec's learning rules, one Brian2 run per epoch over the "
                    "training split (seeded shuffle, fresh input noise per epoch), then score the "
                    "validation and test splits with learning off. OUT gets spec.yaml, "
                    "weights.npz and metrics.json after every epoch; rerunning resumes. With "
                    "--backend emulator the same schedule runs in Lava fixed point (bit-exact "
                    "emulator) and OUT is a run directory (spec.yaml, fixed/, metrics.json).")
    p.add_argument("spec", help="network spec (YAML), a zoo name (digits_sbp, mnist_sbp, "
                                "nettalk_sbp, dvsgesture_sbp, each also as NAME_nosbp and "
                                "NAME_dense) or a trained artefact to continue from")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="artefact directory")
    p.add_argument("--epochs", type=_positive_int, default=1,
                   help="train until this many epochs are done (default: 1)")
    _add_data_args(p, default_split=None)
    p.add_argument("--train-samples", type=_positive_int, default=None,
                   help="use only the first N training samples (default: all)")
    p.add_argument("--eval-samples", type=_positive_int, default=None,
                   help="score only the first N validation/test samples (default: all)")
    p.add_argument("--target", choices=("auto", "numpy", "cython", "cpp_standalone"),
                   default="auto",
                   help="Brian2 code generation (default: auto = cython when a compiler works; "
                        "cpp_standalone trains in one compiled C++ program, after a build of "
                        "minutes, and evaluates with auto)")
    p.add_argument("--eta-decay", type=float, default=None, metavar="K",
                   help="learning-rate schedule (Brian2 backend): epoch e learns with every "
                        "rule's rate x K^(e-1), K in (0, 1] (default: 1, constant; a resumed "
                        "training keeps its own)")
    p.add_argument("--restart", action="store_true",
                   help="ignore an artefact already in OUT and start from the spec")
    p.add_argument("--backend", choices=("brian2", "emulator"), default="brian2",
                   help="brian2: the float reference (OUT is a trained artefact); emulator: "
                        "convert first and learn in Lava fixed point on the bit-exact emulator, "
                        "the chip's own arithmetic (OUT is a run directory with fixed/ for "
                        "'spikeport run'; --target does not apply) (default: brian2)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "evaluate", help="accuracy of a trained artefact on a dataset split",
        description="Score a trained artefact (learning off) on any dataset folder, e.g. "
                    "another pair of MNIST IDX files.")
    p.add_argument("artefact", help="a directory written by 'spikeport train'")
    _add_data_args(p)
    p.add_argument("--samples", type=_positive_int, default=None,
                   help="score only the first N samples of the split (default: all)")
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation (default: auto)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser(
        "convert", help="quantize a trained artefact to Lava fixed point",
        description="Quantize an artefact (or an untrained spec) to Lava's fixed-point "
                    "arithmetic (Loihi-1 bit widths). Writes OUT/fixed/ (network.json + "
                    "weights.npz) and the per-layer quantization report OUT/quantization.md/.json. "
                    "Rules Lava cannot express (STP, NACA for now) are refused, never dropped.")
    p.add_argument("source", help="trained artefact, spec YAML, or zoo name")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="run directory")
    p.add_argument("--sbp-epoch", choices=("sample", "step"), default="sample",
                   help="SBP learning epoch on Lava: once per sample, as a chip would "
                        "(default), or every step (exact eligibility traces, costlier)")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser(
        "run", help="run a converted network on Lava or the emulator (inference or on-chip "
                    "learning)",
        description="Run OUT/fixed on Lava's CPU simulator (Loihi2SimCfg, fixed_pt) in a "
                    "subprocess with a timeout, or on the bit-exact emulator (--backend "
                    "emulator). --infer (default) scores the test split; --learn keeps learning "
                    "on chip over training samples and writes OUT/fixed_learned/. Results: "
                    "OUT/{lava,emulator}_{infer,learn}.json/.npz.")
    p.add_argument("out", metavar="OUT", help="run directory written by convert or deploy")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--learn", action="store_true", help="learn on chip (train split)")
    mode.add_argument("--infer", action="store_true", help="inference only (default)")
    p.add_argument("--samples", type=_positive_int, default=100,
                   help="number of samples (default: 100)")
    _add_data_args(p, default_split=None)
    p.add_argument("--split", choices=("train", "val", "test"), default=None,
                   help="dataset split (default: train with --learn, test otherwise)")
    p.add_argument("--learned", action="store_true",
                   help="run OUT/fixed_learned (after --learn) instead of OUT/fixed")
    p.add_argument("--backend", choices=("lava", "emulator"), default="lava",
                   help="lava: Lava's CPU simulator (Loihi2SimCfg fixed_pt) in a subprocess; "
                        "emulator: spikeport's compiled emulator, bit-exact to it (same spikes, "
                        "weights and op counts) and hundreds of times faster (default: lava)")
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="seconds before the Lava run is killed (default: 3600)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true",
                   help="hide the emulator's progress bar")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "deploy", help="train if needed, convert, run on Lava, compare with Brian2",
        description="One step from a spec to the emulated chip: train in Brian2 (when given a "
                    "spec), quantize, run inference on Lava, run the Brian2 reference on the "
                    "same input spikes and summarise both (OUT/deploy.md/.json).")
    p.add_argument("source", help="spec YAML, zoo name, or trained artefact")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="run directory")
    p.add_argument("--epochs", type=_positive_int, default=8,
                   help="Brian2 training epochs when given a spec (default: 8)")
    p.add_argument("--samples", type=_positive_int, default=100,
                   help="test samples to run on Lava and Brian2 (default: 100)")
    _add_data_args(p, default_split=None)
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation for training (default: auto)")
    p.add_argument("--timeout", type=float, default=3600.0, help="Lava run timeout (s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_cmd_deploy)

    p = sub.add_parser(
        "energy", help="energy and time of a Lava run's measured op counts on chip profiles",
        description="Price the op counts measured inside a Lava run (OUT/lava_infer.json, "
                    "OUT/lava_learn.json) with hardware profiles: every figure a range with "
                    "its sources; operations without a published energy are counted and "
                    "reported as missing. The learning phase is also given per epoch and to a "
                    "threshold accuracy (from OUT/artefact/metrics.json), beside backprop "
                    "baselines: a numpy MLP of the same shape trained to the same threshold "
                    "(compute only, Horowitz 45 nm) and a measured H100 (whole device). "
                    "Writes OUT/energy.json, OUT/energy.md and OUT/energy.png.")
    p.add_argument("out", metavar="OUT", help="run directory with Lava runs")
    p.add_argument("--profile", action="append", default=None,
                   help="profile name (loihi1, loihi2) or a .toml path; repeatable "
                        "(default: loihi1 and loihi2)")
    p.add_argument("--threshold", type=float, default=None, metavar="ACC",
                   help="validation accuracy for 'to threshold' (default: digits 0.8, "
                        "mnist 0.85, nettalk 0.5)")
    p.add_argument("--no-baselines", action="store_true",
                   help="skip the backprop baselines (the MLP trains for a few seconds)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="dataset folder for the MLP baseline (default: the artefact's, else "
                        "the dataset's default)")
    p.add_argument("--backend", choices=("lava", "emulator"), default=None,
                   help="whose run summaries to price (default: Lava's, else the emulator's; "
                        "both count the same operations)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_energy)

    p = sub.add_parser(
        "map", help="map a network onto a chip profile's cores, with hardware readiness",
        description="Assign populations and synapses to cores of a profile and report cores, "
                    "memory per core, fan-in/out; refuse what does not fit; say per process "
                    "whether a chip implementation exists.")
    p.add_argument("source", help="run directory, fixed-point network directory or spec YAML")
    p.add_argument("--profile", default="loihi2", help="profile name or .toml (default: loihi2)")
    p.add_argument("--infer-only", action="store_true", help="map for inference (no learning)")
    p.set_defaults(func=_cmd_map)

    p = sub.add_parser(
        "demo", help="the end-to-end demo on the digits network",
        description="Print the spike summary of examples/digits_sbp.yaml in the Brian2 "
                    "reference, then deploy it: train in Brian2 (5 epochs), convert to Lava "
                    "fixed point, run 100 test digits on Lava and compare with the Brian2 "
                    "reference on the same input spikes.")
    p.add_argument("--spec", default=None, help="spec to demo (default: examples/digits_sbp.yaml)")
    p.add_argument("-o", "--out", default=None, help="run directory (default: runs/demo)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "compare", help="spike-level drift: Brian2 float vs quantized parameters vs fixed point",
        description="Run the same input spikes (same seed) through three backends — the Brian2 "
                    "float reference, the Brian2 reference with the quantizer's rounded "
                    "constants (float arithmetic: isolates parameter rounding) and the fixed "
                    "point (Lava or the emulator: integer arithmetic) — in inference (test "
                    "split) and learning (train split, then each learned network on the test "
                    "samples). Metrics per population: exact match rate, coincidence, per-neuron "
                    "spike-count correlation, cosine of time-averaged activity, first-spike "
                    "error, van Rossum distance, first differing step; accuracies and agreement; "
                    "weight divergence while learning. Writes OUT/compare.json, compare.md, "
                    "compare.npz and PNGs (raster, metric bars, weight divergence, sweeps); OUT "
                    "is also a run directory (fixed/, quantization.md).",
        epilog="Gates (exit 1 when one fails; the report is written first): --fail-under "
               "accuracy=0.8, agreement=0.95, learned_accuracy=0.5, hidden.match_rate=0.99, "
               "cosine=0.9 (worst population), learn.output.coincidence=0.5; --fail-over "
               "van_rossum=2, weight_rms=0.05. Any key listed under 'gate_metrics' in "
               "compare.json works too.")
    p.add_argument("source", help="spec YAML, zoo name or trained artefact")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="output directory")
    p.add_argument("--samples", type=_positive_int, default=100,
                   help="test samples for inference and scoring (default: 100)")
    p.add_argument("--learn-samples", type=_positive_int, default=None, metavar="N",
                   help="training samples for the learning phase (default: --samples)")
    p.add_argument("--no-learn", action="store_true", help="skip the learning phase")
    _add_data_args(p, default_split=None)
    p.add_argument("--backend", choices=("lava", "emulator"), default="lava",
                   help="fixed-point backend (default: lava)")
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation (default: auto)")
    p.add_argument("--tau-vr", type=float, default=10.0, metavar="MS",
                   help="van Rossum time constant in ms (default: 10)")
    p.add_argument("--penalty", type=float, default=None, metavar="STEPS",
                   help="first-spike error charged for a missing first spike, in steps "
                        "(default: the sample length)")
    p.add_argument("--checkpoints", type=_positive_int, default=10, metavar="K",
                   help="points on the weight trajectories while learning (default: 10)")
    p.add_argument("--raster-sample", type=int, default=0, metavar="I",
                   help="test sample drawn in raster.png (default: 0)")
    p.add_argument("--sbp-epoch", choices=("sample", "step"), default="sample",
                   help="SBP learning epoch on the fixed point (as for convert)")
    p.add_argument("--sweep-bits", default=None, metavar="LIST",
                   help="also compare at these weight precisions, e.g. 8,7,6,5,4,3")
    p.add_argument("--sweep-impulse", default=None, metavar="LIST",
                   help="also compare at these largest learning-trace impulses, e.g. "
                        "127,64,32,16,8")
    p.add_argument("--sweep-t-epoch", default=None, metavar="LIST",
                   help="also compare at these SBP learning epochs (steps dividing the sample "
                        "length), e.g. 1,10,50,100")
    p.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 if METRIC (larger is better) is below VALUE; repeatable")
    p.add_argument("--fail-over", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 if METRIC (smaller is better) is above VALUE; repeatable")
    p.add_argument("--timeout", type=float, default=3600.0, help="per Lava run timeout (s)")
    p.add_argument("--json", action="store_true", help="print compare.json instead")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_compare)

    # [parsers: compare (issue 5)]
    p = sub.add_parser(
        "import-nir", help="import a NIR graph (snnTorch, Norse, Sinabs, ...) as a network",
        description="Read a Neuromorphic Intermediate Representation file (Input, Affine/Linear, "
                    "CubaLIF/LIF, Output; nested subgraphs and Flatten are inlined) and write a "
                    "spikeport network. OUT is a trained-artefact directory (spec.yaml + "
                    "weights.npz, and the import report nir_import.json) that convert, deploy, "
                    "evaluate, map and train take as is: deploy does not retrain an artefact, "
                    "so 'spikeport deploy OUT -o RUN' and then 'spikeport energy RUN' cost the "
                    "imported network directly; OUT/spec.yaml also loads on its own. An OUT "
                    "ending in .yaml writes a spec and a .npz of weights beside it instead "
                    "(deploy would train such a spec first). NIR's ODE is discretised with "
                    "--dt and --discretisation and its gain (r, w_in) folded into the weights; "
                    "the file's metadata is only compared with them. Graphs spikeport cannot "
                    "express (convolutions, pooling, Affine biases, loops through several "
                    "populations, non-spiking or leak-free neurons, per-neuron time "
                    "constants, ...) are refused with one line naming the node.",
        epilog="spikeport delivers spikes one step after they are emitted (Lava's Dense "
               "delay): one step later per layer than in snnTorch, which delivers within "
               "the step.")
    p.add_argument("nir_file", metavar="FILE.nir", help="the NIR file (HDF5, nir 1.0)")
    p.add_argument("-o", "--out", required=True, metavar="OUT",
                   help="artefact directory (recommended), or SPEC.yaml for spec + .npz")
    p.add_argument("--dt", type=float, default=1e-3, metavar="SECONDS",
                   help="time step the source framework stepped the ODE with (default: 0.001; "
                        "snnTorch writes tau = dt/(1 - beta) with dt = 1e-4)")
    p.add_argument("--discretisation", choices=("euler", "exp"), default="euler",
                   help="euler: decay 1 - dt/tau, input gain dt/tau (snnTorch's "
                        "convention; default); exp: decay exp(-dt/tau), input gain "
                        "1 - exp(-dt/tau)")
    p.add_argument("--reset", choices=("value", "subtract"), default="value",
                   help="how the source reset v after a spike: value (NIR's v <- v_reset, "
                        "snnTorch reset_mechanism='zero'; default) or subtract (refused: "
                        "spikeport and Loihi reset to a value)")
    p.add_argument("--spec-dt", type=float, default=None, metavar="SECONDS",
                   help="time step of the spikeport network (default: --dt); per-step "
                        "decays are kept, so the time constants scale with it")
    p.add_argument("--rules", default=None, metavar="YAML",
                   help="what NIR does not carry: learning rules, homeostasis, sign modes, "
                        "weight bounds, connectivity, encoder, teacher, readout, sample length "
                        "(the FILE.spikeport.yaml that export-nir writes)")
    p.add_argument("--name", default=None, help="network name (default: the file's stem)")
    p.add_argument("--sample-steps", type=_positive_int, default=None, metavar="N",
                   help="steps per sample (default: from --rules, else 100)")
    p.add_argument("--classes", type=_positive_int, default=None, metavar="N",
                   help="add a readout with N classes on the population feeding the Output "
                        "node")
    p.add_argument("--readout", default=None, metavar="POP",
                   help="the readout population when several feed Output nodes")
    p.add_argument("--json", action="store_true", help="print the import report as JSON")
    p.set_defaults(func=_cmd_import_nir)

    p = sub.add_parser(
        "export-nir", help="export a spec, zoo network or artefact as a NIR graph",
        description="Write the network as a NIR graph (Input -> Linear -> CubaLIF -> Output) "
                    "for snnTorch, Norse, Sinabs, Rockpool, lava-dl, ...: weights (out, in), "
                    "tau in seconds, r = 1/g_m and w_in = 1/g_s so that the ODE, stepped with "
                    "the dt and discretisation written in the graph metadata, adds input "
                    "with gain 1 as spikeport does; the bias becomes v_leak. Learning rules "
                    "and homeostasis are not part of NIR: they are dropped from the graph "
                    "with a warning and written, with the encoder, readout and the rest NIR "
                    "does not carry, to FILE.spikeport.yaml beside it (import-nir --rules "
                    "takes it back). Refractory periods, STP and axonal delays are refused.")
    p.add_argument("source", help="spec YAML, zoo name, or trained artefact (its per-neuron "
                                  "thresholds are exported)")
    p.add_argument("-o", "--out", required=True, metavar="FILE.nir", help="NIR file to write")
    p.add_argument("--discretisation", choices=("euler", "exp"), default="euler",
                   help="how the written tau should be stepped: euler writes tau = "
                        "dt/(1 - decay) as snnTorch reads it (default), exp writes tau itself")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_export_nir)

    # [parsers: nir (issue 9)]
    p = sub.add_parser(
        "continual", help="class-incremental learning: a spec (e.g. NACA) vs SGD, EWC and "
                          "nearest-class-mean baselines",
        description="Learn the classes of a dataset task by task with a single head (no "
                    "replay), scoring every sample on its own against all classes seen so far "
                    "after each task. Runs the spec in the Brian2 reference and, on the same "
                    "task order and seed, its twins (hidden layer frozen; no neuromodulation at "
                    "all: NACA replaced by SBP, readout ungated), a numpy MLP with SGD and with "
                    "EWC (lambda "
                    "chosen on the validation split) and a frozen random hidden layer with a "
                    "nearest-class-mean readout; with --methods ...,snn_chip also the spec "
                    "learning in Loihi fixed point on the emulator (bit-exact to Lava), which "
                    "adds the learning phase's op counts and energy on the Loihi profiles. "
                    "Writes OUT/continual.json, OUT/continual.md, OUT/accuracy_matrix.png "
                    "(final mean accuracy, the accuracy matrix, backward transfer, forgetting, "
                    "epochs per task) and each spiking network as trained, OUT/networks/NAME/ "
                    "(convert/deploy it, or `spikeport run` the fixed-point one).",
        epilog="Example: spikeport continual mnist_naca --tasks 1 -o runs/cil (one class per "
               "task); --tasks 2 for two classes per task; --tasks 0,1/2,3/... for your own "
               "order.")
    p.add_argument("spec", help="network spec (YAML), zoo name (digits_naca, mnist_naca, ...) "
                                "or a trained artefact")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--tasks", default="1", metavar="K|SCHEDULE",
                   help="K classes per task in a seeded random order (default 1), or an "
                        "explicit schedule like 3,7/1,9/0,2 (tasks split by '/')")
    p.add_argument("--methods", default="snn,snn_frozen,snn_sbp,mlp_sgd,mlp_ewc,ncm",
                   help="comma-separated subset of snn, snn_frozen, snn_sbp, snn_chip, "
                        "mlp_sgd, mlp_ewc, ncm (default: all but snn_chip)")
    _add_data_args(p, default_split=None)
    p.add_argument("--epochs", type=_positive_int, default=1,
                   help="maximum epochs per task (default: 1)")
    p.add_argument("--early-stop", type=float, default=None, metavar="ACC",
                   help="stop a task's training once its validation accuracy reaches ACC in "
                        "(0, 1] (checked after each epoch; default: off)")
    p.add_argument("--train-per-class", type=_positive_int, default=None, metavar="N",
                   help="use at most N training samples of each class (default: all)")
    p.add_argument("--val-per-class", type=_positive_int, default=None, metavar="N",
                   help="validation samples per class for early stopping and EWC's lambda")
    p.add_argument("--test-per-class", type=_positive_int, default=None, metavar="N",
                   help="test samples per class (default: all)")
    p.add_argument("--seed", type=int, default=None,
                   help="replace the spec's seed (task order, initial weights, input spikes, "
                        "baselines)")
    p.add_argument("--ewc-lambda", type=float, default=None, metavar="LAMBDA",
                   help="use this EWC lambda instead of choosing it on the validation split")
    p.add_argument("--twin-init", type=_float_pair, default=None, metavar="LOW,HIGH",
                   help="uniform initial weights of the twins' hidden projection (default: the "
                        "spec's; a NACA spec may start near zero, where a frozen or SBP hidden "
                        "layer would stay silent)")
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation (default: auto = cython when a compiler works)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_cmd_continual)

    # [parsers: continual (issue 8)]
    p = sub.add_parser(
        "sweep", help="run a parameter sweep (spec fields × seeds) on a process pool or Dask",
        description="Plan the jobs of a sweep file (a base spec, a grid or list of points over "
                    "spec fields, seeds, backend brian2/lava/emulator, dataset, epochs, "
                    "metrics) and run those not finished in the results folder: each job's "
                    "result is written atomically to DIR/points/<hash of its config>.json, so "
                    "a rerun resumes a killed sweep, and a failed job records its error "
                    "without stopping the others. Runs on a local process pool, or on Dask "
                    "with --scheduler/--cluster.",
        epilog="See examples/sweep_digits.yaml. Then: spikeport sweep-report DIR.")
    p.add_argument("file", metavar="FILE", help="sweep file (YAML, schema spikeport-sweep/1)")
    p.add_argument("-o", "--out", default=None, metavar="DIR",
                   help="results folder (default: the sweep file's 'out', else "
                        "runs/sweeps/NAME)")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="local pool size (default: CPU count, at most the jobs to run)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on a Dask distributed scheduler, e.g. tcp://host:8786 "
                            "(workers need spikeport installed; each worker thread runs one job "
                            "at a time in a child process)")
    where.add_argument("--cluster", default=None, metavar="SPEC",
                       help="start a Dask cluster from a YAML file: kind (local, slurm, pbs, "
                            "sge, lsf, htcondor, moab, oar; batch kinds need dask-jobqueue), "
                            "jobs, options")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="run only jobs whose index is K modulo N (split a sweep across "
                        "independent invocations)")
    p.add_argument("--skip-failed", action="store_true",
                   help="do not retry jobs that failed in an earlier run (default: retry)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the jobs and whether each is finished; run nothing")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser(
        "sweep-report", help="table and heatmap of a sweep's results, seeds pooled",
        description="Pool the seeds of each point of a sweep results folder (mean ± sample "
                    "standard deviation; energy ranges end by end) and write DIR/report.md, "
                    "DIR/report.json and a heatmap PNG over two parameters, one panel per "
                    "metric (default: validation accuracy and, if measured, learning energy).")
    p.add_argument("dir", metavar="DIR", help="results folder written by 'spikeport sweep'")
    p.add_argument("--x", default=None, metavar="PARAM",
                   help="parameter on the heatmap's x axis (default: the first that varies)")
    p.add_argument("--y", default=None, metavar="PARAM",
                   help="parameter on the y axis (default: the next that varies)")
    p.add_argument("--metric", action="append", default=None, metavar="NAME",
                   help="metric to plot, repeatable (e.g. val_accuracy, test_accuracy, "
                        "learning_energy_loihi2_J)")
    p.add_argument("--where", action="append", default=None, metavar="PARAM=VALUE",
                   help="fix a parameter that is not on an axis, repeatable")
    p.add_argument("--png", default=None, metavar="FILE",
                   help="heatmap path (default: DIR/heatmap.png)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_sweep_report)

    # [parsers: sweep (issue 10)]

    p = sub.add_parser("validate", help="check a spec file and print it with every default",
                       description="Load a spec, run every check, print the normalised YAML.")
    p.add_argument("spec")
    p.set_defaults(func=_cmd_validate)
    return parser


def _cmd_simulate(args) -> int:
    from spikeport.pipeline import format_summary, run_simulate

    summary = run_simulate(args.spec, dataset=args.dataset, data_dir=args.data_dir,
                           samples=args.samples, split=args.split, out=args.out,
                           target=args.target, progress=not args.no_progress,
                           spikes_file=args.spikes)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def _cmd_train(args) -> int:
    if args.backend == "emulator":
        from spikeport.emulator.train import train_fixed

        if args.eta_decay is not None:
            raise DataError(f"--eta-decay {args.eta_decay} is for the Brian2 backend; the "
                            "fixed-point rates are set once, at conversion")

        metrics = train_fixed(args.spec, args.out, dataset=args.dataset,
                              data_dir=args.data_dir, epochs=args.epochs,
                              train_samples=args.train_samples, eval_samples=args.eval_samples,
                              progress=not args.no_progress, resume=not args.restart)
    else:
        from spikeport.models.trainer import train

        metrics = train(args.spec, args.out, dataset=args.dataset, data_dir=args.data_dir,
                        epochs=args.epochs, train_samples=args.train_samples,
                        eta_decay=args.eta_decay,
                        eval_samples=args.eval_samples, target=args.target,
                        progress=not args.no_progress, resume=not args.restart)
    print("| epoch | val accuracy | test accuracy | train samples/s |")
    print("|---:|---:|---:|---:|")
    for row in metrics["epochs"]:
        rate = row.get("train_samples_per_s")
        print(f"| {row['epoch']} | {100 * row['val_accuracy']:.1f}% | "
              f"{100 * row['test_accuracy']:.1f}% | {'' if rate is None else f'{rate:.0f}'} |")
    print(f"{'run directory' if args.backend == 'emulator' else 'artefact'}: {args.out}")
    return 0


def _cmd_evaluate(args) -> int:
    from spikeport.models.trainer import evaluate

    res = evaluate(args.artefact, dataset=args.dataset, data_dir=args.data_dir,
                   split=args.split, samples=args.samples, target=args.target,
                   progress=not args.no_progress)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{res['artefact']}: {100 * res['accuracy']:.1f}% on {res['samples']} samples of "
              f"{res['dataset']} ({res['split']})")
    return 0


def _cmd_convert(args) -> int:
    from spikeport.converters.quantize import QuantizeOptions, format_report
    from spikeport.deploy import convert

    report = convert(args.source, args.out, QuantizeOptions(sbp_epoch=args.sbp_epoch))
    print(format_report(report))
    print(f"\nfixed-point network: {args.out}/fixed")
    return 0


def _cmd_run(args) -> int:
    from spikeport.deploy import run_fixed

    summary = run_fixed(args.out, learn=args.learn, samples=args.samples,
                        dataset=args.dataset, data_dir=args.data_dir, split=args.split,
                        use_learned=args.learned, timeout=args.timeout, backend=args.backend,
                        progress=not args.no_progress)
    summary.pop("_result", None)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    acc = summary.get("accuracy", summary.get("accuracy_while_learning"))
    where = "Lava" if args.backend == "lava" else "the emulator"
    print(f"{summary['network']} on {where} ({summary['mode']}): {summary['samples']} samples of "
          f"{summary['dataset']} ({summary['split']}), {summary['steps_per_s']:.0f} steps/s")
    if acc is not None:
        label = "accuracy" if summary["mode"] == "infer" else "accuracy while learning"
        print(f"{label}: {100 * acc:.1f}%")
    for pop, rate in summary["rates_hz"].items():
        print(f"  {pop}: {rate:.1f} Hz")
    if "learned_network" in summary:
        print(f"learned network: {summary['learned_network']} (run it with --learned)")
    return 0


def _cmd_deploy(args) -> int:
    from spikeport.deploy import deploy, format_deploy

    summary = deploy(args.source, args.out, epochs=args.epochs, samples=args.samples,
                     dataset=args.dataset, data_dir=args.data_dir, target=args.target,
                     progress=not args.no_progress, timeout=args.timeout)
    print(format_deploy(summary))
    print(f"\neverything is in {args.out}")
    return 0


def _cmd_energy(args) -> int:
    from spikeport.hw_profiles.energy import format_energy, write_energy

    report = write_energy(args.out, profiles=tuple(args.profile or ("loihi1", "loihi2")),
                          baselines=not args.no_baselines, threshold=args.threshold,
                          data_dir=args.data_dir, backend=args.backend)
    print(json.dumps(report, indent=2) if args.json else format_energy(report))
    if not args.json:
        print(f"\nwritten: {', '.join(report['files'].values())}")
    return 0


def _cmd_map(args) -> int:
    from spikeport.hw_profiles.mapping import (
        format_mapping,
        format_readiness,
        hardware_readiness,
        map_network,
    )

    learn = not args.infer_only
    print(format_readiness(hardware_readiness(args.source, args.profile, learn=learn),
                           profile=args.profile))
    print()
    print(format_mapping(map_network(args.source, args.profile, learn=learn)))
    return 0


def _cmd_demo(args) -> int:
    from spikeport.pipeline import demo

    print(demo(args.spec, args.out))
    return 0


def _cmd_validate(args) -> int:
    from spikeport.models.spec import dump_spec, load_spec

    print(dump_spec(load_spec(args.spec)), end="")
    return 0


def _cmd_compare(args) -> int:
    from spikeport.analysis.compare import format_compare, run_compare

    report = run_compare(
        args.source, args.out, samples=args.samples, learn_samples=args.learn_samples,
        learn=not args.no_learn, backend=args.backend, target=args.target,
        dataset=args.dataset, data_dir=args.data_dir, tau_vr_ms=args.tau_vr,
        penalty=args.penalty, checkpoints=args.checkpoints, raster_sample=args.raster_sample,
        sbp_epoch=args.sbp_epoch, sweep_bits=args.sweep_bits, sweep_impulse=args.sweep_impulse,
        sweep_t_epoch=args.sweep_t_epoch, fail_under=args.fail_under,
        fail_over=args.fail_over, timeout=args.timeout, progress=not args.no_progress)
    print(json.dumps(report, indent=2) if args.json else format_compare(report))
    if not args.json:
        print(f"\nreport: {args.out}/compare.md (+ compare.json, PNGs)")
    for gate in report["gates"]:
        if not gate["passed"]:
            print(f"spikeport: gate failed: {gate['gate']} ({gate['metric']} = "
                  f"{gate['value']})", file=sys.stderr)
    return 0 if report["passed"] else 1


# [commands: compare (issue 5)]

def _cmd_import_nir(args) -> int:
    from spikeport.converters.nir_io import format_import, import_nir_to

    report = import_nir_to(args.nir_file, args.out, dt=args.dt,
                           discretisation=args.discretisation, reset=args.reset,
                           spec_dt=args.spec_dt, extras=args.rules, name=args.name,
                           sample_steps=args.sample_steps, readout_classes=args.classes,
                           readout_population=args.readout)
    print(json.dumps(report, indent=2) if args.json else format_import(report))
    return 0


def _cmd_export_nir(args) -> int:
    from spikeport.converters.nir_io import export_nir_to, format_export

    summary = export_nir_to(args.source, args.out, discretisation=args.discretisation)
    print(json.dumps(summary, indent=2) if args.json else format_export(summary))
    for warning in summary["warnings"]:
        print(f"spikeport: warning: {warning}", file=sys.stderr)
    return 0


# [commands: nir (issue 9)]

def _float_pair(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not two numbers LOW,HIGH") from None
    return low, high


def _cmd_continual(args) -> int:
    from spikeport.continual.experiment import run_continual
    from spikeport.continual.report import format_table

    result = run_continual(args.spec, out=args.out, tasks=args.tasks, methods=args.methods,
                           dataset=args.dataset, data_dir=args.data_dir, max_epochs=args.epochs,
                           early_stop=args.early_stop, train_per_class=args.train_per_class,
                           val_per_class=args.val_per_class,
                           test_per_class=args.test_per_class, seed=args.seed,
                           ewc_lambda=args.ewc_lambda, target=args.target,
                           twin_init=args.twin_init,
                           progress=not args.no_progress)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['network']} on {result['dataset']}, tasks "
          + " → ".join("+".join(str(c) for c in t) for t in result["tasks"]))
    print(format_table(result["methods"]))
    print(f"\nwritten: {args.out}/continual.json, continual.md, accuracy_matrix.png, "
          "networks/")
    return 0


# [commands: continual (issue 8)]

def _cmd_sweep(args) -> int:
    from spikeport.sweep import format_run, run_sweep

    summary = run_sweep(args.file, out=args.out, workers=args.workers,
                        scheduler=args.scheduler, cluster=args.cluster, shard=args.shard,
                        skip_failed=args.skip_failed, progress=not args.no_progress,
                        dry_run=args.dry_run)
    print(json.dumps(summary, indent=2) if args.json else format_run(summary))
    return 0


def _cmd_sweep_report(args) -> int:
    from spikeport.sweep import format_report, sweep_report

    report = sweep_report(args.dir, x=args.x, y=args.y, metrics=args.metric,
                          where=args.where, png=args.png)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


# [commands: sweep (issue 10)]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): not an error of ours; silence the final flush
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except SpikeportError as exc:
        print(f"spikeport: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("spikeport: interrupted", file=sys.stderr)
        return 130
    except Exception:
        # a bug in spikeport: keep Python's traceback (Brian2's import replaces the hook with
        # one that asks users to report spikeport's bugs to Brian2)
        sys.excepthook = sys.__excepthook__
        raise


if __name__ == "__main__":
    sys.exit(main())
