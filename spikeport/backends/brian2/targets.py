"""Brian2's code-generation targets: which one ``auto`` means here (Cython when it compiles)."""

from __future__ import annotations


def cython_available() -> bool:
    """Whether Brian2 can compile Cython code here (a compiler and Cython present)."""
    from spikeport.backends.brian2.sim import import_brian2

    import_brian2()
    try:
        from brian2.codegen.runtime.cython_rt import CythonCodeObject
        return bool(CythonCodeObject.is_available())
    except Exception:  # brian2 reports unavailability by raising from deep inside
        return False


def resolve_target(target: str) -> str:
    if target == "auto":
        return "cython" if cython_available() else "numpy"
    return target
