"""sleuth.memory: a tracemalloc-compatible memory allocation tracer (engine in C).

Same API as tracemalloc, plus ``start(sample=BYTES, seed=N)`` for Poisson
sampling. See docs/memory.md.
"""
from sleuth._memory import (
    BaseFilter,
    DomainFilter,
    Filter,
    Frame,
    Snapshot,
    Statistic,
    StatisticDiff,
    Trace,
    Traceback,
    clear_traces,
    get_object_traceback,
    get_sample,
    get_traceback_limit,
    get_traced_memory,
    get_tracemalloc_memory,
    is_tracing,
    reset_peak,
    start,
    stop,
    take_snapshot,
)

__all__ = [
    "BaseFilter", "DomainFilter", "Filter", "Frame", "Snapshot", "Statistic", "StatisticDiff", "Trace",
    "Traceback", "clear_traces", "get_object_traceback", "get_sample", "get_traceback_limit",
    "get_traced_memory", "get_tracemalloc_memory", "is_tracing", "reset_peak", "start", "stop",
    "take_snapshot",
]
