"""The linear-layer kernels (kernels/linear.py): linear_rows compiled vs NumPy reference (row counts around the
weight rows taken in fours, no bias, NaN/inf), the layouts and dtypes it sends to the reference, F.linear /
nn.Linear on a few rows against PyTorch in float32/float64 (values and gradients), float16 and bfloat16, float64
gradcheck; column_sums (the bias gradient) vs its reference, and F.linear's gradients (every bias form) against
PyTorch and under create_graph."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import linear as L

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _args(rng, m, n, k, dtype, bias=True):
    x = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((n, k)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 2, 3, L.MAX_ROWS])
@pytest.mark.parametrize("n,k", [(1, 1), (7, 33), (10, 512), (513, 300)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_rows_compiled_matches_reference(dtype, m, n, k, bias):
    x, w, b = _args(np.random.default_rng(n + m), m, n, k, dtype, bias)
    assert (L.linear_rows.implementation(x) is not L.linear_rows.reference) == numba_enabled()
    y = L.linear_rows(x, w, b)
    assert y.shape == (m, n) and y.dtype == dtype
    np.testing.assert_allclose(y, L.linear_rows_reference(x, w, b), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 2, L.MAX_ROWS])
@pytest.mark.parametrize("n", [4, 9, 31, 512])
@pytest.mark.parametrize("nch", [2, 3])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_rows_split_over_weight_bands(dtype, m, n, nch, bias):
    """The compiled product split into bands of the weight's rows (whole fours but the last band) gives the
    reference's values, also where the bands are uneven or a band has no whole four."""
    if not numba_enabled():
        pytest.skip("the split is the compiled kernel's (the NumPy path runs the reference)")
    from ember.kernels import _numba_linear as N
    x, w, b = _args(np.random.default_rng(n * nch + m), m, n, 70, dtype, bias)
    y = np.full((m, n), np.nan, dtype)
    N._rows_chunks(x, w, x[0] if b is None else b, b is not None, y, nch)
    np.testing.assert_allclose(y, L.linear_rows_reference(x, w, b), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_rows_nonfinite(dtype):
    """A NaN or an infinity in an input row reaches every output of that row, as in BLAS; other rows stay finite."""
    x, w, b = _args(np.random.default_rng(0), 3, 9, 20, dtype)
    x[0, 5] = np.nan
    x[2, 0] = np.inf
    y = L.linear_rows(x, w, b)
    assert np.isnan(y[0]).all() and np.isfinite(y[1]).all() and not np.isfinite(y[2]).any()
    np.testing.assert_allclose(y[1], L.linear_rows_reference(x, w, b)[1], **TOL[dtype])


@pytest.mark.parametrize("case", ["strided rows", "strided columns", "transposed weight", "float16", "int64",
                                  "too many rows", "scalar bias"])
def test_linear_rows_declines_other_layouts(case):
    """Inputs outside the compiled layout go to the reference, and the result is still right."""
    rng = np.random.default_rng(1)
    x, w, b = _args(rng, 2, 6, 10, np.float32)
    if case == "strided rows":
        x = rng.standard_normal((4, 10)).astype(np.float32)[::2]
    elif case == "strided columns":
        x = rng.standard_normal((2, 20)).astype(np.float32)[:, ::2]
    elif case == "transposed weight":
        w = np.asfortranarray(w)
    elif case == "float16":
        x, w, b = x.astype(np.float16), w.astype(np.float16), b.astype(np.float16)
    elif case == "int64":
        x, w, b = (rng.integers(-5, 5, a.shape) for a in (x, w, b))
    elif case == "too many rows":
        x = rng.standard_normal((L.MAX_ROWS + 1, 10)).astype(np.float32)
    else:
        b = np.float32(0.5)
    accepted = case == "strided rows"   # rows apart but each contiguous: the kernel takes it
    assert L._accepts(x, w, b) == accepted
    np.testing.assert_allclose(L.linear_rows(x, w, b), x @ w.T + b, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 40), (2, 40), (5, 40), (2, 3, 40), (40,)])
@pytest.mark.parametrize("bias", [True, False])
def test_functional_linear_few_rows_matches_torch(dtype, shape, bias):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((30, 40)).astype(dtype)
    b = rng.standard_normal(30).astype(dtype)
    g = rng.standard_normal(shape[:-1] + (30,)).astype(dtype)
    res = []
    for lib in (torch, ember):
        ts = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = lib.nn.functional.linear(ts[0], ts[1], ts[2] if bias else None)
        y.backward(lib.tensor(g))
        res.append([y.detach().numpy()] + [t.grad.numpy() for t in ts[:2 + bias]])
    for got, want in zip(res[1], res[0]):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_functional_linear_few_rows_half_precision(dtype):
    """Half-precision inputs keep the BLAS path (product rounded to the dtype, then the bias added), as PyTorch."""
    rng = np.random.default_rng(3)
    x, w, b = _args(rng, 2, 16, 24, np.float32)
    want = torch.nn.functional.linear(*(torch.tensor(a).to(getattr(torch, dtype)) for a in (x, w, b)))
    got = ember.nn.functional.linear(*(ember.tensor(a).to(getattr(ember, dtype)) for a in (x, w, b)))
    assert got.dtype == getattr(ember, dtype)
    np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=2e-2, atol=2e-2)


