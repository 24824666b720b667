"""Shared helpers of the distributed tests: the worker script, a clean environment for child processes, free
ports, and the launcher."""
import os
import socket
import subprocess
import sys

import numpy as np

import _dist_worker as W

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(HERE, "_dist_worker.py")


def env():
    """The environment for child processes: ember's sources first, one BLAS thread, no inherited rendezvous."""
    e = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    e["PYTHONPATH"] = os.path.join(ROOT, "src") + os.pathsep + e.get("PYTHONPATH", "")
    for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "TORCHELASTIC_RUN_ID"):
        e.pop(k, None)
    return e


def free_port():
    """A TCP port that is free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(*args, timeout=120):
    """Run the launcher with ``args``; returns the CompletedProcess (output captured as text)."""
    return subprocess.run([sys.executable, "-m", "ember.distributed.run", *args], env=env(), capture_output=True,
                          text=True, timeout=timeout)


def run_ranks(tmp, nproc, *sections):
    """Run ``nproc`` ranks of the worker's ``sections``; returns each rank's saved arrays."""
    r = launch("--standalone", "--nproc-per-node", str(nproc), WORKER, str(tmp), *sections)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return [dict(np.load(tmp / f"rank{i}.npz")) for i in range(nproc)]


def expected_collectives(n):
    """What every rank (or the named one) must hold after ``_dist_worker.collectives``, computed with NumPy."""
    xs = [W.rank_input(r) for r in range(n)]
    e = {"all_reduce_SUM": sum(xs), "all_reduce_PRODUCT": np.prod(xs, axis=0), "all_reduce_MIN": np.min(xs, axis=0),
         "all_reduce_MAX": np.max(xs, axis=0), "all_reduce_AVG": sum(xs) / n, "all_reduce_async": sum(xs),
         "all_reduce_int64": sum(W.rank_input(r, dtype=np.int64) for r in range(n)),
         "all_reduce_view": sum(W.rank_input(r, (4, 3), np.float32).T for r in range(n)).T,
         "all_reduce_f16": sum(W.rank_input(r).astype(np.float16).astype(np.float32) for r in range(n)),
         "broadcast": xs[n - 1], "all_gather": np.stack(xs), "all_gather_into_tensor": np.concatenate(xs),
         "async_completed": True}
    per_rank = {
        "reduce_scatter": lambda r: sum(W.rank_input(q + 10 * r) for q in range(n)),
        "reduce_scatter_tensor": lambda r: sum(W.rank_input(q, (2 * n, 4)) for q in range(n))[2 * r:2 * r + 2],
        "scatter": lambda r: W.rank_input(r + 100),
        "all_to_all": lambda r: np.concatenate([np.full(q + 1, 10.0 * q + r) for q in range(n)]),
        "all_to_all_single": lambda r: np.array([10.0 * q + r for q in range(n)]),
        "ring": lambda r: np.full(3, float((r - 1) % n)),
        "broadcast_object": lambda r: np.array([1, 2]),
        "all_gather_object": lambda r: np.array([2 * q for q in range(n)]),
        "scatter_object": lambda r: np.array(r),
        "sub_group": lambda r: xs[0] + xs[n - 1] if r in (0, n - 1) else np.array(-1.0),
    }
    return e, per_rank


def check_collectives(results):
    """Assert that every rank's collective results (from ``_dist_worker.collectives``) are NumPy's."""
    n = len(results)
    everyone, per_rank = expected_collectives(n)
    for r, got in enumerate(results):
        assert int(got["world_size"]) == n
        for key, want in everyone.items():
            np.testing.assert_allclose(got[key], want, rtol=1e-6, err_msg=f"{key} on rank {r}")
        for key, want in per_rank.items():
            np.testing.assert_allclose(got[key], want(r), rtol=1e-12, err_msg=f"{key} on rank {r}")
        assert got["all_reduce_int64"].dtype == np.int64 and got["all_reduce_f16"].dtype == np.float16
    xs = [W.rank_input(r) for r in range(n)]
    np.testing.assert_array_equal(results[n - 1]["reduce"], sum(xs))
    np.testing.assert_array_equal(results[0]["gather"], np.stack(xs))
    np.testing.assert_array_equal(results[0]["gather_object"], np.arange(n))
    assert int(results[0]["recv_any_source"]) == 1
    np.testing.assert_array_equal(results[0]["recv_any_value"], [7, 8])
    assert int(results[n - 1]["sub_rank"]) == 1
