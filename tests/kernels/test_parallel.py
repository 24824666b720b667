"""The Numba kernels' thread split (kernels/_numba.py): a parallel kernel gives the same bits on one chunk (the
pool held to the calling thread) and on several, leaves Numba's thread count as it found it, and while the cores
are found busy (the back-off of ops/_block_threads) runs the same chunks one after another, so results do not
depend on the load."""
import numpy as np
import pytest

from ember.kernels import numba_enabled

pytestmark = pytest.mark.skipif(not numba_enabled(), reason="Numba disabled: no compiled kernels to split")


def test_one_chunk_and_several_agree():
    import numba
    from ember.kernels import _numba_softmax as NS
    x = np.random.default_rng(0).standard_normal((64, 1, 301)).astype(np.float32).reshape(64, 301, 1)
    before = numba.get_num_threads()
    y1, y2 = np.empty_like(x), np.empty_like(x)
    NS._fwd(x, y1, False, 1)
    assert numba.get_num_threads() == before
    NS._fwd(x, y2, False, 2)
    assert numba.get_num_threads() == before
    np.testing.assert_array_equal(y1, y2)


def test_chunk_count_does_not_follow_the_load(monkeypatch):
    """``chunks`` gives the same count whether or not the cores are found busy: the count decides the order in
    which chunks' partial results add up, and a result must not depend on the machine's load."""
    from ember.kernels import _numba
    from ember.ops import _block_threads
    monkeypatch.setattr(_numba, "threads", lambda: 2)
    monkeypatch.setitem(_block_threads._contention, "cooldown", 0.0)            # cores found free
    assert _numba.chunks(100, 10) == 2
    assert _numba.chunks(15, 10) == 1
    monkeypatch.setitem(_block_threads._contention, "cooldown", float("inf"))   # backing off
    assert _numba.chunks(100, 10) == 2


def test_busy_cores_run_the_chunks_one_after_another(tmp_path, monkeypatch):
    """While backing off, a kernel of several chunks runs them all on the calling thread (its serial compilation),
    a kernel whose chunks meet at a barrier still runs them on the pool, and a training step's gradients (split
    products, convolution drivers' chunk sums, batch-norm sums) come out bit for bit as on idle cores."""
    import importlib
    import time
    import ember
    from ember.kernels._numba import Parallel
    from ember.ops import _block_threads
    (tmp_path / "ember_chunk_threads_busy.py").write_text(_CHUNK_THREADS)
    monkeypatch.syspath_prepend(str(tmp_path))
    probe = importlib.import_module("ember_chunk_threads_busy").chunk_threads
    monkeypatch.setitem(_block_threads._contention, "cooldown", float("inf"))
    ids = np.full(3, -1, np.int64)
    probe(ids, 3)
    assert list(ids) == [0, 0, 0]
    calls = []
    meeting = Parallel(lambda ids, nch: None, meets=True)
    monkeypatch.setattr(meeting, "kernel", lambda *a: calls.append("pool"))
    meeting(ids, 2)
    assert calls == ["pool"]

    nn = ember.nn
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 512), nn.Tanh(), nn.Linear(512, 64), nn.Unflatten(1, (4, 4, 4)),
                          nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8))
    x = ember.randn(512, 64, requires_grad=True)

    def grads(busy):
        monkeypatch.setitem(_block_threads._contention, "cooldown", time.perf_counter() + 100 if busy else 0.0)
        model.zero_grad()
        x.grad = None
        model(x).sum().backward()
        return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]

    for free, busy in zip(grads(False), grads(True)):
        np.testing.assert_array_equal(free, busy)


_CHUNK_THREADS = '''
import numba
from numba import prange
from ember.kernels._numba import pjit


@pjit
def chunk_threads(ids, nch):
    for ch in prange(nch):
        ids[ch] = numba.get_thread_id()
'''


def test_serial_and_parallel_compilations_cached_apart(tmp_path, monkeypatch):
    """Numba's disk cache does not key on ``parallel=``: with the one-chunk (serial) compilation saved first, the
    parallel dispatcher must still compile (or load) parallel code and run its chunks on separate threads."""
    import importlib
    import numba
    if numba.get_num_threads() < 2:
        pytest.skip("one Numba thread: chunks cannot be told apart")
    (tmp_path / "ember_chunk_threads_probe.py").write_text(_CHUNK_THREADS)
    monkeypatch.syspath_prepend(str(tmp_path))
    probe = importlib.import_module("ember_chunk_threads_probe").chunk_threads
    ids = np.full(2, -1, np.int64)
    probe(ids, 1)           # the serial compilation, saved to the cache first
    assert ids[0] == 0
    probe(ids, 2)
    assert ids[0] != ids[1]