def test_linear_module_few_rows_no_grad_matches_torch():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(300, 257), torch.nn.ReLU(), torch.nn.Linear(257, 10))
    em = ember.nn.Sequential(ember.nn.Linear(300, 257), ember.nn.ReLU(), ember.nn.Linear(257, 10))
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((5, 300)).astype(np.float32)
    with torch.no_grad(), ember.no_grad():
        want, got = tm(torch.tensor(x)), em(ember.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


def test_linear_few_rows_gradcheck():
    rng = np.random.default_rng(5)
    x, w, b = (ember.tensor(a, requires_grad=True) for a in _args(rng, 3, 5, 7, np.float64))
    assert ember.autograd.gradcheck(ember.nn.functional.linear, (x, w, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("M,N", [(1, 1), (3, 10), (128, 512), (1000, 7)])
def test_column_sums_compiled_matches_reference(dtype, M, N):
    g = (np.random.default_rng(M).standard_normal((M, N)) * 100).astype(dtype)
    assert (L.column_sums.implementation(g) is not L.column_sums.reference) == numba_enabled()
    s = L.column_sums(g)
    assert s.shape == (N,) and s.dtype == dtype
    np.testing.assert_allclose(s, L.column_sums_reference(g), rtol=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(s, g.astype(np.float64).sum(0), rtol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("bias_shape", [(6,), (1,), ()])
@pytest.mark.parametrize("shape", [(20, 9), (4, 5, 9), (0, 9)])
def test_linear_backward_matches_torch(bias_shape, shape):
    """The gradient of F.linear without create_graph (array path), every bias form PyTorch broadcasts."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((6, 9)).astype(np.float32)
    b = rng.standard_normal(bias_shape).astype(np.float32)
    g = rng.standard_normal(shape[:-1] + (6,)).astype(np.float32)
    res = []
    for lib in (torch, ember):
        ts = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        lib.nn.functional.linear(*ts).backward(lib.tensor(g))
        res.append([t.grad.numpy() for t in ts])
    for got, want in zip(res[1], res[0]):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_linear_gradgradcheck():
    """Under create_graph the gradient is recorded (second derivatives of x, w and b)."""
    rng = np.random.default_rng(7)
    x, w, b = (ember.tensor(a, requires_grad=True) for a in _args(rng, 12, 5, 7, np.float64))
    assert ember.autograd.gradgradcheck(ember.nn.functional.linear, (x, w, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, out", [((130, 50), 10), ((2, 70, 50), 16), ((64, 50), 3), ((65, 50), 17),
                                        ((200, 50), 1)])
@pytest.mark.parametrize("how", ["linear", "matmul"])
def test_few_columns_row_blocks_match_torch(dtype, shape, out, how):
    """Few result columns (2-16) on more than 64 rows: the product runs in 64-row blocks (ops/_block_threads.py);
    values and gradients of F.linear and of ``x @ w.mT`` as torch's, also for a last block shorter than the others
    and a strided input."""
    import ember.ops._block_threads as BT
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((out, shape[-1])).astype(dtype)
    b = rng.standard_normal(out).astype(dtype)
    g = rng.standard_normal(shape[:-1] + (out,)).astype(dtype)
    rows = int(np.prod(shape[:-1])) if how == "linear" or len(shape) == 2 else 0   # matmul keeps a 3-D batch
    blocked = 1 < out <= BT._FEW_COLUMNS and rows > BT._ROW_BLOCK
    calls = []
    real = BT._row_blocked
    BT._row_blocked = lambda *a: calls.append(1) or real(*a)
    try:
        for strided in (False, True):
            xs = np.repeat(x, 2, axis=-1)[..., ::2] if strided else x   # same values, columns 2 apart
            res = []
            for lib in (torch, ember):
                ts = [lib.tensor(a, requires_grad=True) for a in (xs, w, b)]
                y = lib.nn.functional.linear(*ts) if how == "linear" else ts[0] @ ts[1].mT + ts[2]
                y.backward(lib.tensor(g))
                res.append([y.detach().numpy()] + [t.grad.numpy() for t in ts])
            for got, want in zip(res[1], res[0]):
                np.testing.assert_allclose(got, want, **TOL[dtype])
    finally:
        BT._row_blocked = real
    assert bool(calls) == blocked
