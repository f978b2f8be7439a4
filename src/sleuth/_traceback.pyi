from collections.abc import Iterable
from types import TracebackType
from typing import Any, TextIO

DEFAULT_REDACT: tuple[str, ...]

# sleuth.traceback's format_exception, print_exception, format_exc, print_exc
# and format_tb present themselves as the standard library's functions:
# __module__ 'traceback', and inspect.signature() at run time is the standard
# library's of the running version. They also accept sleuth's keyword-only
# options, written out below (and in each docstring, which help() shows):
#   locals: bool = False        add "    name = value" lines under each frame
#   max_length: int = 200       characters per value
#   max_items: int = 25         container items shown
#   max_depth: int = 4          nesting levels shown
#   repr_timeout: float = 0.1   seconds of user __repr__ code per value
#   total_repr_timeout: float = 2.0  seconds of user __repr__ code per call
#   redact: Iterable[str] | None = None        replaces DEFAULT_REDACT
#   redact_extra: Iterable[str] | None = None  added to the patterns
#   redact_names / redact_patterns / redact_values: Iterable[str] | None = None
#       names (whole words), regular expressions, literal values to hide too
# On 3.13, format_exception and print_exception also take the standard
# library's **kwargs (colorize).

def format_exception(exc: BaseException | type[BaseException] | None, /, value: BaseException | None = ...,
                     tb: TracebackType | None = ..., limit: int | None = None, chain: bool = True,
                     *, locals: bool = False, max_length: int = 200, max_items: int = 25,
                     max_depth: int = 4, repr_timeout: float = 0.1,
                     total_repr_timeout: float = 2.0,
                     redact: Iterable[str] | None = None,
                     redact_extra: Iterable[str] | None = None,
                     redact_names: Iterable[str] | None = None,
                     redact_patterns: Iterable[str] | None = None,
                     redact_values: Iterable[str] | None = None, **kwargs: Any) -> list[str]: ...
def print_exception(exc: BaseException | type[BaseException] | None, /, value: BaseException | None = ...,
                    tb: TracebackType | None = ..., limit: int | None = None,
                    file: TextIO | None = None, chain: bool = True,
                    *, locals: bool = False, max_length: int = 200, max_items: int = 25,
                    max_depth: int = 4, repr_timeout: float = 0.1,
                    total_repr_timeout: float = 2.0,
                    redact: Iterable[str] | None = None,
                    redact_extra: Iterable[str] | None = None,
                    redact_names: Iterable[str] | None = None,
                    redact_patterns: Iterable[str] | None = None,
                    redact_values: Iterable[str] | None = None, **kwargs: Any) -> None: ...
def format_exc(limit: int | None = None, chain: bool = True,
               *, locals: bool = False, max_length: int = 200, max_items: int = 25,
               max_depth: int = 4, repr_timeout: float = 0.1,
               total_repr_timeout: float = 2.0,
               redact: Iterable[str] | None = None,
               redact_extra: Iterable[str] | None = None,
               redact_names: Iterable[str] | None = None,
               redact_patterns: Iterable[str] | None = None,
               redact_values: Iterable[str] | None = None) -> str: ...
def print_exc(limit: int | None = None, file: TextIO | None = None, chain: bool = True,
              *, locals: bool = False, max_length: int = 200, max_items: int = 25,
              max_depth: int = 4, repr_timeout: float = 0.1,
              total_repr_timeout: float = 2.0,
              redact: Iterable[str] | None = None,
              redact_extra: Iterable[str] | None = None,
              redact_names: Iterable[str] | None = None,
              redact_patterns: Iterable[str] | None = None,
              redact_values: Iterable[str] | None = None) -> None: ...
def format_tb(tb: TracebackType | None, limit: int | None = None,
              *, locals: bool = False, max_length: int = 200, max_items: int = 25,
              max_depth: int = 4, repr_timeout: float = 0.1,
              total_repr_timeout: float = 2.0,
              redact: Iterable[str] | None = None,
              redact_extra: Iterable[str] | None = None,
              redact_names: Iterable[str] | None = None,
              redact_patterns: Iterable[str] | None = None,
              redact_values: Iterable[str] | None = None) -> list[str]: ...
def safe_repr(obj: object, /, *, name: str | None = None, max_length: int = 200,
              max_items: int = 25, max_depth: int = 4, repr_timeout: float = 0.1,
              redact: Iterable[str] | None = None,
              redact_extra: Iterable[str] | None = None) -> str: ...
def redaction_patterns(redact: Iterable[str] | None = None,
                       redact_extra: Iterable[str] | None = None) -> tuple[str, ...]: ...
