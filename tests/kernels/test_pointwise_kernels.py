"""The ReLU kernels (kernels/pointwise.py): compiled against the NumPy reference and PyTorch on special values
(-0.0 and NaN kept forward; an infinite or NaN incoming gradient gives 0 where the unit is off), on one chunk and
split over threads, in float32/float64; the op (functional, in-place, module) against PyTorch in every dtype it
takes, non-contiguous inputs, and float64 gradcheck."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import pointwise as P

SPECIAL = [-1.0, -0.0, 0.0, 2.0, np.nan, -np.inf, np.inf, 1e-30, -1e-30]
GRAD = [np.nan, np.inf, 1.0, np.nan, 3.0, -np.inf, 7.0, np.nan, 5.0]


def _same(a, b):
    """Equal values, NaN where NaN, and the same sign bits (-0.0 is not 0.0)."""
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


def _compiled():
    if not numba_enabled():
        pytest.skip("Numba kernels disabled")
    from ember.kernels import _numba_pointwise
    return _numba_pointwise


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_match_torch(dtype):
    x, g = np.array(SPECIAL, dtype), np.array(GRAD, dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.relu(xt)
    yt.backward(torch.tensor(g))
    impls = [(P.relu_forward_reference, P.relu_backward_reference), (P.relu_forward, P.relu_backward)]
    for fwd, bwd in impls:
        y = fwd(x)
        _same(y, yt.detach().numpy())
        _same(bwd(g, y), xt.grad.numpy())
        assert y.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 40_000, 200_003])
def test_compiled_equals_reference_on_one_chunk_and_split(dtype, n, monkeypatch):
    """Sizes below one chunk, at two, and an odd size over several threads' chunks; also with the chunk count
    forced to 1 and to 3 (the last chunk short)."""
    N = _compiled()
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    x[::97] = np.nan
    x[::89] = -0.0
    g = rng.standard_normal(n).astype(dtype)
    g[::83] = np.inf
    want_y, want_g = P.relu_forward_reference(x), P.relu_backward_reference(g, P.relu_forward_reference(x))
    _same(N.relu_forward(x), want_y)
    _same(N.relu_backward(g, want_y), want_g)
    for nch in (1, 3):
        y, gx = np.empty_like(x), np.empty_like(x)
        N._relu(x, y, nch)
        N._relu_backward(g, want_y, gx, nch)
        _same(y, want_y)
        _same(gx, want_g)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16", "int64", "int8"])
def test_op_matches_torch_in_every_dtype(dtype):
    """Non-float and half types, and a transposed (non-contiguous) input, go through the reference."""
    rng = np.random.default_rng(0)
    base = (rng.standard_normal((33, 70)) * 5).astype(np.float64)
    xt = torch.tensor(base).to(getattr(torch, dtype))
    xe = ember.tensor(base).to(getattr(ember, dtype))
    for e, t in ((xe, xt), (xe.T, xt.T), (xe[:, ::3], xt[:, ::3])):
        ye, yt = ember.relu(e), torch.relu(t)
        assert str(ye.dtype) == str(yt.dtype) and tuple(ye.shape) == tuple(yt.shape)
        np.testing.assert_array_equal(ye.float().numpy(), yt.float().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradients_in_place_and_module_match_torch(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 16, 32, 32))
    x[0, 0, 0, :4] = [np.nan, -0.0, 0.0, -np.inf]
    g = rng.standard_normal(x.shape)
    g[0, 0, 1, :3] = [np.inf, np.nan, -np.inf]
    results = []
    for lib in (ember, torch):
        xs = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
        ys = [lib.relu(xs), lib.nn.functional.relu(xs * 1, inplace=True), lib.nn.ReLU()(xs + 0)]
        sum(y * lib.tensor(g, dtype=getattr(lib, dtype)) for y in ys).sum().backward()
        results.append([y.detach().numpy() for y in ys] + [xs.grad.numpy()])
    for a, b in zip(*results):
        _same(a, b)


def test_gradcheck_float64():
    signs = np.where(np.arange(30) % 3, 1.0, -1.0).reshape(6, 5)     # no input at the kink
    x = ember.tensor(np.random.default_rng(2).uniform(0.1, 2, (6, 5)) * signs, dtype=ember.float64,
                     requires_grad=True)
    assert ember.autograd.gradcheck(ember.relu, (x,))
    assert ember.autograd.gradgradcheck(ember.relu, (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [1.0, -0.0, np.nan, -np.inf, 3.25])
@pytest.mark.parametrize("n", [1, 7, P.FILL_SPLIT + 3])
def test_fill_compiled_equals_reference(dtype, value, n):
    """The compiled fill writes every element (sign of zero and NaN kept), in one chunk and in uneven chunks."""
    N = _compiled()
    want = np.empty(n, dtype)
    P.fill_reference(want, dtype(value))
    got = np.full(n, 9, dtype)
    P.fill_large(got, value)
    _same(got, want)
    for nch in (1, 3):
        got = np.full(n, 9, dtype)
        N._fill(got, dtype(value), nch)
        _same(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool", "complex64", "bfloat16"])
def test_large_fills_match_torch(dtype):
    """ones / full / *_like / fill_ / zero_ on tensors above the split size, in every kind of dtype."""
    shape = (P.FILL_SPLIT // 100 + 1, 100)
    e, t = getattr(ember, dtype), getattr(torch, dtype)
    value = True if dtype == "bool" else 2
    pairs = [(ember.ones(shape, dtype=e), torch.ones(shape, dtype=t)),
             (ember.full(shape, value, dtype=e), torch.full(shape, value, dtype=t)),
             (ember.ones_like(ember.empty(shape, dtype=e)), torch.ones_like(torch.empty(shape, dtype=t))),
             (ember.zeros(shape, dtype=e).fill_(value), torch.zeros(shape, dtype=t).fill_(value)),
             (ember.ones(shape, dtype=e).fill_(ember.tensor(value)), torch.ones(shape, dtype=t).fill_(torch.tensor(value))),
             (ember.ones(shape, dtype=e).zero_(), torch.ones(shape, dtype=t).zero_())]
    plain = (lambda x: x.float()) if dtype == "bfloat16" else (lambda x: x)   # NumPy has no bfloat16
    for got, want in pairs:
        assert got.dtype == e and got.shape == want.shape
        np.testing.assert_array_equal(plain(got).numpy(), plain(want).numpy())


def test_large_fill_of_overlapping_view_raises_as_torch():
    """An expanded view (elements sharing memory) is refused with PyTorch's error, large or not; a transposed view
    (not contiguous) is filled through NumPy."""
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        ember.ones(1).expand(P.FILL_SPLIT + 1).fill_(3.0)
    x = ember.zeros(P.FILL_SPLIT // 64 + 1, 64)
    x.t().fill_(-0.0)
    assert np.signbit(x.numpy()).all()


def test_large_copy_is_not_a_fill():
    """copy_ into a large tensor writes the source's elements (the fill kernel takes one value only)."""
    src = np.random.default_rng(3).standard_normal((P.FILL_SPLIT // 100 + 1, 100)).astype(np.float32)
    x = ember.zeros(src.shape)
    x.copy_(ember.tensor(src))
    np.testing.assert_array_equal(x.numpy(), src)
    x[:] = ember.tensor(src[::-1].copy())
    np.testing.assert_array_equal(x.numpy(), src[::-1])
