"""Sparse-layout benchmarks (issue 17): sparse @ dense with COO and CSR, forward + backward into the dense
operand and into the sparse values, and coalescing 1 M unsorted COO entries with duplicates.  A random graph,
float32, 64 features, as the issue's table."""
import numpy as np

F = 64


def _graph(n, nnz, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, n, (2, nnz)), rng.random(nnz).astype(np.float32),
            rng.standard_normal((n, F)).astype(np.float32))


def _mm_cases(lib, n, nnz):
    idx, vals, x = _graph(n, nnz)
    s = lib.sparse_coo_tensor(idx, lib.tensor(vals), (n, n)).coalesce()
    csr = s.to_sparse_csr()
    xt = lib.tensor(x)
    xg = lib.tensor(x).requires_grad_()

    def fwd_bwd_x():
        lib.sparse.mm(s, xg).sum().backward()
        xg.grad = None
    return (lambda: lib.sparse.mm(s, xt)), (lambda: lib.sparse.mm(csr, xt)), fwd_bwd_x


def _values_grad_case(lib, n, nnz):
    idx, vals, x = _graph(n, nnz, 1)
    v = lib.tensor(vals).requires_grad_()
    xt = lib.tensor(x)

    def run():
        lib.sparse.mm(lib.sparse_coo_tensor(idx, v, (n, n)), xt).sum().backward()
        v.grad = None
    return run


def _coalesce_case(lib):
    rng = np.random.default_rng(2)
    n, nnz = 100_000, 1_000_000
    idx = rng.integers(0, n, (2, nnz))   # ~1e-4 of the entries repeat a position
    idx[:, nnz // 2:] = idx[:, :nnz // 2]   # and half of them are duplicates of the other half
    s = lib.sparse_coo_tensor(idx, lib.tensor(rng.random(nnz).astype(np.float32)), (n, n))

    def run():
        s.clone().coalesce()   # a fresh uncoalesced copy each time
    return run


def cases():
    """Return ``[(name, ember_fn, torch_fn)]``."""
    import ember
    import torch
    e, t = _mm_cases(ember, 100_000, 1_000_000), _mm_cases(torch, 100_000, 1_000_000)
    out = [("sparse.mm COO, 100k nodes / 1M nnz", e[0], t[0]),
           ("sparse.mm CSR, 100k nodes / 1M nnz", e[1], t[1]),
           ("sparse.mm COO fwd+bwd into X, 100k / 1M", e[2], t[2])]
    for n, nnz, label in ((10_000, 100_000, "10k / 100k"), (30_000, 300_000, "30k / 300k")):
        out.append((f"sparse.mm fwd+bwd into values, {label}", _values_grad_case(ember, n, nnz),
                    _values_grad_case(torch, n, nnz)))
    out.append(("coalesce 1M unsorted COO with duplicates", _coalesce_case(ember), _coalesce_case(torch)))
    return out


def large_values_gradient():
    """The issue's 100k-node / 1M-nnz gradient into the sparse values, which PyTorch cannot run (it materialises
    a dense 100k x 100k gradient): ember's best time of 3 and its peak memory."""
    import resource
    import time
    import ember
    n, nnz = 100_000, 1_000_000
    run = _values_grad_case(ember, n, nnz)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    best = min(_timed(run, time) for _ in range(3))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sparse.mm fwd+bwd into values, 100k / 1M: {best * 1e3:.0f} ms, peak memory {peak:.0f} MB "
          f"({base:.0f} MB before the runs)")


def _timed(fn, time):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":   # python -m bench.bench_sparse
    large_values_gradient()
