"""Run every benchmark beside real PyTorch and print ember-vs-torch speed ratios.

Each ``bench/bench_*.py`` module exposes ``cases()`` -> a list of
``(name, ember_fn, torch_fn)``; each fn runs one repetition of the workload.
Both sides run alternately in one process, so machine noise hits both alike;
the reported time of each side is the median over rounds.  A ratio above 1
means ember is faster.

Usage: ``python -m bench [substring ...]`` (only cases whose name contains one of them).
"""
import importlib
import pkgutil
import statistics
import sys
import time
from pathlib import Path


def _time_once(fn, min_seconds=0.05):
    """Seconds per call of ``fn``, calling it enough times to fill ``min_seconds``."""
    n, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / n
        n *= 2 if elapsed < min_seconds / 4 else 1
        if elapsed >= min_seconds / 4:
            n = max(n, int(n * min_seconds / max(elapsed, 1e-9)) + 1)


def measure(ember_fn, torch_fn, rounds=5):
    """Median seconds per call for both functions, timed alternately."""
    ember_fn(), torch_fn()  # warm up
    e, t = [], []
    for _ in range(rounds):
        e.append(_time_once(ember_fn))
        t.append(_time_once(torch_fn))
    return statistics.median(e), statistics.median(t)


def _fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main(argv):
    import torch
    torch.set_num_threads(2)
    here = Path(__file__).parent
    filters = argv[1:]
    rows = []
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        for name, ember_fn, torch_fn in module.cases():
            if filters and not any(f in name for f in filters):
                continue
            e, t = measure(ember_fn, torch_fn)
            rows.append((name, e, t))
            print(f"{name:<48} ember {_fmt(e):>10}  torch {_fmt(t):>10}  ratio {t / e:6.2f}", flush=True)
    print("\n| benchmark | ember | torch | torch/ember (>1: ember faster) |")
    print("|---|---|---|---|")
    for name, e, t in rows:
        print(f"| {name} | {_fmt(e)} | {_fmt(t)} | {t / e:.2f} |")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent.parent))
    main(sys.argv)
