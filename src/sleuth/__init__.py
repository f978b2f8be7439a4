"""sleuth: a debugging toolkit for Python whose engine is written in C.

The debugger is a drop-in for pdb: ``sleuth.set_trace()``, ``sleuth.post_mortem()``,
``sleuth.pm()``, ``sleuth.run()``, ``sleuth.Pdb``, and ``breakpoint()`` with
``PYTHONBREAKPOINT=sleuth.set_trace``.
"""
from sleuth._sleuth import (
    BdbQuit,
    Breakpoint,
    Pdb,
    Restart,
    __version__,
    _post_mortem,
    pm,
    post_mortem,
    run,
    runcall,
    runctx,
    runeval,
    set_trace,
)

__all__ = [
    "BdbQuit", "Breakpoint", "Pdb", "Restart", "__version__",
    "pm", "post_mortem", "run", "runcall", "runctx", "runeval", "set_trace",
]
