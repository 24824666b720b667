"""Worker processes: seeding, exceptions, killed workers, zombies, persistence, order, timeout, spawn, Ctrl-C."""
import gc
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.utils.data as E
from data_helpers import (ExitingDataset, FailingDataset, PidDataset, SeedReport, deadline, my_children,
                          proc_state, wait_gone, zombies_among)

HERE = Path(__file__).resolve().parent
SRC = HERE.parent.parent / "src"


def worker_pids(batches):
    return sorted({p for _, pids in batches for p in pids.tolist()})


# ---- seeding ---------------------------------------------------------------------------------

def expected_base_seed(seed):
    g = ember.Generator().manual_seed(seed)
    return ember.empty((), dtype=ember.int64).random_(generator=g).item()


def test_worker_seeding_follows_torch_scheme():
    from torch.utils.data._utils.worker import _generate_state as torch_generate_state
    loader = E.DataLoader(SeedReport(2), batch_size=1, num_workers=2, generator=ember.Generator().manual_seed(11))
    reports = {int(b["id"]): b for b in loader}
    base = expected_base_seed(11)
    assert set(reports) == {0, 1}
    for wid, r in reports.items():
        seed = base + wid
        assert int(r["seed"]) == seed
        # Python's random: seeded with base_seed + worker_id
        assert float(r["random"]) == random.Random(seed).random()
        # NumPy's legacy global generator: seeded with torch's 4-word state
        state = torch_generate_state(base, wid)
        assert float(r["numpy"]) == np.random.RandomState(state).rand()
        # ember: manual_seed(base_seed + worker_id)
        g = ember.Generator().manual_seed(seed)
        assert float(r["ember"]) == ember.rand(1, generator=g).item()


def test_worker_seeds_repeat_with_generator_and_change_per_epoch():
    def seeds(loader):
        return sorted(int(b["seed"]) for b in loader)
    a = seeds(E.DataLoader(SeedReport(2), batch_size=1, num_workers=2, generator=ember.Generator().manual_seed(3)))
    b = seeds(E.DataLoader(SeedReport(2), batch_size=1, num_workers=2, generator=ember.Generator().manual_seed(3)))
    assert a == b
    loader = E.DataLoader(SeedReport(2), batch_size=1, num_workers=2)
    assert seeds(loader) != seeds(loader)  # each epoch draws a new base seed
    assert sorted(int(b["seed"]) for b in E.DataLoader(SeedReport(2), batch_size=1)) == [-1, -1]


def test_numpy_generate_state_matches_torch():
    from torch.utils.data._utils.worker import _generate_state as torch_generate_state
    from ember.utils.data._utils.worker import _generate_state
    for base in (0, 1, 2 ** 32 - 1, 2 ** 32, 123456789012345, 2 ** 63 - 1):
        for wid in (0, 1, 7):
            assert _generate_state(base, wid) == torch_generate_state(base, wid)


# ---- exceptions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", [0, 2])
def test_worker_exception_reraised_with_traceback(workers):
    loader = E.DataLoader(FailingDataset(16, bad=5), batch_size=2, num_workers=workers)
    it = iter(loader)
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    with pytest.raises(ValueError) as err:
        next(it)
    msg = str(err.value)
    if workers:
        assert "Caught ValueError in DataLoader worker process" in msg
        assert "Original Traceback (most recent call last):" in msg
        assert "data_helpers.py" in msg and "__getitem__" in msg
        assert 'raise self.exc(f"bad sample {i}")' in msg
    assert "bad sample 5" in msg
    # the loader carries on with the next batch, as torch's does
    assert next(it).tolist() == [6, 7]
    del it


def test_worker_key_error_message_is_readable():
    it = iter(E.DataLoader(FailingDataset(4, bad=0, exc=KeyError), num_workers=1))
    with pytest.raises(KeyError) as err:
        next(it)
    text = str(err.value)
    assert "Caught KeyError in DataLoader worker process 0" in text
    assert "\\n" not in text  # printed as text, not as an escaped repr


def test_worker_init_fn_exception_reraised():
    it = iter(E.DataLoader(PidDataset(4), num_workers=1, worker_init_fn=_bad_init))
    with pytest.raises(ZeroDivisionError, match="in DataLoader worker process 0"):
        next(it)


def _bad_init(worker_id):
    1 / 0


def test_unpicklable_batch_becomes_an_error_not_a_hang():
    with deadline(20):
        it = iter(E.DataLoader(PidDataset(4), num_workers=1, collate_fn=_unpicklable))
        with pytest.raises(Exception, match="in DataLoader worker process 0"):
            next(it)


