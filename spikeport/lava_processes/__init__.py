"""Lava Processes and fixed-point ProcessModels spikeport adds to stock Lava; they import lava,
nothing outside this package does. :mod:`.graph` builds a fixed network's process graph.

* :mod:`.lif` — ``ThirdFactorLIF``: Loihi LIF + third-factor input, bAP and y2/y3 outputs,
  sample resets, homeostasis.
* :mod:`.dense` — ``ResetDense`` (static) and ``PlasticDense`` (learning engine, learn mask,
  on/off), both resetting their in-flight input at sample boundaries.
* :mod:`.sources` — ``SpikeSource``: replays encoded inputs and the teaching signal.
* :mod:`.relay` — ``SBPRelay``: accumulates M_j, sends y2/y3 at the sample's end.
* :mod:`.run` — ``run_lava`` / ``run_lava_subprocess`` / ``python -m spikeport.lava_processes.run``.
* :mod:`.schedule` — sample schedule and result files (no lava).
* :mod:`.install` — ``python -m spikeport.lava_processes.install``: lava-nc 0.10.0 on Python
  >= 3.11 (no dependency resolution, one-line fix; see its docstring).

Lava is not a declared dependency (its metadata refuses Python >= 3.11): :func:`require_lava`
turns its absence into one line naming the install command.

Lava imports every module of this folder (under a bare name) when it looks for ProcessModels:
keep them import-safe, without scripts or dataclasses.
"""

import multiprocessing as _mp
import sys as _sys

_LAVA_MP = "lava.magma.runtime.message_infrastructure.multiprocessing"


def require_lava() -> None:
    """Raise a one-line :class:`~spikeport.errors.BackendError` when Lava is not installed."""
    from spikeport.errors import BackendError
    from spikeport.lava_processes.install import INSTALL_COMMAND, lava_spec

    if lava_spec() is None:
        raise BackendError("the Lava backend is not installed (lava-nc 0.10.0 is not a "
                           f"dependency of spikeport): install it with `{INSTALL_COMMAND}` "
                           "(or `make lava`), or use --backend emulator (bit-exact, default)")


def prepare_lava_import() -> None:
    """Let Lava be imported after something else fixed the multiprocessing context.

    Lava 0.10 calls ``multiprocessing.set_start_method('fork')`` when it is imported, which
    raises once anything in the process has fixed the context (a tqdm progress bar does: it
    creates a multiprocessing lock). If the fixed context is ``fork`` anyway, it is released so
    that Lava's call sets the same method again; any other method is left alone (Lava needs
    fork and will say so).

    Also checks that Lava is installed (:func:`require_lava`) and installs the import hook that
    applies the Python >= 3.11 fix in memory if the file on disk is unfixed."""
    require_lava()
    from spikeport.lava_processes.install import install_import_hook

    install_import_hook()
    if _LAVA_MP in _sys.modules:
        return
    ctx = _mp.context._default_context
    actual = getattr(ctx, "_actual_context", None)
    if actual is not None and actual.get_start_method() == "fork":
        ctx._actual_context = None
