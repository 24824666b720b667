"""Run every benchmark beside real PyTorch and print ember-vs-torch speed ratios.

Each ``bench/bench_*.py`` module exposes ``cases()`` -> a list of
``(name, ember_fn, torch_fn)``; each fn runs one repetition of the workload.

The two sides run in two separate worker processes (so that one library's
idle worker threads never steal the cores the other is timed on), and the
parent asks them in turn, round after round, so machine noise hits both
alike; each side's time is the median over rounds.  A ratio above 1 means
ember is faster.

Usage: ``python -m bench [substring ...]`` (only cases whose name contains one of them).
"""
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from bench._worker import worker  # noqa: E402  (a module of its own, so spawned processes can import it)

ROUNDS = 5
SETTLE_SECONDS = 0.2  # lets the other side's spinning worker threads go to sleep before timing


def _fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main(argv):
    filters = argv[1:]
    ctx = multiprocessing.get_context("fork")  # the parent has imported neither library yet
    sides = {}
    for side in ("ember", "torch"):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker, args=(side, filters, child))  # not a daemon: the data cases start DataLoader workers
        proc.start()
        sides[side] = (proc, parent)
    names = sides["ember"][1].recv()
    sides["torch"][1].recv()
    rows = []
    for index, name in enumerate(names):
        times = {"ember": [], "torch": []}
        for _ in range(ROUNDS):
            for side in ("ember", "torch"):
                time.sleep(SETTLE_SECONDS)
                sides[side][1].send(index)
                times[side].append(sides[side][1].recv())
        e, t = statistics.median(times["ember"]), statistics.median(times["torch"])
        rows.append((name, e, t))
        print(f"{name:<48} ember {_fmt(e):>10}  torch {_fmt(t):>10}  ratio {t / e:6.2f}", flush=True)
    for proc, conn in sides.values():
        conn.send(None)
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
    print("\n| benchmark | ember | torch | torch/ember (>1: ember faster) |")
    print("|---|---|---|---|")
    for name, e, t in rows:
        print(f"| {name} | {_fmt(e)} | {_fmt(t)} | {t / e:.2f} |")


if __name__ == "__main__":
    main(sys.argv)
