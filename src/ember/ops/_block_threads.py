"""BLAS threads and threads for ops that split their work into independent blocks (convolution over batch blocks).

NumPy releases the GIL inside its array loops and BLAS calls, so a few Python threads working on
different blocks run in parallel.  The parallelism follows BLAS's thread count (``ember.set_num_threads``
sets it); while the threads run, BLAS itself is held to one thread so the cores are not oversubscribed.

Matrix products go through ``product``, which picks one BLAS thread or BLAS's configured count per
product size, and one thread while the machine's cores are found busy (see ``product``).
"""
import contextlib
import os
import threading
import time

import numpy as np

from .. import _threads

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
    """How many threads a blocked op may use: the count given to ``ember.set_num_threads``, else Numba's pool size
    while BLAS is held to one thread (``pin_blas``), else BLAS's current thread count (at most the count given;
    1 inside a worker)."""
    if threading.current_thread() is not threading.main_thread() and getattr(_local, "worker", False):
        return 1
    if _threads.pinned[0] is not None:
        return _threads.pinned[0] if _threads.requested[0] is None else _threads.requested[0]
    if _single["depth"]:  # inside blas_single: the user's setting is the saved one
        n = max(_single["saved"], default=1)
    else:
        n = max((c.get_num_threads() for c in _blas_controllers()), default=1)
    return n if _threads.requested[0] is None else min(n, _threads.requested[0])


_local = threading.local()


def _mark_worker():
    _local.worker = True


def executor():
    """A shared pool of worker threads (one fewer than the parallelism: the caller works too)."""
    import concurrent.futures   # on first use: it imports logging, ~15 ms that ``import ember`` need not pay
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


def run_split(fn, parts):
    """``[fn(*part) for part in parts]``, run at the same time: the first part on this thread, the others on the
    block-thread pool (their work overlaps where ``fn`` releases the GIL: NumPy loops, BLAS, ``nogil`` kernels).
    Waits for every part, also when one raises."""
    futures = [executor().submit(fn, *part) for part in parts[1:]]
    try:
        first = fn(*parts[0])
    finally:
        rest = [f.result() for f in futures]
    return [first] + rest


# Contention check: when parallel regions get much less CPU time than their threads could use (the machine is
# busy with other processes), GIL hand-offs between starved threads, and a BLAS GEMM waiting for its descheduled
# second thread (measured 10-50x slower on a loaded 2-core machine), cost more than the parallelism gains, so
# blocked ops and products run on one thread for a while before trying threads again.  The CPU share is smoothed
# over regions (one slow region is noise; GIL waits alone give shares of 0.6-0.9 on an idle machine).  The back-off
# is timed, doubling while the machine stays busy: a retry under load costs one slow region.
_contention = {"cooldown": 0.0, "share": 1.0, "backoff": 0.0}   # cooldown: perf_counter() time it ends
_BACKOFF_SECONDS = (0.25, 8.0)
_MIN_CPU_SHARE = 0.5


def parallel_ok():
    """False while backing off after parallel regions that found the cores busy."""
    if _contention["cooldown"]:
        if time.perf_counter() < _contention["cooldown"]:
            return False
        _contention["cooldown"] = 0.0
        _contention["share"] = _MIN_CPU_SHARE + 0.1  # one more starved region backs off again
    return True


def _thread_clock_ids(fresh=False):
    """Linux's CPU-clock ids of this process's threads (``MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)``), listed again
    each second (threads come and go), in a forked child and when ``fresh``; empty where /proc is missing.  The
    list object stays the same while the threads do."""
    now = time.monotonic()
    if fresh or now - _clocks["at"] > 1.0 or _clocks["pid"] != os.getpid():
        try:
            tids = os.listdir("/proc/self/task")
        except OSError:
            tids = ()
        ids = [((~int(t)) << 3) | 6 for t in tids]
        if ids != _clocks["ids"]:
            _clocks["ids"] = ids
        _clocks.update(at=now, pid=os.getpid())
    return _clocks["ids"]


_clocks = {"ids": [], "at": -2.0, "pid": None}


def _cpu_seconds(clocks):
    """CPU seconds the threads whose clock ids are ``clocks`` (``_thread_clock_ids()``) have run, each thread's clock
    read at this moment; the process's total without ids, None when a thread has ended since the listing.

    ``time.process_time()`` is not enough here: Linux adds a thread running on another core to the process total
    only at that core's next tick or context switch, so OpenBLAS's worker, which spins between back-to-back
    products, went uncounted (measured share 0.50 for two-thread products that ran at full speed), the smoothed
    share hovered at the back-off threshold and products ran on one thread for seconds on an idle machine.
    """
    try:
        return sum([time.clock_gettime(c) for c in clocks]) if clocks else time.process_time()
    except OSError:
        _clocks["at"] = -2.0
        return None


