"""The benchmark worker processes: build the cases, time one side on request, measure a case's peak memory.

A case is ``(name, ember_fn, torch_fn)`` or ``(name, ember_fn, torch_fn, info)``; ``info`` is a dict with any of
``workload`` (a row of issue 11's table: counted in the headline geometric mean), ``memory`` (measure the peak
memory of one call, ember and torch in child processes of their own), ``flops`` (floating-point operations per
call: GFLOP/s are printed) and ``numpy`` (the same work in plain NumPy, timed as a third side).
"""
import importlib
import os
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


def _load_cases(filters, module=None):
    """The cases whose name contains one of ``filters`` (all without filters), as ``(name, ember_fn, torch_fn,
    info)`` with the module's name in ``info["module"]``; from the ``bench_*`` module named ``module`` only, if
    given."""
    cases = []
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if info.name.startswith("bench_") and module in (None, info.name):
            for case in importlib.import_module(f"bench.{info.name}").cases():
                if not filters or any(f in case[0] for f in filters):
                    cases.append((*case[:3], {**(case[3] if len(case) == 4 else {}), "module": info.name}))
    return cases


def _setup(side):
    sys.path.insert(0, str(HERE.parent))
    if side == "ember":
        # what an ember-only program gets: ember chooses how OpenMP's idle threads wait (kernels/_dispatch.py) and
        # loads its OpenMP with its first parallel kernel, before torch loads its own copy here
        import ember
        ember.softmax(ember.ones(2048, 1024), -1)
    import torch
    torch.set_num_threads(2)


def describe(side):
    """One line naming the matrix-product library a side computes with, and the CPU kernels it picked.

    The GEMM-bound cases depend on it: NumPy's OpenBLAS (which ember's products call) honours
    ``OPENBLAS_CORETYPE``, so an environment that pins an older core runs ember and NumPy on narrower kernels than
    torch's MKL/oneDNN, which ignore that variable.
    """
    if side == "torch":
        import torch
        blas = next((part.split("=")[1] for part in torch.__config__.show().replace(",", " ").split()
                     if part.startswith("BLAS_INFO=")), "unknown")
        return f"torch {torch.__version__}: BLAS {blas}, CPU capability {torch.backends.cpu.get_cpu_capability()}"
    import numpy
    from threadpoolctl import threadpool_info
    numpy.ones((2, 2)) @ numpy.ones((2, 2))  # loads NumPy's BLAS if nothing has yet
    libs = [f"{i['internal_api']} {i['version']} ({i.get('architecture') or 'unknown'} kernels)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    pinned = os.environ.get("OPENBLAS_CORETYPE")
    return (f"{side}: NumPy {numpy.__version__}, BLAS " + ", ".join(libs or ["unknown"])
            + (f"; OPENBLAS_CORETYPE={pinned} is set in the environment" if pinned else ""))


def worker(side, filters, conn):
    """Build the cases and time this side's function of whichever case the parent names.

    First sends ``describe(side)``, then the case list as ``(name, info without functions)``; then answers each
    case index with the seconds per call (``None`` for a case without this side), until it receives ``None``.
    """
    _setup(side)
    conn.send(describe(side))
    cases = _load_cases(filters)
    if side == "numpy":
        # plain NumPy on its BLAS's own threads: building the cases may have run an ember kernel in this process,
        # and ember then holds BLAS to one thread (ops/_block_threads.pin_blas)
        from threadpoolctl import threadpool_limits
        threadpool_limits(2, user_api="blas")
    conn.send([(c[0], {**c[3], "numpy": "numpy" in c[3]}) for c in cases])
    fns = [c[1] if side == "ember" else c[2] if side == "torch" else c[3].get("numpy") for c in cases]
    while True:
        index = conn.recv()
        if index is None:
            return
        fns[index]()  # warm up
        conn.send(_time_once(fns[index]))


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status")


def memory_worker(side, module, name, conn):
    """Peak resident memory of case ``name``'s ``side`` function (from bench module ``module``), in a fresh
    process that builds only that module's cases.

    The kernel's high-water mark is reset to the resident set after the cases are built (Linux
    ``/proc/self/clear_refs``), then the function runs three times: the growth covers the activations, the
    gradients and the optimizer state a training step needs.  Sends ``(peak, resident_before)`` in bytes, or
    ``None`` where the kernel cannot reset the mark.
    """
    _setup(side)
    (case,) = [c for c in _load_cases([name], module) if c[0] == name]
    fn = case[1] if side == "ember" else case[2]
    try:
        before = _rss_bytes()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        for _ in range(3):
            fn()
        conn.send((_peak_rss_bytes(), before))
    except OSError:
        conn.send(None)
