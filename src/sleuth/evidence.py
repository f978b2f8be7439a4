"""Evidence files: keep a failure's state, safely, and debug it later.

``install(directory)`` writes one file per uncaught exception (main thread
and other threads) without changing what the program prints or its exit
status; ``capture()`` writes one on demand; ``load(path)`` reads one back as
frame-like objects; ``sleuth open FILE`` debugs it. The format is JSON
(optionally gzip), versioned and documented in docs/evidence.md.
"""
from sleuth._evidence import (
    FORMAT_VERSION,
    Evidence,
    EvidenceError,
    SnapshotCode,
    SnapshotException,
    SnapshotFrame,
    SnapshotTraceback,
    SnapshotValue,
    _autostart,
    capture,
    capture_json,
    install,
    load,
    main,
    uninstall,
)

__all__ = [
    "FORMAT_VERSION",
    "Evidence",
    "EvidenceError",
    "SnapshotCode",
    "SnapshotException",
    "SnapshotFrame",
    "SnapshotTraceback",
    "SnapshotValue",
    "capture",
    "capture_json",
    "install",
    "load",
    "main",
    "uninstall",
]
