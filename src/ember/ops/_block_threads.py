"""Threads for ops that split their work into independent blocks (convolution over batch blocks).

NumPy releases the GIL inside its array loops and BLAS calls, so a few Python threads working on
different blocks run in parallel.  The parallelism follows BLAS's thread count (``ember.set_num_threads``
sets it); while the threads run, BLAS itself is held to one thread so the cores are not oversubscribed.
"""
import concurrent.futures
import contextlib
import os
import threading
import time

_state = {"controllers": None, "executor": None, "workers": 0, "pid": None}
_lock = threading.Lock()


def _blas_controllers():
    ctrls = _state["controllers"]
    if ctrls is None:
        try:
            from threadpoolctl import ThreadpoolController
            ctrls = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        except Exception:  # pragma: no cover - threadpoolctl missing or unable to inspect the libraries
            ctrls = []
        _state["controllers"] = ctrls
    return ctrls


def block_threads():
    """How many threads a blocked op may use: BLAS's current thread count (1 inside a worker)."""
    if threading.current_thread() is not threading.main_thread() and getattr(_local, "worker", False):
        return 1
    if _single["depth"]:  # inside blas_single: the user's setting is the saved one
        return max(_single["saved"], default=1)
    ctrls = _blas_controllers()
    return max((c.get_num_threads() for c in ctrls), default=1)


_local = threading.local()


def _mark_worker():
    _local.worker = True


def executor():
    """A shared pool of worker threads (one fewer than the parallelism: the caller works too)."""
    want = max(1, block_threads() - 1)
    with _lock:
        ex = _state["executor"]
        if _state["pid"] != os.getpid():  # a forked child (DataLoader worker) has no copy of the threads
            ex = None
        if ex is None or _state["workers"] < want:
            if ex is not None:
                ex.shutdown(wait=False)
            ex = _state["executor"] = concurrent.futures.ThreadPoolExecutor(
                max_workers=want, thread_name_prefix="ember-block", initializer=_mark_worker)
            _state["workers"], _state["pid"] = want, os.getpid()
    return ex


# Contention check: when parallel regions get much less CPU time than their threads could use (the machine is
# busy with other processes), GIL hand-offs between starved threads cost more than the parallelism gains, so
# blocked ops run serially for a while before trying threads again.  The CPU share is smoothed over regions
# (one slow region is noise; GIL waits alone give shares of 0.6-0.9 on an idle machine).
_contention = {"cooldown": 0, "share": 1.0}
_COOLDOWN_CALLS = 32
_MIN_CPU_SHARE = 0.5


def parallel_ok():
    """False while backing off after parallel regions that found the cores busy."""
    if _contention["cooldown"] > 0:
        _contention["cooldown"] -= 1
        if _contention["cooldown"] == 0:
            _contention["share"] = _MIN_CPU_SHARE + 0.1  # one more starved region backs off again
        return False
    return True


@contextlib.contextmanager
def timed_parallel(nt):
    """Measure a parallel region's CPU share; start a serial cooldown when the smoothed share is low."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if wall > 1e-3:
        share = _contention["share"] = 0.7 * _contention["share"] + 0.3 * (cpu / (nt * wall))
        if share < _MIN_CPU_SHARE:
            _contention["cooldown"] = _COOLDOWN_CALLS


_single = {"depth": 0, "saved": None}


@contextlib.contextmanager
def blas_single():
    """BLAS limited to one thread for the duration (restored when the last concurrent user leaves)."""
    ctrls = _blas_controllers()
    with _lock:
        if _single["depth"] == 0:
            _single["saved"] = [c.get_num_threads() for c in ctrls]
            for c in ctrls:
                c.set_num_threads(1)
        _single["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _single["depth"] -= 1
            if _single["depth"] == 0:
                for c, n in zip(ctrls, _single["saved"]):
                    c.set_num_threads(n)
