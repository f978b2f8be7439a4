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

# Public names that only some versions have (3.13: ANSIColors, BUILTIN_EXCEPTION_LIMIT),
# and two private ones that describe what sleuth's output is made of: its text
# comes from the standard library's TracebackException and StackSummary, so
# the cut-off after which a recursive frame reads "[Previous line repeated N
# more times]" and the edit distance behind "Did you mean ...?" (3.12+) are
# the standard library's own.
globals().update({_name: getattr(_stdlib, _name)
                  for _name in ("ANSIColors", "BUILTIN_EXCEPTION_LIMIT", "_RECURSIVE_CUTOFF",
                                "_levenshtein_distance")
                  if hasattr(_stdlib, _name)})

# The standard library's __all__, name for name: sleuth's additions
# (DEFAULT_REDACT, redaction_patterns, safe_repr) are importable by name but
# left out, so that `from sleuth.traceback import *` binds what
# `from traceback import *` binds.
__all__ = [
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
    "walk_stack",
    "walk_tb",
]
