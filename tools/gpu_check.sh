#!/usr/bin/env bash
# The whole GPU verification of issue 12 in one command, for the lent GPU machine (H200: CUDA 13, CuPy 14.2,
# PyTorch 2.11+cu130, no internet): the GPU bench (ember vs PyTorch CUDA), then `make test-cuda`.
# Results go to $OUT (bench_gpu.txt/.json, test_cuda.txt, env.txt).  Budget: under 8 minutes in all.
#   OUT=/some/dir bash tools/gpu_check.sh
# Test tools missing there (pytest, xdist) can travel in .gpu_deps/ (made here by tools/gpu_deps.sh); they are
# appended to the path, so the machine's own packages win.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
PY=${CUDA_PYTHON:-python3}
if [ -d .gpu_deps ]; then export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD/.gpu_deps"; fi
{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    $PY -c "import sys, numpy, cupy, torch; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', \
cupy.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
    $PY -c "import pytest; print('pytest', pytest.__version__)"
    $PY -c "import xdist; print('xdist yes')"
    PYTHONPATH=src $PY -c "import ember; print('ember.cuda.is_available()', ember.cuda.is_available())"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

echo "== bench (ember vs torch, same GPU) =="
timeout -s INT 210 env PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} $PY -m bench.gpu --out "$OUT/bench_gpu.json" \
    2>&1 | tee "$OUT/bench_gpu.txt"

echo "== make test-cuda =="
XDIST=""
if $PY -c "import xdist" 2>/dev/null; then XDIST="-n 8"; fi
if command -v make >/dev/null; then
    timeout -s INT 240 make -s test-cuda CUDA_PYTHON="$PY" PYTEST_ARGS="$XDIST" > "$OUT/test_cuda.txt" 2>&1
else
    timeout -s INT 240 env PYTHONPATH=src:tests${PYTHONPATH:+:$PYTHONPATH} $PY -m pytest -p no:randomly \
        -p no:cacheprovider -rfE $XDIST tests/cuda tests/test_device_generic.py tests/ops \
        tests/nn/test_nn_layers_parity.py tests/optim/test_optimizers.py -k cuda > "$OUT/test_cuda.txt" 2>&1
fi
echo "exit $?" >> "$OUT/test_cuda.txt"
grep -E "^(FAILED|ERROR)" "$OUT/test_cuda.txt" | cut -c1-200 | head -n 60
tail -n 3 "$OUT/test_cuda.txt"
