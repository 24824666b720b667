"""ember.multiprocessing: the multiprocessing API, torch's extras, spawn, shared-memory tensors."""
import multiprocessing

import numpy as np
import pytest
import torch.multiprocessing as tmp

import ember
import ember.multiprocessing as emp
from data_helpers import deadline


def test_exports_everything_torch_multiprocessing_does():
    missing = [name for name in tmp.__all__ if not hasattr(emp, name)]
    assert missing == []
    for name in ("spawn", "start_processes", "ProcessContext", "ProcessRaisedException", "ProcessExitedException"):
        assert hasattr(emp, name)
    assert emp.get_all_start_methods() == multiprocessing.get_all_start_methods()


def test_sharing_strategy():
    assert emp.get_sharing_strategy() == tmp.get_sharing_strategy()
    assert emp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()
    emp.set_sharing_strategy("file_system")
    assert emp.get_sharing_strategy() == "file_system"
    emp.set_sharing_strategy("file_descriptor")
    with pytest.raises(AssertionError, match="invalid sharing strategy"):
        emp.set_sharing_strategy("nope")


def _ok(i, out_dir):
    with open(f"{out_dir}/{i}", "w") as f:
        f.write(str(i * 10))


def _fails(i):
    if i == 1:
        raise ValueError("process one failed")


def _dies(i):
    import os
    import signal
    if i == 0:
        os.kill(os.getpid(), signal.SIGKILL)


def test_spawn_runs_and_reports_failures(tmp_path):
    with deadline(120):
        emp.start_processes(_ok, args=(str(tmp_path),), nprocs=2, start_method="fork")
        assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["0", "10"]
        with pytest.raises(emp.ProcessRaisedException) as err:
            emp.start_processes(_fails, nprocs=2, start_method="fork")
        assert "process one failed" in str(err.value) and "Traceback" in str(err.value)
        assert err.value.error_index == 1
        with pytest.raises(emp.ProcessExitedException, match="process 0 terminated with signal SIGKILL") as err:
            emp.start_processes(_dies, nprocs=1, start_method="fork")
        assert err.value.signal_name == "SIGKILL" and err.value.exit_code == -9
        ctx = emp.spawn(_ok, args=(str(tmp_path),), nprocs=1, join=False)
        assert isinstance(ctx, emp.ProcessContext) and len(ctx.pids()) == 1
        while not ctx.join():
            pass


def test_shared_memory_tensor_is_shared_across_processes():
    with deadline(60):
        t = ember.from_numpy(np.zeros((3, 4), np.float32))
        emp.share_memory_(t)
        assert emp.is_shared(t)
        ctx = emp.get_context("spawn")
        q = ctx.Queue()
        p = ctx.Process(target=_set_in_child, args=(t, q))
        p.start()
        p.join(50)
        assert p.exitcode == 0
        assert q.get(timeout=5) == "done"
        np.testing.assert_array_equal(t.numpy(), np.full((3, 4), 7, np.float32))


def _set_in_child(t, q):
    t.numpy()[...] = 7
    q.put("done")


def test_shared_tensor_through_queue_keeps_view_geometry():
    with deadline(60):
        base = ember.from_numpy(np.arange(12, dtype=np.int64))
        emp.share_memory_(base)
        ctx = emp.get_context("fork")
        q_in, q_out = ctx.Queue(), ctx.Queue()
        p = ctx.Process(target=_echo_sum, args=(q_in, q_out))
        p.start()
        q_in.put(base)
        assert q_out.get(timeout=30) == 66
        p.join(30)
        assert base.numpy()[0] == -1  # the child wrote into the same memory


def _echo_sum(q_in, q_out):
    t = q_in.get()
    t.numpy()[0] = -1
    q_out.put(int(t.numpy()[1:].sum()))


def test_unshared_tensor_is_copied():
    with deadline(60):
        t = ember.from_numpy(np.zeros(3, np.float32))
        assert not emp.is_shared(t)
        ctx = emp.get_context("fork")
        q_in, q_out = ctx.Queue(), ctx.Queue()
        p = ctx.Process(target=_echo_sum, args=(q_in, q_out))
        p.start()
        q_in.put(t)
        assert q_out.get(timeout=30) == 0
        p.join(30)
        assert t.numpy()[0] == 0  # the child's write went to its own copy
