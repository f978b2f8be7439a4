"""Standard-library tracebacks, optionally with safe, redacted locals.

Without sleuth's keyword options every function returns exactly what the
standard library's function of the same name returns. ``locals=True`` adds
one ``    name = value`` line per local variable under each frame (see
docs/traceback.md).
"""
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

__all__ = [
    "DEFAULT_REDACT",
    "format_exc",
    "format_exception",
    "format_tb",
    "print_exc",
    "print_exception",
    "redaction_patterns",
    "safe_repr",
]
