"""Threads for matrix products (ops/_block_threads.product).  With Numba's kernels in use, BLAS is held to one
thread and large 2-D products are split over Numba's pool (on one part while backing off from a busy machine or
when the user asked for one thread).  Without them (BLAS's own threads: ``unpinned``): one thread for mid-size
products and while backing off, the configured count for large ones, the user's setting restored after.  Either
way the values are NumPy's."""
import time

import numpy as np
import pytest
import torch

import ember
from ember import _threads
from ember.ops import _block_threads as BT


@pytest.fixture
def two_threads():
    if not BT._blas_controllers():
        pytest.skip("threadpoolctl finds no BLAS library to control")
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    saved = dict(BT._contention)
    BT._contention.update(cooldown=0.0, share=1.0, backoff=0.0)
    try:
        yield
    finally:
        BT._contention.update(saved)
        ember.set_num_threads(before)


@pytest.fixture
def unpinned(two_threads):
    """BLAS running its own threads, as before Numba's kernels are first used (or without Numba)."""
    saved = _threads.pinned[0]
    _threads.pinned[0] = None
    ember.set_num_threads(2)
    try:
        yield
    finally:
        _threads.pinned[0] = saved
        ember.set_num_threads(2)


@pytest.fixture
def pinned(two_threads):
    """Numba's kernels in use: BLAS held to one thread, products split over Numba's pool."""
    pytest.importorskip("numba")
    from ember.kernels._dispatch import numba_enabled
    if not numba_enabled():
        pytest.skip("Numba kernels disabled")
    assert _threads.pinned[0] is not None
    yield

def _blas_threads_now():
    return max(c.get_num_threads() for c in BT._blas_controllers())


def _numpy_blas_threads():
    """NumPy's own BLAS's thread count (the library its products call)."""
    from threadpoolctl import threadpool_info
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas" and "numpy" in p["filepath"]]
    if not counts:
        pytest.skip("threadpoolctl does not find NumPy's BLAS")
    return counts[0]


def _threads_seen(m, k, n):
    """BLAS's thread count while ``product`` multiplies an (m, k) by a (k, n) matrix."""
    seen = []

    def fn(a, b):
        seen.append(_blas_threads_now())
        return a @ b
    a, b = np.ones((m, k), np.float32), np.ones((k, n), np.float32)
    np.testing.assert_array_equal(BT.product(fn, a, b), a @ b)
    return seen[0]


def test_product_threads_follow_size(unpinned):
    assert _threads_seen(64, 64, 64) == 2          # small: left to OpenBLAS (it keeps these on one thread)
    for _ in range(BT._SAMPLE_EVERY):              # mid-size: two threads, timed one call in _SAMPLE_EVERY
        assert _threads_seen(128, 128, 128) == 2
    assert _threads_seen(128, 784, 512) == 2       # the MLP's first layer
    assert _blas_threads_now() == 2                # the user's setting is back


def test_mid_size_products_are_sampled(unpinned, monkeypatch):
    """Timing costs a few microseconds: products under ``_TIMED_WORK`` are timed one in ``_SAMPLE_EVERY``, bigger
    ones always."""
    timed = []
    monkeypatch.setattr(BT, "_finish", lambda nt, clocks, wall, cpu: timed.append(nt))
    for _ in range(4 * BT._SAMPLE_EVERY):
        _threads_seen(128, 128, 128)
    assert len(timed) == 4
    _threads_seen(128, 784, 512)
    assert len(timed) == 5


def test_product_one_thread_while_backing_off(unpinned):
    for _ in range(4):                             # regions that got a tenth of their two cores
        BT._account(2, 1.0, 0.2)
    assert not BT.parallel_ok()
    assert _threads_seen(128, 784, 512) == 1
    BT._contention["cooldown"] = 1e-9              # the back-off is over: threads again
    assert _threads_seen(128, 784, 512) == 2