def _finish(nt, clocks, wall, cpu):
    """Account a region that started at ``perf_counter()`` ``wall`` with ``_cpu_seconds(clocks)`` ``cpu``."""
    wall, end = time.perf_counter() - wall, _cpu_seconds(clocks)
    if cpu is None or end is None:
        return
    if end - cpu < _MIN_CPU_SHARE * nt * wall and _thread_clock_ids(fresh=True) is not clocks:
        return   # a thread started since the listing (a pool's first region) and went uncounted
    _account(nt, wall, end - cpu)


@contextlib.contextmanager
def timed_parallel(nt):
    """Measure a parallel region's CPU share; start a serial back-off when the smoothed share is low."""
    clocks = _thread_clock_ids()
    wall, cpu = time.perf_counter(), _cpu_seconds(clocks)
    yield
    _finish(nt, clocks, wall, cpu)


def account_region(wall, cpu):
    """Account a parallel region of equal chunks, one of them run by the calling thread, from that thread's side:
    ``cpu`` the seconds it ran during the region's ``wall`` seconds.

    With a sleeping pool (``OMP_WAIT_POLICY=PASSIVE``) the thread runs its chunk and then sleeps until the others
    are done, so its share is the region's (all threads' CPU over threads x wall, as ``timed_parallel`` measures it:
    0.98 correlated over 400 softmax regions on a busy machine) at the cost of one clock read instead of one per
    thread of the process.  With the pool waiting awake (``pool_waits_awake``) it spins for the others for about
    2.5 ms before it sleeps, so its share is about 1 whenever they run: a region in which it slept a fifth of the
    time waited on a descheduled thread, and counts as starved (with other processes on the second core, such
    regions took about 5 ms each, the calling thread's share 0.5, against 40 us on one thread).  Such a region
    weighs less in the smoothed share: on an idle machine this VM stalls one now and then (2-8 in 3 s of a
    training step's 1000-7000 regions; two in a row backed off for 0.25 s and more), while other
    processes on the core starve nearly every region, which still backs off within a few."""
    if _awake[0]:
        _account(1, wall, wall if cpu > 0.8 * wall else 0.0, weight=0.1)
    else:
        _account(1, wall, cpu)


_awake = [False]


def pool_waits_awake(awake):
    """Tell ``account_region`` whether Numba's pool threads spin between regions (``_dispatch._openmp_wait``)."""
    _awake[0] = awake


def _account(nt, wall, cpu, weight=0.3):
    if wall > 1e-4:
        share = _contention["share"] = (1 - weight) * _contention["share"] + weight * (cpu / (nt * wall))
        if share < _MIN_CPU_SHARE:
            backoff = min(max(2 * _contention["backoff"], _BACKOFF_SECONDS[0]), _BACKOFF_SECONDS[1])
            _contention["backoff"] = backoff
            _contention["cooldown"] = time.perf_counter() + backoff
        elif share > _MIN_CPU_SHARE + 0.2:
            _contention["backoff"] = 0.0


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


# Matrix products (OpenBLAS, float32, min and median over 2000 calls, 2-core AMD EPYC Zen4 with AVX-512): below
# about 1M multiply-adds OpenBLAS keeps a product on one thread itself (128x512x10: 20.2 us either way); from 1M two
# threads pay (64x128x128: 23 us on one, 15-16 on two; 128x128x96: 33 and 19; 128x128x128: 43 and 28-29;
# 128x256x96: 64 and 37).  An AVX-512 Xeon measured before ran 128x128x128 alike on one and two threads (47 and
# 45 us) and two threads paid from about 3M; another 2-core machine had one thread faster up to 12M.
_PRODUCT_THREADS = 1 << 20
# Timing a two-thread product (reading the threads' clocks) costs ~6 us: products under this many multiply-adds
# (under ~40 us on two threads) are timed one in _SAMPLE_EVERY; a busy machine stalls many of them (a 128x128x128
# product took 8-16 ms at the 99th percentile with two other processes running), so sampling still finds it.
_TIMED_WORK = 3 << 20
_SAMPLE_EVERY = 4
_sample = [0]
# OpenBLAS's product with few result columns slows down beyond about 64 rows (one thread, float32, x @ w.T, thread
# CPU min: 512 -> 10 on 128 rows 30 us whole, 16 us as two 64-row blocks; 784 -> 10 on 128 rows 46 -> 23 us; 512 ->
# 10 on 1024 rows 224 -> 129 us, as fast as the whole product on two threads; 512 -> 16 on 128 rows 30 -> 23 us;
# from 32 columns blocks stop paying, and one column (a matrix-vector product) is slower in blocks: 4.5 -> 6.8 us).
_FEW_COLUMNS = 16
_ROW_BLOCK = 64
# A split product gives each thread at least this many rows (or columns) of the result.
_SPLIT_MIN = 16