def test_regions_accounted_from_the_calling_thread(monkeypatch):
    """Several chunks run as a region accounted by ``account_region`` (wall and the calling thread's CPU seconds),
    one chunk runs serially and unaccounted; regions whose calling thread got a fifth of their time back off."""
    from ember.kernels import _numba_softmax as NS
    from ember.kernels import _numba
    from ember.ops import _block_threads as BT
    seen = []
    monkeypatch.setattr(_numba, "account_region", lambda wall, cpu: seen.append((wall, cpu)))
    monkeypatch.setattr(BT, "_contention", {"cooldown": 0.0, "share": 1.0, "backoff": 0.0})   # not backing off
    x = np.random.default_rng(0).standard_normal((256, 301, 1)).astype(np.float32)
    y = np.empty_like(x)
    NS._fwd(x, y, False, 1)
    assert seen == []
    NS._fwd(x, y, False, 2)
    assert len(seen) == 1 and seen[0][0] > 0 and 0 <= seen[0][1] <= 2 * seen[0][0]
    monkeypatch.setattr(BT, "_contention", {"cooldown": 0.0, "share": 1.0, "backoff": 0.0})
    monkeypatch.setattr(BT, "_awake", [False])     # a sleeping pool (see the next test for one waiting awake)
    for _ in range(4):
        BT.account_region(1.0, 0.2)
    assert not BT.parallel_ok()


def test_regions_of_a_pool_waiting_awake(monkeypatch):
    """With the pool's threads spinning between regions, the calling thread spins too while it waits: a region it
    ran throughout is healthy; regions in which it slept half the time (its partner descheduled) back off, though
    not after one or two of them among healthy ones."""
    from ember.ops import _block_threads as BT
    monkeypatch.setattr(BT, "_awake", [True])
    monkeypatch.setattr(BT, "_contention", {"cooldown": 0.0, "share": 1.0, "backoff": 0.0})
    for _ in range(20):
        BT.account_region(0.01, 0.0095)
    assert BT.parallel_ok()
    for _ in range(2):
        BT.account_region(0.005, 0.0025)
    assert BT.parallel_ok()
    for _ in range(6):
        BT.account_region(0.005, 0.0025)
    assert not BT.parallel_ok()


def _forced(monkeypatch, modules, nch):
    for m in modules:
        monkeypatch.setattr(m, "row_chunks", lambda *a: nch)


def test_row_kernels_two_chunks_match_one(monkeypatch):
    """The softmax, row-norm, GELU and cross-entropy kernels on two chunks (forced: their sizes split only from
    64K-256K elements) give the one-chunk results (the same bits, but the affine sums, added per chunk)."""
    from ember.kernels import _numba_softmax as NS, _numba_norms as NN, _numba_activations as NA
    from ember.kernels import _numba_losses as NL
    rng = np.random.default_rng(0)
    x = rng.standard_normal((37, 29, 1)).astype(np.float32)
    g = rng.standard_normal((37, 29, 1)).astype(np.float32)
    w = rng.standard_normal(29).astype(np.float32)
    t = rng.integers(0, 29, 37)
    pick = np.ones(37, np.float32)

    def run():
        y = NS.softmax_forward(x, False)
        yn, mean, rstd = NN.row_norm_forward(x, 1, w, w, 1e-5, True)
        lse = NL.cross_entropy_forward(x[..., 0], t, pick, None, None)[1]
        return [y, NS.softmax_backward(g, y, False), yn, *NN.row_norm_backward(g, x, mean, rstd, 1, w, True, True),
                NA.gelu_forward(x, "none"), NA.gelu_backward(g, x, "none"), lse,
                NL.cross_entropy_backward(x[..., 0], lse, t, pick, pick, None, None)]

    monkeypatch.setattr(NA, "chunks", lambda *a: 1)
    _forced(monkeypatch, (NS, NN, NL), 1)
    one = run()
    monkeypatch.setattr(NA, "chunks", lambda *a: 2)
    _forced(monkeypatch, (NS, NN, NL), 2)
    two = run()
    for i, (a, b) in enumerate(zip(one, two)):
        if i in (4, 5):   # the row norm's weight and bias gradients
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(a, b, err_msg=str(i))


@pytest.mark.parametrize("env,spin,awake", [({}, "100000", True), ({"OMP_WAIT_POLICY": "passive"}, None, False),
                                            ({"GOMP_SPINCOUNT": "5"}, "5", True)])
def test_openmp_wait_setting(env, spin, awake):
    """The kernel layer asks OpenMP's idle threads to spin ~2.5 ms before sleeping, unless the user chose how
    they wait; the contention check learns which."""
    import os
    import subprocess
    import sys
    code = ("import os, ember; from ember.kernels._dispatch import numba_enabled; "
            "from ember.ops import _block_threads as BT; "
            "print(numba_enabled(), os.environ.get('GOMP_SPINCOUNT'), BT._awake[0])")
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         check=True).stdout.split()
    if out[0] != "True":
        pytest.skip("Numba kernels disabled")
    assert out[1:] == [str(spin), str(awake)]
