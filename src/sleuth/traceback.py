"""Standard-library tracebacks, optionally with safe, redacted locals.

Without sleuth's keyword options every function returns exactly what the
standard library's function of the same name returns. ``locals=True`` adds
one ``    name = value`` line per local variable under each frame (see
docs/traceback.md). Every public name of the standard library's traceback
module is here, so ``import sleuth.traceback as traceback`` works: where
sleuth adds nothing, the name is the standard library's own object.
"""
import traceback as _stdlib
from traceback import (  # the standard library's own: sleuth adds nothing to these
    FrameSummary,
    StackSummary,
    TracebackException,
    clear_frames,
    extract_stack,
    extract_tb,
    format_exception_only,
    format_list,
    format_stack,
    print_last,
    print_list,
    print_stack,
    print_tb,
    walk_stack,
    walk_tb,
)

from sleuth._traceback import (
    DEFAULT_REDACT,
    format_exc,
    format_exception,
    format_tb,
    print_exc,
    print_exception,
    redaction_patterns,
    safe_repr,
)

# Public names that only some versions have (3.13: ANSIColors, BUILTIN_EXCEPTION_LIMIT).
globals().update({_name: getattr(_stdlib, _name)
                  for _name in ("ANSIColors", "BUILTIN_EXCEPTION_LIMIT") if hasattr(_stdlib, _name)})

__all__ = [
    "DEFAULT_REDACT",
    "FrameSummary",
    "StackSummary",
    "TracebackException",
    "clear_frames",
    "extract_stack",
    "extract_tb",
    "format_exc",
    "format_exception",
    "format_exception_only",
    "format_list",
    "format_stack",
    "format_tb",
    "print_exc",
    "print_exception",
    "print_last",
    "print_stack",
    "print_tb",
    "redaction_patterns",
    "safe_repr",
    "walk_stack",
    "walk_tb",
]
