"""The MPI engine under ``ember.distributed``: mpi4py over MPICH, started lazily, and a deadline-bound wait.

MPI is initialised on the first :func:`init_process_group` (not at import, so ``import ember.distributed``
stays cheap and works without a process manager), and never finalised at exit: a process whose peers died
must still be able to exit, and MPICH's ``MPI_Finalize`` would wait for them.
"""
import time

import numpy as np

__all__ = ["mpi", "available", "wait_all", "as_buffer", "reducible", "DistTimeoutError"]

_MPI = None


def available():
    """True when mpi4py can be imported (it finds the MPICH library of the ``mpich`` wheel)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def mpi():
    """The ``mpi4py.MPI`` module, with MPI initialised (thread level *serialized*)."""
    global _MPI
    if _MPI is None:
        import mpi4py
        mpi4py.rc.initialize = False
        mpi4py.rc.finalize = False
        from mpi4py import MPI
        if not MPI.Is_initialized():
            MPI.Init_thread(MPI.THREAD_SERIALIZED)
        _MPI = MPI
    return _MPI


class DistTimeoutError(RuntimeError):
    """A collective or point-to-point operation did not complete within the process group's timeout."""


def wait_all(requests, deadline, what, status=None):
    """Drive MPI progress until every request completes, or raise :class:`DistTimeoutError` at ``deadline``.

    MPI only progresses non-blocking operations inside MPI calls, so this polls ``Testall``: tightly for the
    first ``_SPIN_SECONDS`` (a peer that is on time answers within that), then with sleeps growing to
    ``_MAX_NAP`` so that a process waiting for a slower peer leaves the cores to it (ranks often outnumber
    cores).  A peer that died is noticed as a deadline overrun.

    Args:
        requests (list): mpi4py ``Request`` objects.
        deadline (float): ``time.monotonic()`` value after which the wait fails.
        what (str): the operation's name, for the error message.
        status (Status, optional): filled from the single request (to learn a receive's source).
    """
    MPI = _MPI
    done = (lambda: requests[0].Test(status)) if status is not None else (lambda: MPI.Request.Testall(requests))
    if done():
        return
    spin_until = time.monotonic() + _SPIN_SECONDS
    nap = 0.0
    while not done():
        now = time.monotonic()
        if now > deadline:
            raise DistTimeoutError(f"{what} timed out: a peer process did not take part within the process "
                                   "group's timeout (it may have died or be stuck)")
        if now > spin_until:
            nap = min(_MAX_NAP, nap * 2 or 1e-5)
            time.sleep(nap)


_SPIN_SECONDS = 2e-4
_MAX_NAP = 2e-4


# NumPy dtypes MPI reduces natively; others (bfloat16) travel as float32 for reductions, as raw bytes otherwise
_NATIVE = {np.dtype(t) for t in (np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8, np.int16,
                                 np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_)}


def as_buffer(arr):
    """``arr`` as something mpi4py can send: itself when MPI knows the dtype, else a byte view."""
    if arr.dtype in _NATIVE and arr.dtype != np.float16:
        return arr
    return arr.view(np.uint8)


def reducible(dtype):
    """The dtype an array must be cast to for MPI to reduce it (float16/bfloat16 -> float32)."""
    dtype = np.dtype(dtype)
    if dtype in _NATIVE and dtype != np.float16:
        return dtype
    return np.dtype(np.float32)