def _row_blocked(a, b):
    """``a @ b`` for 2-D float32/float64 arrays, computed in blocks of ``_ROW_BLOCK`` rows of ``a``."""
    rows = a.shape[0]
    r = np.empty((rows, b.shape[1]), a.dtype)
    for i in range(0, rows, _ROW_BLOCK):
        np.matmul(a[i:i + _ROW_BLOCK], b, out=r[i:i + _ROW_BLOCK])
    return r


def pin_blas():
    """Hold BLAS to one thread from now on (``_threads.pinned`` keeps Numba's pool size as the default count, and a
    count the user set before Numba was loaded goes to Numba's pool): Numba's kernels are in use, and
    products split over Numba's pool (``_split_product``) instead, so that one pool's threads serve every op.  Two
    pools would take turns at the second core: an idle pool's threads wait awake for a while, and their spinning
    delayed the other's work (BLAS's threads against Numba's, measured on the bench's training steps)."""
    import numba
    with _lock:
        if _threads.pinned[0] is None:
            _threads.pinned[0] = numba.config.NUMBA_NUM_THREADS
            _threads._controller().limit(limits=1, user_api="blas")
            _state["controllers"] = None   # listed again: libraries loaded with Numba (SciPy's OpenBLAS) are in
            if _threads.requested[0] is not None:   # set before Numba was loaded
                numba.set_num_threads(min(_threads.requested[0], numba.config.NUMBA_NUM_THREADS))


def _split_product(a, b):
    """``a @ b`` split over Numba's pool by ``kernels/_numba_blas.split_product`` (float operands of one dtype), or
    None where that does not apply."""
    if a.dtype != b.dtype or a.dtype.char not in "fd":
        return None
    from ..kernels._numba import chunks
    from ..kernels._numba_blas import split_product
    if b.ndim == 2:   # split along the result's rows or columns
        return split_product(a, b, chunks(max(a.size // a.shape[-1], b.shape[1]), _SPLIT_MIN))
    return split_product(a, b, chunks(a.size // (a.shape[-2] * a.shape[-1] or 1), 1))   # along the batch


def product(fn, a, b):
    """``fn(a, b)`` for a matrix-product function ``fn`` (``matmul``, ``dot``) of NumPy arrays.  With BLAS held to
    one thread (``pin_blas``), products of ``_PRODUCT_THREADS`` multiply-adds and more are split over Numba's pool
    (``_split_product``).  Otherwise: left to OpenBLAS below ``_PRODUCT_THREADS`` (it keeps those on one thread),
    with BLAS on one thread while the cores are found busy, on BLAS's configured count otherwise (its CPU share
    measured, see ``timed_parallel``).  Either way a 2-D float product with 2-16 result columns on more than 64
    rows runs in 64-row blocks (``_row_blocked``).

    Args:
        fn: the product function; a: ``(..., m, k)``; b: ``(..., k, n)`` (1-D operands and other array types run
            as they are).
    """
    if a.ndim < 2 or b.ndim < 2 or type(a) is not np.ndarray or type(b) is not np.ndarray:
        return fn(a, b)
    m, n = a.shape[-2], b.shape[-1]
    if 1 < n <= _FEW_COLUMNS and m > _ROW_BLOCK and a.ndim == 2 == b.ndim and a.dtype == b.dtype \
            and a.dtype.char in "fd":
        return _row_blocked(a, b)
    work = m * a.shape[-1] * n
    if _threads.pinned[0] is not None:
        if work * (a.size // (m * a.shape[-1] or 1)) >= _PRODUCT_THREADS and block_threads() > 1:
            r = _split_product(a, b)
            if r is not None:
                return r
        return fn(a, b)
    if work < _PRODUCT_THREADS or _single["depth"] or getattr(_local, "worker", False):
        return fn(a, b)   # small, or BLAS already held to one thread by a blocked op
    nt = block_threads()
    if nt <= 1:
        return fn(a, b)
    if not parallel_ok():
        with blas_single():
            return fn(a, b)
    if work < _TIMED_WORK:
        _sample[0] += 1
        if _sample[0] % _SAMPLE_EVERY:
            return fn(a, b)
    clocks = _thread_clock_ids()
    wall, cpu = time.perf_counter(), _cpu_seconds(clocks)
    r = fn(a, b)
    _finish(nt, clocks, wall, cpu)
    return r
