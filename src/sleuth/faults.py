"""sleuth.faults: Python and native stacks on fatal signals, a watchdog, on-demand dumps.

A drop-in for faulthandler whose engine is C (sleuth._faults); see docs/faults.md.
"""
from sleuth._faults import (
    cancel_dump_later,
    disable,
    dump,
    dump_later,
    enable,
    is_enabled,
    register,
    unregister,
)

__all__ = [
    "cancel_dump_later",
    "disable",
    "dump",
    "dump_later",
    "enable",
    "is_enabled",
    "register",
    "unregister",
]
