"""Run every benchmark beside real PyTorch and print ember-vs-torch speed ratios.

Each ``bench/bench_*.py`` module exposes ``cases()`` -> a list of ``(name, ember_fn, torch_fn)`` or
``(name, ember_fn, torch_fn, info)`` (see ``bench/_worker.py`` for ``info``); each fn runs one repetition of the
workload.

The sides run in separate worker processes (so that one library's idle worker threads never steal the cores
the other is timed on), and the parent asks them in turn, round after round, so machine noise hits both alike;
each side's time is the median over rounds.  A ratio above 1 means ember is faster.  Cases with a NumPy
twin are timed in a third process (plain NumPy, its own BLAS settings).  Peak memory of the cases marked for it
is measured afterwards, each case and side in a fresh process, so that one case's or library's peak never
shows in another's.  The load average is printed before and after: the machine is shared.

Usage: ``python -m bench [--no-memory] [substring ...]`` (only cases whose name contains one of them).
"""
import math
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from bench._worker import worker, memory_worker  # noqa: E402  (a module of its own, so spawned processes can import it)

ROUNDS = 5
SETTLE_SECONDS = 0.2  # lets the other side's spinning worker threads go to sleep before timing


def _fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _load():
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def _start(ctx, side, filters):
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=worker, args=(side, filters, child))  # not a daemon: data cases start DataLoader workers
    proc.start()
    child.close()   # a worker that dies then reads as EOF here instead of a hang
    return proc, parent


def _stop(sides):
    for proc, conn in sides.values():
        conn.send(None)
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()


def _time_cases(ctx, filters):
    """Time every case, the sides in turn, ROUNDS rounds; returns ``[(name, info, {side: seconds})]``."""
    sides = {side: _start(ctx, side, filters) for side in ("ember", "torch")}
    for side in ("ember", "torch"):
        print(sides[side][1].recv(), flush=True)
    cases = sides["ember"][1].recv()
    sides["torch"][1].recv()
    if any(info["numpy"] for _, info in cases):
        sides["numpy"] = _start(ctx, "numpy", filters)
        sides["numpy"][1].recv()  # its description: the same library as ember's
        sides["numpy"][1].recv()
    rows = []
    for index, (name, info) in enumerate(cases):
        order = ("ember", "torch", "numpy") if info["numpy"] else ("ember", "torch")
        times = {side: [] for side in order}
        for _ in range(ROUNDS):
            for side in order:
                time.sleep(SETTLE_SECONDS)
                sides[side][1].send(index)
                times[side].append(sides[side][1].recv())
        med = {side: statistics.median(ts) for side, ts in times.items()}
        rows.append((name, info, med))
        line = f"{name:<60} ember {_fmt(med['ember']):>10}  torch {_fmt(med['torch']):>10}  " \
               f"ratio {med['torch'] / med['ember']:6.2f}"
        if "numpy" in med:
            line += f"  numpy {_fmt(med['numpy']):>10}"
        print(line, flush=True)
    _stop(sides)
    return rows


def _memory(ctx, module, name):
    """Peak memory of case ``name`` for ember and torch: ``(MB above the resident set before, peak MB)``."""
    out = {}
    for side in ("ember", "torch"):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=memory_worker, args=(side, module, name, child))
        proc.start()
        child.close()   # the child's end lives in the child only: its exit then reads as EOF here
        try:
            got = parent.recv() if parent.poll(600) else None
        except EOFError:   # the child died (its traceback is on stderr)
            got = None
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
        out[side] = None if got is None else ((got[0] - got[1]) / 2 ** 20, got[0] / 2 ** 20)
    return out


def _mb(m):
    return "n/a" if m is None else f"+{m[0]:.0f} MB ({m[1]:.0f})"


def main(argv):
    memory = "--no-memory" not in argv
    filters = [a for a in argv[1:] if a != "--no-memory"]
    ctx = multiprocessing.get_context("fork")  # the parent imports neither library: each child starts clean
    print(_load(), f"({os.cpu_count()} CPUs)", flush=True)
    rows = _time_cases(ctx, filters)
    mem = {name: _memory(ctx, info["module"], name) for name, info, _ in rows if memory and info.get("memory")}
    print(_load(), flush=True)

    print("\n| benchmark | ember | torch | torch/ember (>1: ember faster) | step memory ember | step memory torch |")
    print("|---|---|---|---|---|---|")
    for name, info, med in rows:
        m = mem.get(name, {"ember": None, "torch": None})
        print(f"| {name} | {_fmt(med['ember'])} | {_fmt(med['torch'])} | {med['torch'] / med['ember']:.2f} | "
              f"{_mb(m['ember']) if name in mem else ''} | {_mb(m['torch']) if name in mem else ''} |")
    ratios = [med["torch"] / med["ember"] for _, _, med in rows]
    work = [med["torch"] / med["ember"] for _, info, med in rows if info.get("workload")]
    print(f"\ngeometric mean of torch/ember: issue-11 workloads {_geomean(work):.2f} ({len(work)} cases), "
          f"all cases {_geomean(ratios):.2f} ({len(ratios)} cases)")
    if mem:
        print("step memory: growth of the peak resident set over three calls (the first ones included: gradients, "
              "optimizer state, activations), in MB above the resident set after building the case's module, the "
              "peak itself in parentheses; each case and side in a fresh process")

    flops = [(name, info["flops"], med) for name, info, med in rows if info.get("flops")]
    if flops:
        print("\n| GEMM-bound case | ember GFLOP/s | torch GFLOP/s | numpy.matmul GFLOP/s | ember / numpy |")
        print("|---|---|---|---|---|")
        for name, f, med in flops:
            gf = {side: f / t / 1e9 for side, t in med.items()}
            np_cols = f"{gf['numpy']:.0f} | {gf['ember'] / gf['numpy']:.0%}" if "numpy" in gf else "| "
            print(f"| {name} | {gf['ember']:.0f} | {gf['torch']:.0f} | {np_cols} |")


if __name__ == "__main__":
    main(sys.argv)
