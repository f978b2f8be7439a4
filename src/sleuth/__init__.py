"""sleuth: a debugging toolkit for Python whose engine is written in C.

The debugger is a drop-in for pdb: ``sleuth.set_trace()``, ``sleuth.post_mortem()``,
``sleuth.pm()``, ``sleuth.run()``, ``sleuth.Pdb``, and ``breakpoint()`` with
``PYTHONBREAKPOINT=sleuth.set_trace``.
"""
from sleuth._sleuth import (
    Breakpoint,
    Pdb,
    Restart,
    __version__,
    _post_mortem,
    listen,
    pm,
    post_mortem,
    run,
    runcall,
    runctx,
    runeval,
    set_trace,
    wait_for_client,
)

__all__ = [
    "BdbQuit", "Breakpoint", "Pdb", "Restart", "__version__",
    "listen", "pm", "post_mortem", "run", "runcall", "runctx", "runeval", "set_trace", "wait_for_client",
]


def __getattr__(name):
    # BdbQuit is bdb.BdbQuit; bdb (with re and inspect) is imported only when
    # it is asked for or a debugger is made, not by `import sleuth`.
    if name == "BdbQuit":
        from sleuth._sleuth import BdbQuit
        return BdbQuit
    raise AttributeError(f"module 'sleuth' has no attribute {name!r}")
