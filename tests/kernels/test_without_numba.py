"""The kernel slice of the suite once more in a process with ``EMBER_DISABLE_NUMBA=1``: every kernel must then
run its NumPy reference and still agree with PyTorch (the path a machine without Numba takes)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the kernel tests, and the op tests whose ops run on kernels
SLICE = ["tests/kernels", "tests/optim/test_optim_step_kernels.py"]


def test_kernel_slice_without_numba():
    env = dict(os.environ, EMBER_DISABLE_NUMBA="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                           "-n", "0", *SLICE, "-k", "not test_kernel_slice_without_numba"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