def test_product_respects_user_single_thread(unpinned):
    ember.set_num_threads(1)
    assert _threads_seen(128, 784, 512) == 1
    assert ember.get_num_threads() == _blas_threads_now() == 1


def _split_parts(monkeypatch):
    """The part counts ``product`` gives ``split_gemm`` (recorded as it runs), with the back-off's accounting
    off (on a busy machine it could send a product to one part)."""
    from ember.kernels import _numba_blas
    monkeypatch.setattr(BT, "_account", lambda *args, **kwargs: None)
    parts = []
    monkeypatch.setattr(_numba_blas, "split_gemm", _spy(parts, _numba_blas.split_gemm))
    return parts


def _spy(parts, kernel):
    """``kernel`` that first appends its part count (its last argument) to ``parts``."""
    def spy(*args):
        parts.append(args[-1])
        return kernel(*args)
    return spy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(128, 784, 512), (37, 1000, 129), (700, 256, 33), (64, 128, 128)])
def test_split_products_match_numpy(pinned, monkeypatch, dtype, m, k, n):
    """Split by rows or by columns, with either operand stored transposed (a Linear layer's ``x @ w.T``) or as a
    column slice: NumPy's values, on two parts, BLAS left at one thread."""
    rng = np.random.default_rng(1)
    parts = _split_parts(monkeypatch)
    a_rows, b_rows = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    wide = rng.standard_normal((m, k + 5)).astype(dtype)
    for a, b in ((a_rows, b_rows), (np.asfortranarray(a_rows), b_rows), (a_rows, np.asfortranarray(b_rows)),
                 (np.ascontiguousarray(a_rows.T).T, np.ascontiguousarray(b_rows.T).T),
                 (wide[:, 2:k + 2], b_rows.T.copy().T)):
        r = BT.product(np.matmul, a, b)
        np.testing.assert_allclose(r, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)
        assert r.dtype == dtype and r.flags.c_contiguous
    assert parts and set(parts) == {2}
    assert _numpy_blas_threads() == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_batched_products_match_numpy(pinned, monkeypatch, dtype):
    """Stacks of matrices: a batch by a batch (attention's shapes, a key transposed as a view, 4-D heads), a stack
    by one matrix (folded into rows), and a broadcast batch (NumPy's own product)."""
    from ember.kernels import _numba_blas
    rng = np.random.default_rng(2)
    batched = _split_parts(monkeypatch)
    monkeypatch.setattr(_numba_blas, "split_batched_gemm", _spy(batched, _numba_blas.split_batched_gemm))
    q, k = rng.standard_normal((16, 4, 64, 32)).astype(dtype), rng.standard_normal((16, 4, 64, 32)).astype(dtype)
    x, w = rng.standard_normal((7, 64, 300)).astype(dtype), rng.standard_normal((300, 65)).astype(dtype)
    cases = [(q, k.swapaxes(-1, -2)), (q[:, 1], k[:, 2].swapaxes(-1, -2)), (q.swapaxes(-1, -2), k),
             (x, w), (x[:1], np.repeat(w[None], 7, 0))]
    for a, b in cases:
        r = BT.product(np.matmul, a, b)
        np.testing.assert_allclose(r, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)
        assert r.shape == (a @ b).shape and r.dtype == dtype
    assert batched and set(batched) == {2}


