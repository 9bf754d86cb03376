"""`spikeport sweep` and `sweep-report`: parameter grids, resumable, and their tables."""

from __future__ import annotations

import json

from spikeport.cli.options import positive_int


def add_sweep(sub) -> None:
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
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
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


def add_sweep_report(sub) -> None:
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
