import re
from collections.abc import Iterable, Iterator
from os import PathLike
from typing import Any

FORMAT_VERSION: int

class EvidenceError(ValueError): ...

# Options accepted by install(), capture() and capture_json() (keyword-only):
#   compress: bool = False         gzip the file (.json.gz)
#   locals: bool = True            capture frame locals
#   max_bytes: int = 1_000_000     budget for the whole JSON document
#   max_length: int = 200          characters of repr text per value
#   max_items: int = 25            container items kept
#   max_depth: int = 3             container/attribute levels kept below a local
#   repr_timeout: float = 0.1      seconds of user __repr__ code per value
#   total_repr_timeout: float = 2.0  seconds of user __repr__ code per capture
#   redact / redact_extra          replace / extend the redaction patterns
#   redact_names                   names hidden as whole words (like "pin", "ssn")
#   redact_patterns                regular expressions whose matches (group 1 if any) are hidden
#   redact_values                  literal texts hidden wherever they appear
#   announce: bool = False         print "sleuth: evidence saved to PATH" on stderr

def install(directory: str | PathLike[str], *, threads: bool = True, compress: bool = False,
            locals: bool = True, max_bytes: int = 1_000_000, max_length: int = 200,
            max_items: int = 25, max_depth: int = 3, repr_timeout: float = 0.1,
            redact: Iterable[str] | None = None, redact_extra: Iterable[str] | None = None,
            redact_names: Iterable[str] | None = None,
            redact_patterns: Iterable[str | re.Pattern[str]] | None = None,
            redact_values: Iterable[str] | None = None,
            announce: bool = False) -> None: ...
def uninstall() -> bool: ...
def capture(exc: BaseException | None = None, path: str | PathLike[str] | None = None,
            **options: Any) -> str | None: ...
def capture_json(exc: BaseException | None = None, **options: Any) -> str: ...
def load(path: str | PathLike[str]) -> Evidence: ...
def main(args: list[str], /) -> int: ...
def _autostart() -> bool: ...

class SnapshotCode:
    co_filename: str
    co_name: str
    co_qualname: str
    co_firstlineno: int
    co_argcount: int
    co_posonlyargcount: int
    co_kwonlyargcount: int
    co_flags: int
    co_varnames: tuple[str, ...]
    def co_positions(self) -> Iterator[tuple[int | None, int | None, int | None, int | None]]: ...

class SnapshotFrame:
    f_code: SnapshotCode
    f_lineno: int
    f_lasti: int
    f_locals: dict[str, Any]
    f_globals: dict[str, Any]
    f_builtins: dict[str, Any]
    f_back: SnapshotFrame | None
    f_trace: None
    locals_omitted: int

class SnapshotTraceback:
    tb_frame: SnapshotFrame
    tb_lineno: int
    tb_lasti: int
    tb_next: SnapshotTraceback | None
    positions: tuple[int | None, int | None, int | None, int | None]

class SnapshotException:
    __traceback__: SnapshotTraceback | None
    __cause__: SnapshotException | None
    __context__: SnapshotException | None
    __suppress_context__: bool
    __notes__: list[str]
    exceptions: tuple[SnapshotException, ...]
    args: tuple[str]
    type_name: str
    module: str | None

class SnapshotValue:
    __sleuth_type__: str
    __sleuth_repr__: str
    __sleuth_len__: int
    def __sleuth_items__(self) -> list[tuple[Any, Any]]: ...
    def __getitem__(self, key: Any) -> Any: ...
    def __getattr__(self, name: str) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __contains__(self, key: Any) -> bool: ...
    def __bool__(self) -> bool: ...

class Evidence:
    path: str
    version: int
    reason: str | None
    created: str | None
    exception: SnapshotException | None
    traceback: SnapshotTraceback | None
    exceptions: list[SnapshotException]
    frames: list[SnapshotFrame]
    stack: list[SnapshotFrame]
    threads: list[dict[str, Any]]
    thread: dict[str, Any]
    environment: dict[str, Any]
    sources: dict[str, list[list[Any]]]
    limits: dict[str, int]
    truncated: bool
    redactions: dict[str, Any] | None
    def register_sources(self) -> int: ...
    def summary(self) -> str: ...

class ExceptHook:
    previous: Any
    directory: str
    def __call__(self, *args: Any) -> Any: ...
