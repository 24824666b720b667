"""ember.distributed across real processes: the launcher starts 2 and 4 ranks of ``_dist_worker.py`` (MPI
underneath); collectives are checked against NumPy, DDP and SyncBatchNorm against one process on the combined
batch, and failures must surface (never hang)."""
import subprocess
import sys
import time

import numpy as np
import pytest

import _dist_worker as W
import ember
import ember.nn as nn
from dist_helpers import WORKER, check_collectives, env, free_port, run_ranks


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    return run_ranks(tmp_path_factory.mktemp("two"), 2)


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    return run_ranks(tmp_path_factory.mktemp("four"), 4, "collectives")


# ---------------------------------------------------------------- collectives vs NumPy
def test_collectives_two_ranks(two):
    check_collectives(two)


def test_collectives_four_ranks(four):
    check_collectives(four)


# ---------------------------------------------------------------- DDP vs one process on the combined batch
def one_process_grads(model, x, y, **kw):
    model.zero_grad(set_to_none=True)
    nn.functional.mse_loss(model(W.t(x), **kw), W.t(y)).backward()
    return {k: p.grad for k, p in model.named_parameters()}


def test_ddp_twenty_steps_equal_one_process(two):
    ember.manual_seed(0)
    model = W.Net().double()
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in W.batches(20, 4, 2):
        opt.zero_grad()
        nn.functional.mse_loss(model(W.t(x)), W.t(y)).backward()
        opt.step()
    for got in two:
        for k, v in model.state_dict().items():
            np.testing.assert_allclose(got[f"ddp.module.{k}"], v.numpy(), rtol=0, atol=1e-10, err_msg=k)


def test_ddp_state_dict_prefix_and_unused_error(two):
    ember.manual_seed(0)
    assert list(two[0]["state_dict_keys"]) == sorted("module." + k for k in W.Net().state_dict())
    assert str(two[0]["unfinished_error"]).startswith("Expected to have finished reduction in the prior iteration")


def test_no_sync_accumulates_then_averages(two):
    ember.manual_seed(0)
    model = W.Net().double()
    x, y = W.batches(1, 8, 2, seed=2)[0]
    total = 0
    for r in range(2):
        local = [one_process_grads(model, x[r * 8 + h * 4:r * 8 + h * 4 + 4], y[r * 8 + h * 4:r * 8 + h * 4 + 4])
                 ["fc1.weight"].numpy() for h in range(2)]
        np.testing.assert_allclose(two[r]["no_sync.local"], local[0], atol=1e-12)
        total = total + (local[0] + local[1]) / 2
    for got in two:
        np.testing.assert_allclose(got["no_sync.fc1"], total, atol=1e-12)


def test_find_unused_parameters(two):
    ember.manual_seed(0)
    model = W.Net().double()
    x, y = W.batches(1, 4, 2, seed=3)[0]
    g0 = one_process_grads(model, x[:4], y[:4], skip=True)     # rank 0 skips the branch
    g1 = one_process_grads(model, x[4:], y[4:], skip=False)
    for k in g1:
        want = ((g0[k].numpy() if g0[k] is not None else 0) + g1[k].numpy()) / 2
        for got in two:
            np.testing.assert_allclose(got[f"unused.{k}"], want, atol=1e-12, err_msg=k)
    both = [one_process_grads(model, x[r * 4:r * 4 + 4], y[r * 4:r * 4 + 4], skip=True) for r in range(2)]
    for got in two:
        assert bool(got["unused_all.extra_is_none"])
        np.testing.assert_allclose(got["unused_all.fc1"], (both[0]["fc1.weight"] + both[1]["fc1.weight"]).numpy() / 2,
                                   atol=1e-12)


def test_sync_batchnorm_equals_batchnorm_on_combined_batch(two):
    ember.manual_seed(0)
    bn = nn.BatchNorm2d(4).double()
    g = np.random.default_rng(5)
    x = g.standard_normal((6, 4, 2, 3)) * 3 + 1
    w = g.standard_normal((6, 4, 2, 3))
    xt = W.t(x).requires_grad_()
    for _ in range(2):
        y = bn(xt)
    (y * W.t(w)).sum().backward()
    np.testing.assert_allclose(np.concatenate([r["syncbn.y"] for r in two]), y.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(np.concatenate([r["syncbn.xgrad"] for r in two]), xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(two[0]["syncbn.wgrad"] + two[1]["syncbn.wgrad"], bn.weight.grad.numpy(), atol=1e-10)
    for r in two:
        np.testing.assert_allclose(r["syncbn.running_mean"], bn.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(r["syncbn.running_var"], bn.running_var.numpy(), atol=1e-12)


# ---------------------------------------------------------------- failures and other ways to start
def test_killed_rank_makes_the_other_fail_within_timeout():
    port = free_port()
    procs = [subprocess.Popen([sys.executable, WORKER, "--die", str(r), str(port)], env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (0, 1)]
    start = time.monotonic()
    out, err = procs[0].communicate(timeout=60)
    procs[1].wait(timeout=10)
    assert procs[1].returncode == -9
    assert procs[0].returncode == 3, out + err
    took = float(out.split("failed after ")[1].split(" s")[0])
    assert 1.9 < took < 5, out
    assert "timed out" in out and time.monotonic() - start < 30


def test_spawn_with_tcp_rendezvous(tmp_path):
    r = subprocess.run([sys.executable, WORKER, "--spawn", str(free_port()), str(tmp_path)], env=env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    for i in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"spawn{i}.npy"), W.rank_input(0) + W.rank_input(1))