def _unpicklable(batch):
    return lambda: batch


# ---- workers that die -------------------------------------------------------------------------------

def _kill_one_and_expect_error(persistent=False, busy=True):
    loader = E.DataLoader(PidDataset(400, delay=0.002 if busy else 0.0), batch_size=4, num_workers=2,
                          persistent_workers=persistent)
    it = iter(loader)
    idx, pids = next(it)
    victim = pids.tolist()[0]
    if not busy:
        for _ in it:
            pass  # epoch over; the (persistent) workers sit idle
    os.kill(victim, signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(RuntimeError) as err:
        for _ in (it if busy else iter(loader)):
            pass
    elapsed = time.monotonic() - start
    msg = str(err.value)
    assert f"DataLoader worker (pid {victim}) is killed by signal: Killed" in msg
    assert "SIGKILL" in msg
    assert elapsed < 5.0, elapsed
    return loader, it, victim


def test_sigkilled_worker_raises_quickly_every_time():
    with deadline(120):
        for _ in range(25):
            loader, it, victim = _kill_one_and_expect_error()
            assert proc_state(victim) is None  # reaped, not a zombie
            del loader, it
        assert not zombies_among(my_children())


def test_sigkilled_idle_persistent_worker_raises_at_next_epoch():
    with deadline(60):
        for _ in range(5):
            loader, it, victim = _kill_one_and_expect_error(persistent=True, busy=False)
            # the broken iterator is replaced: the next epoch starts fresh workers
            assert len(list(loader)) == 100
            del loader, it
            gc.collect()
        assert not zombies_among(my_children())


def test_worker_exit_code_reported():
    with deadline(30):
        it = iter(E.DataLoader(ExitingDataset(16, bad=5, code=3), batch_size=2, num_workers=2))
        with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) exited unexpectedly with exit code 3"):
            for _ in it:
                pass


def test_other_signals_named():
    with deadline(30):
        for sig, text in ((signal.SIGTERM, "Terminated"), (signal.SIGUSR1, "User defined signal 1")):
            it = iter(E.DataLoader(PidDataset(400, delay=0.002), batch_size=4, num_workers=2))
            victim = next(it)[1].tolist()[0]
            os.kill(victim, sig)
            with pytest.raises(RuntimeError, match=f"killed by signal: {text}.*{signal.Signals(sig).name}"):
                for _ in it:
                    pass


# ---- cleanup ----------------------------------------------------------------------------------

def test_no_zombies_after_partial_epoch_and_gc():
    with deadline(30):
        loader = E.DataLoader(PidDataset(200), batch_size=2, num_workers=2)
        it = iter(loader)
        pids = worker_pids([next(it), next(it), next(it)])
        assert len(pids) == 2 and all(proc_state(p) in "RSD" for p in pids)
        del it
        gc.collect()
        assert wait_gone(pids, 5.0)
        assert not zombies_among(my_children())


def test_workers_exit_at_end_of_epoch():
    with deadline(30):
        batches = list(E.DataLoader(PidDataset(16), batch_size=2, num_workers=2))
        assert wait_gone(worker_pids(batches), 5.0)


def test_persistent_workers_are_reused_and_cleaned_up():
    with deadline(60):
        loader = E.DataLoader(PidDataset(40), batch_size=4, num_workers=2, persistent_workers=True)
        epochs = [list(loader) for _ in range(3)]
        pid_sets = [worker_pids(e) for e in epochs]
        assert pid_sets[0] == pid_sets[1] == pid_sets[2] and len(pid_sets[0]) == 2
        for e in epochs:
            assert sum((b[0].tolist() for b in e), []) == list(range(40))
        # an abandoned epoch: the next one still delivers exactly one full pass
        it = iter(loader)
        next(it)
        again = list(loader)
        assert sum((b[0].tolist() for b in again), []) == list(range(40))
        assert worker_pids(again) == pid_sets[0]
        del it, loader
        gc.collect()
        assert wait_gone(pid_sets[0], 5.0)


def test_persistent_iterable_dataset_restarts_each_epoch():
    from data_helpers import make_classes
    Range = make_classes(ember)["Range"]
    loader = E.DataLoader(Range(0, 10), batch_size=3, num_workers=2, persistent_workers=True)
    for _ in range(3):
        assert sorted(sum((b.tolist() for b in loader), [])) == list(range(10))


# ---- order, timeout, contexts ------------------------------------------------------------------------

