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

# faulthandler's other crash helpers, where sleuth adds nothing: the standard
# library's own (they only make a crash happen; sleuth's handler reports it).
# Importing faulthandler does not enable it.
import faulthandler as _stdlib
globals().update({_name: getattr(_stdlib, _name)
                  for _name in ("_stack_overflow", "_fatal_error_c_thread") if hasattr(_stdlib, _name)})

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
