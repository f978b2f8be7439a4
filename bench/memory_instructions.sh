#!/bin/bash
# Instructions (callgrind) per allocation of bench/memory_bench.py's
# workload, traced over plain: repeatable on a shared machine, where CPU
# times are not. Two scales of each run so that start-up cancels out.
# Instructions leave out cache misses, which the tracer's table adds on a
# big heap: read them with the CPU table of memory_bench.py.
#
#   bench/memory_instructions.sh PYTHON MODE [SCALE]
#
# It measures the sleuth that PYTHON imports (PYTHONPATH=src for a build in
# place).
#
#   MODE: a memory_bench.py mode (sleuth-1, sleuth-25, sleuth-sample,
#   tracemalloc-1, tracemalloc-25); SCALE: the smaller scale (200000)
set -e
PY=${1:?python}; M=${2:?mode}; S=${3:-200000}
case $PY in */*) PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY") ;; esac
cd "$(dirname "$0")"
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$PY" memory_bench.py \
    --child "$1" --scale "$2" --workload-only 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
pa=$(count plain "$S"); pb=$(count plain $((2 * S)))
ma=$(count "$M" "$S"); mb=$(count "$M" $((2 * S)))
"$PY" -c "import sys; print('%d.%d $M: %.3fx' % (sys.version_info[:2] + (($mb - $ma) / ($pb - $pa),)))"