def test_in_order_false_returns_ready_batches_first():
    with deadline(30):
        loader = E.DataLoader(_SlowFirst(), batch_size=1, num_workers=2, in_order=False)
        out = [b.item() for b in loader]
        assert sorted(out) == list(range(8))
        assert out[0] != 0  # batch 0 is slow, others overtake it
        ordered = [b.item() for b in E.DataLoader(_SlowFirst(), batch_size=1, num_workers=2)]
        assert ordered == list(range(8))


class _SlowFirst:
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 0:
            time.sleep(0.8)
        return i


def test_timeout_raises():
    with deadline(30):
        loader = E.DataLoader(PidDataset(4, delay=3.0), num_workers=1, timeout=0.3)
        it = iter(loader)
        start = time.monotonic()
        with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
            try:
                next(it)
            finally:
                elapsed = time.monotonic() - start
        assert 0.3 <= elapsed < 3.0
        pid = it._workers[0].pid
        del it
        gc.collect()  # a worker stuck in dataset code is terminated after a short grace period
        assert wait_gone([pid], 5.0)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_other_start_methods(method):
    with deadline(90):
        loader = E.DataLoader(PidDataset(12), batch_size=3, num_workers=2, multiprocessing_context=method)
        batches = list(loader)
        assert sum((b[0].tolist() for b in batches), []) == list(range(12))
        assert len(worker_pids(batches)) == 2


def test_ctrl_c_stops_main_and_workers():
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(SRC)!r}, {str(HERE)!r}]
        import ember.utils.data as E
        from data_helpers import PidDataset
        loader = E.DataLoader(PidDataset(100000, delay=0.005), batch_size=4, num_workers=2)
        for i, (idx, pids) in enumerate(loader):
            if i == 0:
                print("PIDS", *sorted(set(pids.tolist())), flush=True)
    """)
    for to_group in (True, False):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            line = proc.stdout.readline()
            assert line.startswith("PIDS"), (line, proc.stderr.read() if proc.poll() is not None else "")
            pids = [int(p) for p in line.split()[1:]]
            # a terminal's Ctrl-C reaches the whole process group; `kill -INT` only the main process
            if to_group:
                os.killpg(proc.pid, signal.SIGINT)
            else:
                os.kill(proc.pid, signal.SIGINT)
            _, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        assert "KeyboardInterrupt" in err
        assert proc.returncode != 0
        end = time.monotonic() + 5
        while time.monotonic() < end and any(proc_state(p) not in (None, "Z") for p in pids):
            time.sleep(0.02)
        assert all(proc_state(p) in (None, "Z") for p in pids)
        assert "Traceback" in err and "DataLoader worker" not in err  # no noise from the workers


def _memfd_count(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if "ember-batch" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                n += 1
        except OSError:
            pass
    return n


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memfd transport is Linux-only")
def test_shared_memory_slots_are_recycled_across_epochs():
    with deadline(60):
        loader = E.DataLoader(_BigSamples(), batch_size=8, num_workers=2, persistent_workers=True)
        counts = []
        for _ in range(4):
            batches = list(loader)
            assert [b[0, 0, 0].item() for b in batches] == [8.0 * i for i in range(len(batches))]
            pids = sorted(loader._iterator._workers[i].pid for i in range(2))
            counts.append([_memfd_count(p) for p in pids])
        # a few slots per worker (about 2 * prefetch_factor), not one per batch (40 here)
        assert all(1 <= c <= 6 for row in counts for c in row), counts


class _BigSamples:
    def __len__(self):
        return 160

    def __getitem__(self, i):
        return np.full((64, 64), i, np.float32)


def test_spawn_with_unpicklable_collate_fn_fails_cleanly():
    with deadline(60):
        before = set(my_children())
        loader = E.DataLoader(PidDataset(4), num_workers=2, multiprocessing_context="spawn",
                              collate_fn=lambda b: b)
        with pytest.warns(UserWarning, match="pickle error"):
            with pytest.raises(Exception, match="pickle|lambda"):
                iter(loader)
        gc.collect()
        assert wait_gone(set(my_children()) - before, 5.0)


def test_workers_cleaned_up_after_worker_exception():
    with deadline(30):
        it = iter(E.DataLoader(FailingDataset(64, bad=1), batch_size=1, num_workers=2))
        pids = [w.pid for w in it._workers]
        next(it)
        try:
            next(it)
        except ValueError:
            pass
        del it
        gc.collect()
        assert wait_gone(pids, 5.0)
