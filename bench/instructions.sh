#!/bin/bash
# Instructions (callgrind) per unit of work, sleuth over plain: repeatable on
# a shared machine, where CPU times are not. Two sizes of each workload are
# run so that interpreter and debugger start-up cancel out.
#
#   bench/instructions.sh PYTHON WORKLOAD same|other|cond
#
#   same   a breakpoint on a line of the workload's own file that never runs
#   other  the same in another file
#   cond   fib only: `b FIB_BODY_LINE, n == -1` (a false condition, hot line;
#          COND=EXPR for another condition)
#
# DBG=pdb measures pdb instead of sleuth. PYTHONHASHSEED is fixed: with
# random string hashes, dict layouts change start-up work from run to run and
# the two sizes no longer cancel it (3.12 fib moved 1.01x-1.05x).
set -e
DBG=${DBG:-sleuth}
PY=${1:?python}; W=${2:?workload}; C=${3:?same, other or cond}
case $PY in */*) PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY") ;; esac
cd "$(dirname "$0")"
line() { grep -n "$1" "$2" | cut -d: -f1; }
case $C in
  same)  BP="b workloads.py:$(line '# NEVER_LINE' workloads.py)" ;;
  other) BP="b bench_other.py:$(line '# OTHER_LINE' bench_other.py)" ;;
  cond)  BP="b workloads.py:$(line '# FIB_BODY_LINE' workloads.py), ${COND:-n == -1}" ;;
esac
case $W in fib) A=-12; B=-9 ;; *) A=-1; B=0 ;; esac
count() {
  PYTHONHASHSEED=0 PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH} valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
pa=$(count "$PY" workloads.py "$W" $A); pb=$(count "$PY" workloads.py "$W" $B)
sa=$(count "$PY" -m "$DBG" -c "$BP" -c c workloads.py "$W" $A)
sb=$(count "$PY" -m "$DBG" -c "$BP" -c c workloads.py "$W" $B)
"$PY" -c "import sys; print('%d.%d $W $C: %.3fx' % (sys.version_info[:2] + (($sb - $sa) / ($pb - $pa),)))"
