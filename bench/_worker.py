"""The benchmark worker process: builds the cases and times one side (ember or torch) on request."""
import importlib
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def _time_once(fn, min_seconds=0.05):
    """Seconds per call of ``fn``, calling it enough times to fill ``min_seconds``."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / n
        n = max(n * 2, int(n * min_seconds / max(elapsed, 1e-9)) + 1)


def _load_cases(filters):
    cases = []
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"bench.{info.name}")
            cases += [c for c in module.cases() if not filters or any(f in c[0] for f in filters)]
    return cases


def worker(side, filters, conn):
    """Build the cases and time this side's function of whichever case the parent names."""
    sys.path.insert(0, str(HERE.parent))
    import torch
    torch.set_num_threads(2)
    cases = _load_cases(filters)
    conn.send([c[0] for c in cases])
    fns = [c[1] if side == "ember" else c[2] for c in cases]
    while True:
        index = conn.recv()
        if index is None:
            return
        fns[index]()  # warm up
        conn.send(_time_once(fns[index]))


