#!/usr/bin/env bash
# Instructions per 50-op chain of tools/tiny_chain.py for the ember source tree SRC (default: this checkout):
# callgrind counts a run with 0 and with N repetitions; the difference / N is one chain's cost.
# Usage: tools/count_instructions.sh nograd|fwdbwd [SRC]      (needs valgrind)
set -euo pipefail
mode=$1
here=$(cd "$(dirname "$0")/.." && pwd)
src=${2:-$here}
py=${PYTHON:-$here/.venv/bin/python}
n=400
"$py" -m compileall -q "$src/src/ember" >/dev/null
count() {
    PYTHONHASHSEED=0 PYTHONPATH="$src/src" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$py" "$here/tools/tiny_chain.py" "$mode" "$1" 2>&1 | grep -o "Collected : [0-9]*" | grep -o "[0-9]*"
}
a=$(count 0)
b=$(count $n)
echo "$src $mode: $(( (b - a) / n )) instructions per chain"
