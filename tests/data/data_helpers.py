"""Datasets and helpers shared by the data tests (importable by spawned workers; no torch here)."""
import os
import random
import signal
import time
from contextlib import contextmanager

import numpy as np


def make_classes(lib):
    """Dataset classes built on ``lib.utils.data`` (ember or torch), keyed by name."""
    D = lib.utils.data

    class Squares(D.Dataset):
        def __init__(self, n=20):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            if not 0 <= i < self.n:
                raise IndexError(f"index {i} out of range")
            return np.full((2, 3), i * i, dtype=np.float32), i

    class Range(D.IterableDataset):
        """Yields start..end-1, split between workers by get_worker_info."""

        def __init__(self, start, end):
            self.start, self.end = start, end

        def __iter__(self):
            info = D.get_worker_info()
            lo, hi = self.start, self.end
            if info is not None:
                per = -(-(hi - lo) // info.num_workers)
                lo = self.start + info.id * per
                hi = min(lo + per, self.end)
            return iter(range(lo, hi))

        def __len__(self):
            return self.end - self.start

    return {"Squares": Squares, "Range": Range}


# ---- module-level datasets (picklable, so spawn can use them) -------------------------------

class PidDataset:
    """``ds[i] -> (i, worker pid)``, optionally sleeping per item."""

    def __init__(self, n=64, delay=0.0):
        self.n, self.delay = n, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.delay:
            time.sleep(self.delay)
        return i, os.getpid()


class FailingDataset:
    """Raises ValueError (or KeyError) at one index."""

    def __init__(self, n=16, bad=5, exc=ValueError):
        self.n, self.bad, self.exc = n, bad, exc

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc(f"bad sample {i}")
        return i


class ExitingDataset:
    """Calls ``os._exit(code)`` at one index (a worker dying without a signal)."""

    def __init__(self, n=16, bad=5, code=3):
        self.n, self.bad, self.code = n, bad, code

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            os._exit(self.code)
        return i


class SeedReport:
    """Each sample reports the worker's seeding: (worker id, seed, random, numpy, ember draws)."""

    def __init__(self, n=4):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        import ember
        import ember.utils.data as eud
        info = eud.get_worker_info()
        return {
            "id": -1 if info is None else info.id,
            "seed": -1 if info is None else info.seed,
            "random": random.random(),
            "numpy": float(np.random.rand()),
            "ember": float(ember.rand(1).item()) if hasattr(ember, "rand") else 0.0,
        }


def square(x):
    return x * x


@contextmanager
def deadline(seconds):
    """Fail (TimeoutError) instead of hanging if the block takes longer than ``seconds``."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def proc_state(pid):
    """The /proc state letter of ``pid`` ('Z' for a zombie), or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()[0]


def proc_ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(text.rsplit(")", 1)[1].split()[1])


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def my_children():
    """Pids whose parent is this process, from /proc (no psutil).

    multiprocessing's own long-lived helpers (resource tracker, fork server) are left out.
    """
    me = os.getpid()
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit() and proc_ppid(int(name)) == me:
            cmd = _cmdline(int(name))
            if "resource_tracker" in cmd or "forkserver" in cmd:
                continue
            out.append(int(name))
    return out


def zombies_among(pids):
    return [p for p in pids if proc_state(p) == "Z"]


def wait_gone(pids, timeout=5.0):
    """True once none of ``pids`` is a live child of this process."""
    me = os.getpid()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(proc_state(p) is None or proc_ppid(p) != me for p in pids):
            return True
        time.sleep(0.02)
    return False
