"""Thread settings: set_num_threads / get_num_threads.

ember's parallel work runs on Numba's OpenMP pool once its compiled kernels are in use: matrix products are split
there too and NumPy's BLAS is held to one thread (``ops/_block_threads.pin_blas``), so one pool serves every op and
its threads can wait for the next region awake.  Before that, and where Numba is missing or disabled, BLAS's own
threads (set through threadpoolctl) and Python block threads do the parallel work.

Imported by ``ember/__init__.py`` before NumPy: when NumPy's OpenBLAS is not loaded yet and the user has not
chosen ``OPENBLAS_THREAD_TIMEOUT``, its idle threads are told to sleep after about 2**20 cycles (~0.4 ms) instead
of OpenBLAS's 2**28 (~0.1 s).  A spinning idle BLAS thread takes a core from what runs next (Numba's threads,
another process): measured 30-40 ms of CPU burnt in the 0.2 s after one two-thread GEMM, ~1 ms with 2**20,
while products back to back (a layer's two backward GEMMs) still find the thread awake.
"""
import os
import sys


def _openblas_thread_timeout():
    if "numpy" in sys.modules or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return   # OpenBLAS reads it when it loads; the user's choice stands
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = "20"
    try:
        __import__("numpy")   # loads OpenBLAS while the timeout is set
    finally:
        del os.environ["OPENBLAS_THREAD_TIMEOUT"]   # child processes get their own choice


_openblas_thread_timeout()

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads"]

_interop = [1]
# the count ``set_num_threads`` was last given: BLAS libraries loaded after the call (SciPy's OpenBLAS, which
# Numba's import brings in) start at their own count, and ``get_num_threads`` answers what the user set, as torch
requested = [None]


def _controller():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


# the default thread count once ember holds BLAS to one thread (Numba's pool size; None while BLAS runs its own
# threads)
pinned = [None]


def set_num_threads(num):
    """Use ``num`` threads for intra-op parallelism (Numba's pool, which also runs ember's matrix products); ``num``
    must be positive.  Once ember's compiled kernels are in use, NumPy's BLAS stays at one thread in this process,
    also for NumPy products made outside ember: one pool serves every op (see the module docstring)."""
    if not isinstance(num, int) or num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    # every BLAS library, also one loaded since ember held them to one thread (then they stay at one)
    _controller().limit(limits=num if pinned[0] is None else 1, user_api="blas")
    if "numba" in sys.modules:
        numba = sys.modules["numba"]
        numba.set_num_threads(min(num, numba.config.NUMBA_NUM_THREADS))
    requested[0] = num


def get_num_threads():
    """The number of threads ops may use: the count last given to ``set_num_threads``, else BLAS's own count."""
    if requested[0] is not None:
        return requested[0]
    if pinned[0] is not None:
        return pinned[0]
    info = [p["num_threads"] for p in _controller().info() if p.get("user_api") == "blas"]
    return max(info) if info else os.cpu_count() or 1


def set_num_interop_threads(num):
    """Recorded for compatibility; ember runs ops on one Python thread."""
    if num <= 0:
        raise RuntimeError("Expected num_threads to be positive")
    _interop[0] = num


def get_num_interop_threads():
    return _interop[0]