def test_split_product_same_parts_while_backing_off_one_when_asked(pinned, monkeypatch):
    """Backing off, a product keeps its two parts (run one after the other, same bits); one thread asked for gives
    BLAS's own product."""
    parts = _split_parts(monkeypatch)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((128, 784)).astype(np.float32), rng.standard_normal((784, 512)).astype(np.float32)
    idle = BT.product(np.matmul, a, b)
    BT._contention["cooldown"] = time.perf_counter() + 60    # backing off
    assert not BT.parallel_ok()
    np.testing.assert_array_equal(BT.product(np.matmul, a, b), idle)
    BT._contention.update(cooldown=0.0, share=1.0, backoff=0.0)
    a, b = np.ones((128, 784), np.float32), np.ones((784, 512), np.float32)
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1 and _numpy_blas_threads() == 1
    np.testing.assert_array_equal(BT.product(np.matmul, a, b), a @ b)
    ember.set_num_threads(2)
    assert ember.get_num_threads() == 2 and _numpy_blas_threads() == 1
    np.testing.assert_array_equal(BT.product(np.matmul, a, b), a @ b)
    assert parts == [2, 2, 2]     # one thread asked for: BLAS's own product on this thread, no split


@pytest.mark.parametrize("shape", [(128, 784, 512), (128, 256, 128), (3, 128, 256, 128)])
def test_linear_and_matmul_match_torch(two_threads, shape):
    rng = np.random.default_rng(0)
    *lead, m, k, n = shape
    x = rng.standard_normal((*lead, m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    g = rng.standard_normal((*lead, m, n)).astype(np.float32)
    for fe, ft in ((ember.nn.functional.linear, torch.nn.functional.linear),
                   (lambda a, b: a @ b.mT, lambda a, b: a @ b.mT)):
        xe, we = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        ye, yt = fe(xe, we), ft(xt, wt)
        ye.backward(ember.tensor(g))
        yt.backward(torch.tensor(g))
        for a, b in ((ye, yt), (xe.grad, xt.grad), (we.grad, wt.grad)):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-3)



def test_cpu_seconds_counts_other_threads_as_they_run():
    """The contention check sums the threads' own CPU clocks (listed from /proc): a worker's CPU time is in the
    sum, read while the worker still runs."""
    import ctypes
    import threading
    go, done, release, own = threading.Event(), threading.Event(), threading.Event(), []

    def burn():
        go.wait()
        start = time.thread_time()
        a = np.ones(100_000)
        np.sin(a, out=a)              # about half a millisecond: shorter than the kernel's accounting tick
        own.append(time.thread_time() - start)
        done.set()
        while not release.is_set():   # still running, outside the GIL, when the clocks are read
            ctypes.memset(a.ctypes.data, 0, a.nbytes)   # ctypes releases the GIL here

    t = threading.Thread(target=burn)
    t.start()
    BT._clocks["at"] = -2.0
    clocks = BT._thread_clock_ids()   # listed again: the worker's clock is in
    start = BT._cpu_seconds(clocks)
    go.set()
    done.wait()
    end = BT._cpu_seconds(clocks)
    release.set()
    t.join()
    assert end - start >= own[0]


def test_set_num_threads_holds_for_blas_loaded_later(unpinned):
    """A BLAS library loaded after ``set_num_threads`` (SciPy's OpenBLAS comes with Numba) starts at its own count:
    ember's thread choice and ``get_num_threads`` keep to the count the user set, as torch's do."""
    ember.set_num_threads(1)
    pretend_later = type("Lib", (), {"get_num_threads": lambda self: 2})()
    BT._state["controllers"] = BT._blas_controllers() + [pretend_later]
    try:
        assert ember.get_num_threads() == 1
        assert BT.block_threads() == 1                 # products and blocked ops: one thread
    finally:
        BT._state["controllers"] = None


def test_run_split_orders_results_and_waits_for_every_part():
    """``run_split``: results in the parts' order, the first part on the calling thread and the others on the
    pool, and every part finished before an error of the first reaches the caller."""
    import threading
    seen = []

    def part(i, delay):
        time.sleep(delay)
        seen.append((i, threading.current_thread() is threading.main_thread()))
        return i * 10

    assert BT.run_split(part, [(0, 0.0), (1, 0.01), (2, 0.0)]) == [0, 10, 20]
    assert sorted(seen) == [(0, True), (1, False), (2, False)]

    finished = []

    def failing(i):
        if i == 0:
            raise ValueError("first part")
        time.sleep(0.05)
        finished.append(i)

    with pytest.raises(ValueError, match="first part"):
        BT.run_split(failing, [(0,), (1,)])
    assert finished == [1]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_forked_child_on_one_thread_runs_parallel_kernels(pinned):
    """A DataLoader worker is forked from a process whose OpenMP pool is running and sets one thread (as torch's
    workers do): its kernels and large products must then stay off OpenMP, which aborts a forked child that uses
    it."""
    import os
    x = ember.ones(2048, 1024)
    ember.softmax(x, -1)                       # the parent's pool is running
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ember.set_num_threads(1)
            ok = float(ember.softmax(x, -1)[0, 0]) == 1 / 1024 and float((x @ x.T)[0, 0]) == 1024
            code = 0 if ok else 2
        finally:
            os._exit(code)
    assert os.waitpid(pid, 0)[1] == 0


def test_thread_count_set_before_numba_loads():
    """``set_num_threads`` before the first kernel: Numba's pool takes the count when it loads, and a later count
    is the one blocked ops and split products use (the count held when BLAS went to one thread is no cap)."""
    import os
    import subprocess
    import sys
    code = ("import ember, numba; from ember.ops import _block_threads as BT; ember.set_num_threads(1); "
            "ember.softmax(ember.ones(2048, 1024), -1); a = (numba.get_num_threads(), BT.block_threads()); "
            "ember.set_num_threads(2); print(*a, numba.get_num_threads(), BT.block_threads(), ember.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ), capture_output=True, text=True,
                         check=True).stdout.split()
    if pytest.importorskip("numba").config.NUMBA_NUM_THREADS < 2 or os.environ.get("EMBER_DISABLE_NUMBA", "0") != "0":
        pytest.skip("Numba's pool has one thread, or Numba kernels are disabled")
    assert out == ["1", "1", "2", "2", "2"]


@pytest.mark.parametrize("beta", [0.0, 2.0])
def test_gemm_t_with_an_empty_inner_dimension(pinned, beta):
    """``c = op(a) @ op(b) + beta c`` with nothing to sum: ``beta c`` (0 for beta 0, also where ``c`` held NaN), as
    BLAS defines it, though BLAS itself is not called (it rejects a leading dimension of 0)."""
    import numba
    from ember.kernels import _numba_blas

    @numba.njit
    def call(address, ilp64, ta, tb, a, b, c, beta):
        _numba_blas.gemm_t(address, ilp64, ta, tb, a, b, c, beta)
    blas = _numba_blas.gemm_address(np.float32)
    for ta, tb in ((0, 0), (1, 1)):
        a = np.ones((0, 3) if ta else (3, 0), np.float32)
        b = np.ones((4, 0) if tb else (0, 4), np.float32)
        c = np.full((3, 4), 7, np.float32)
        c[0, 0] = np.nan
        call(*blas, ta, tb, a, b, c, beta)
        want = np.zeros((3, 4), np.float32) if beta == 0 else np.full((3, 4), 7 * beta, np.float32)
        if beta:
            want[0, 0] = np.nan
        np.testing.assert_array_equal(c, want)


def test_blas_held_when_the_first_kernel_runs_on_a_block_thread():
    """Holding BLAS to one thread is for the process: it happens also when the first kernel call comes from a
    block-thread worker (a blocked op's reference path), not only from the main thread."""
    import os
    import subprocess
    import sys
    code = ("import threading, ember; from ember import _threads; from ember.ops import _block_threads as BT; "
            "from ember.kernels._dispatch import numba_enabled; "
            "t = threading.Thread(target=lambda: (BT._mark_worker(), numba_enabled())); t.start(); t.join(); "
            "print(numba_enabled(), _threads.pinned[0] is not None)")
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ), capture_output=True, text=True,
                         check=True).stdout.split()
    if out[0] != "True":
        pytest.skip("Numba kernels disabled")
    assert out[1] == "True"
