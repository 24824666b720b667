"""Distributed benchmarks, ember (MPI) beside PyTorch (gloo), each job started by its own launcher
(``python -m ember.distributed.run`` / ``python -m torch.distributed.run``):

- all-reduce of 1, 16 and 64 MB float32 on 2 ranks: time per call and bandwidth (size / time, GB/s);
- DDP scaling for the bench MLP (bench_nn's Linear/BN/ReLU/Dropout/LN/GELU, batch 128 per rank, SGD): samples
  per second with 1 rank and with 2 ranks (one BLAS thread per rank).

Multi-process jobs do not fit ``python -m bench``'s one-process cases, so this module has no ``cases()`` entries;
run it directly: ``python -m bench.bench_distributed [--reps N]``.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES_MB = (1, 16, 64)


def cases():
    """No single-process cases (see the module docstring)."""
    return []


def _lib(name):
    if name == "ember":
        import ember
        import ember.distributed as dist
        import ember.optim  # noqa: F401
        from ember.nn.parallel import DistributedDataParallel
        return ember, dist, DistributedDataParallel
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    return torch, dist, DistributedDataParallel


def _allreduce(L, dist, reps):
    """Seconds per all-reduce for each size (median over ``reps``)."""
    out = {}
    for mb in SIZES_MB:
        x = L.ones(mb * 2 ** 20 // 4, dtype=L.float32)
        dist.all_reduce(x)
        times = []
        for _ in range(reps):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(x)
            times.append(time.perf_counter() - start)
        out[f"{mb}"] = statistics.median(times)
    return out


def _ddp(L, dist, DDP, steps):
    """Seconds per DDP training step of the bench MLP, batch 128 per rank."""
    from bench.bench_nn import _mlp
    L.manual_seed(0)
    model = DDP(_mlp(L))
    opt = L.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    crit = L.nn.CrossEntropyLoss()
    rng = np.random.default_rng(dist.get_rank())
    x = L.tensor(rng.standard_normal((128, 784)).astype(np.float32))
    y = L.tensor(rng.integers(0, 10, 128))

    def step():
        opt.zero_grad()
        crit(model(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    dist.barrier()
    return (time.perf_counter() - start) / steps


def rank_main(lib, task, reps):
    """One rank: run ``task`` and, on rank 0, print its result as a ``RESULT {...}`` line."""
    sys.path.insert(0, str(ROOT))
    L, dist, DDP = _lib(lib)
    dist.init_process_group("gloo")
    result = _allreduce(L, dist, reps) if task == "allreduce" else _ddp(L, dist, DDP, reps)
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(lib, nproc, task, reps):
    """Run one job with ``lib``'s launcher; returns rank 0's result."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    launcher = "ember.distributed.run" if lib == "ember" else "torch.distributed.run"
    cmd = [sys.executable, "-m", launcher, "--nproc-per-node", str(nproc), "--master-port", str(_free_port()),
           "-m", "bench.bench_distributed", "--rank-of", lib, task, str(reps)]
    r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"{lib} {task} job failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return json.loads(lines[0][len("RESULT "):])


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=10, help="all-reduce repetitions / DDP steps")
    p.add_argument("--rank-of", nargs=3, metavar=("LIB", "TASK", "REPS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rank_of:
        lib, task, reps = args.rank_of
        return rank_main(lib, task, int(reps))
    print("| all-reduce, 2 ranks, float32 | ember (MPI) | torch (gloo) |")
    print("|---|---|---|")
    ar = {lib: launch(lib, 2, "allreduce", args.reps) for lib in ("ember", "torch")}
    for mb in SIZES_MB:
        cells = [f"{ar[lib][str(mb)] * 1e3:.2f} ms, {mb * 2 ** 20 / ar[lib][str(mb)] / 1e9:.2f} GB/s"
                 for lib in ("ember", "torch")]
        print(f"| {mb} MB | {cells[0]} | {cells[1]} |", flush=True)
    print("\n| DDP bench MLP, batch 128/rank | ember samples/s | torch samples/s |")
    print("|---|---|---|")
    speed = {}
    for nproc in (1, 2):
        for lib in ("ember", "torch"):
            speed[lib, nproc] = 128 * nproc / launch(lib, nproc, "ddp", max(args.reps, 20))
        print(f"| {nproc} rank{'s' if nproc > 1 else ''} | {speed['ember', nproc]:.0f} | {speed['torch', nproc]:.0f} |",
              flush=True)
    print(f"| scaling 2 vs 1 | {speed['ember', 2] / speed['ember', 1]:.2f}x | "
          f"{speed['torch', 2] / speed['torch', 1]:.2f}x |")


if __name__ == "__main__":
    main(sys.argv[1:])
