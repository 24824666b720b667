#!/usr/bin/env bash
# Fetch the pure-Python test tools `make test-cuda` needs into .gpu_deps/ (git-ignored), for a GPU machine
# without internet: pass `.gpu_deps` in the device tool's carry list.  No dependencies are pulled, so the
# machine's own NumPy/CuPy/PyTorch stay the ones used.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
$PY -m pip install -q --no-deps --target .gpu_deps --python-version 3.12 --only-binary=:all: \
    pytest pluggy iniconfig packaging pytest-xdist execnet
echo "$(du -sh .gpu_deps | cut -f1) in .gpu_deps"
