"""sleuth.faults: Python and native stacks on fatal signals, a watchdog, on-demand dumps.

A drop-in for faulthandler whose engine is C (sleuth._faults); see docs/faults.md.
"""
from sleuth._faults import (
    cancel_dump_later,
    cancel_dump_traceback_later,
    disable,
    dump,
    dump_c_stack,
    dump_later,
    dump_traceback,
    dump_traceback_later,
    enable,
    is_enabled,
    register,
    unregister,
)
from sleuth._faults import _read_null, _sigabrt, _sigfpe, _sigsegv  # noqa: F401 (test helpers)

__all__ = [
    "cancel_dump_later",
    "cancel_dump_traceback_later",
    "disable",
    "dump",
    "dump_c_stack",
    "dump_later",
    "dump_traceback",
    "dump_traceback_later",
    "enable",
    "is_enabled",
    "register",
    "unregister",
]
