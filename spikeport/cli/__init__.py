"""Command line: argument parsing only; every command calls one library function and formats
its result. One module per command group — :mod:`.simulate`, :mod:`.train`, :mod:`.deploy`,
:mod:`.energy`, :mod:`.compare`, :mod:`.nir`, :mod:`.continual`, :mod:`.sweep`, :mod:`.doctor` —
and :mod:`.options` for what they share.

User errors (bad spec, bad data file, unsupported feature) print one line and exit 2;
Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading

from spikeport import __version__
from spikeport.cli import (
    compare,
    continual,
    deploy,
    doctor,
    energy,
    interop,
    nir,
    simulate,
    sweep,
    train,
)
from spikeport.errors import SpikeportError

#: the commands, in the order ``spikeport --help`` lists them
COMMANDS = (simulate.add_simulate, train.add_train, train.add_evaluate, deploy.add_convert,
            deploy.add_run, deploy.add_deploy, energy.add_energy, energy.add_map,
            deploy.add_demo, compare.add_compare, nir.add_import_nir, nir.add_export_nir,
            interop.add_export_netx, interop.add_report,
            continual.add_continual, sweep.add_sweep, sweep.add_sweep_report,
            doctor.add_validate, doctor.add_doctor)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikeport",
        description="Define a plastic spiking network once, simulate and train it in Brian2, "
                    "run it in Lava fixed point, and report drift and learning cost.",
        epilog="Run 'spikeport COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"spikeport {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


#: commands whose ``-o`` names a file (the others name a folder)
FILE_OUTPUTS = ("export-nir",)
#: operating-system errors a user's paths or disk cause (a full disk, a file where a folder is
#: expected, no permission): one line, exit 2, like every other user error
USER_OS_ERRORS = {errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ENOSPC, errno.EACCES,
                  errno.EPERM, errno.EROFS, errno.EDQUOT, errno.ENAMETOOLONG, errno.ELOOP,
                  errno.ENOENT, errno.EFBIG, errno.EMFILE}


def _check_output(args) -> None:
    from spikeport.io import check_output_dir, check_output_file

    out = getattr(args, "out", None)
    if out is None:
        return
    if args.command in FILE_OUTPUTS:
        check_output_file(out)
    else:
        check_output_dir(out)


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    old_term = None
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        # `kill PID` unwinds like Ctrl-C: finally blocks stop pool workers and Lava children,
        # and an interrupted command's folder keeps its "incomplete" mark
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(args)
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _main(args) -> int:
    try:
        _check_output(args)
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): not an error of ours; silence the final flush
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except SpikeportError as exc:
        print(f"spikeport: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except MemoryError:
        print("spikeport: error: out of memory (the network, data or batch is larger than "
              "this machine's memory; use fewer samples or smaller populations)",
              file=sys.stderr)
        return SpikeportError.exit_code
    except OSError as exc:
        if exc.errno not in USER_OS_ERRORS:
            sys.excepthook = sys.__excepthook__
            raise
        name = exc.filename if exc.filename is not None else ""
        print(f"spikeport: error: {name}{': ' if name else ''}{exc.strerror or exc}",
              file=sys.stderr)
        return SpikeportError.exit_code
    except KeyboardInterrupt:
        print("spikeport: interrupted", file=sys.stderr)
        return 130
    except Exception:
        # a bug in spikeport: keep Python's traceback (Brian2's import replaces the hook with
        # one that asks users to report spikeport's bugs to Brian2)
        sys.excepthook = sys.__excepthook__
        raise




