"""The compiled block drivers of ops/conv.py (kernels/_numba_conv_blocks.py: a convolution's batch blocks in one
compiled call, shared between the threads of Numba's pool) against the blocks run as Python code (the path NumPy
references and other array types take) and against PyTorch: odd batch sizes and block counts, one to three chunks
(a chunk with no block included), with and without the forward's kept inputs, forward and both gradients."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.ops import conv as C

pytestmark = pytest.mark.skipif(not numba_enabled(), reason="the drivers are compiled kernels")


def _geom(n, cin, cout, size, k, stride, pad, groups=1):
    out = (size + 2 * pad - k) // stride + 1
    return C._Geom(2, (stride, stride), (pad, pad), (pad, pad), (1, 1), groups, (k, k), (size, size), (out, out),
                   cin, cout)


def _arrays(rng, g, n, dtype):
    x = rng.standard_normal((n, g.C) + g.in_sp).astype(dtype)
    w = (rng.standard_normal(g.w_shape) * 0.2).astype(dtype)
    y = rng.standard_normal((n, g.O) + g.out_sp).astype(dtype)
    b = rng.standard_normal(g.O).astype(dtype)
    return x, w, y, b


def _run(x, w, y, b, g, keep=False):
    """Forward (with bias) and both gradients through ``_k_F`` / ``_k_TG`` (the forward's inputs kept or not),
    and each gradient alone."""
    kept = [] if keep else None
    out = C._k_F(x, w, g, b, kept)
    gx, gw = C._k_TG(y, x, w, g, True, True, kept)
    return out, gx, gw, C._k_T(y, w, g), C._k_G(x, y, g)


def _run_kept(x, w, y, b, g):
    return _run(x, w, y, b, g, True)


def _run_transposed(x, w, y, b, g):
    """A transposed convolution's forward (``_k_T`` with bias: x and y swap places) and both its gradients
    (``_k_FG``: F(dz, w) and G(dz, y)), given dz = ``x``."""
    return C._k_T(y, w, g, np.resize(b, g.C)), *C._k_FG(x, y, w, g, True, True), C._k_FG(x, y, w, g, False, True)[1]


def _python_blocks(monkeypatch):
    monkeypatch.setattr(C, "_compiled", lambda a: None)


CASES = [  # n, cin, cout, size, k, stride, pad, groups, dtype
    (7, 8, 16, 9, 3, 1, 1, 1, np.float32),      # Winograd, tiles past the edge
    (5, 16, 8, 12, 3, 1, 0, 1, np.float32),     # Winograd, no padding
    (7, 8, 16, 10, 3, 2, 1, 1, np.float32),     # im2col, stride 2 (the rows layout)
    (5, 8, 16, 10, 1, 2, 0, 1, np.float32),     # 1x1 stride 2 (a ResNet shortcut): windows read where they are
    (3, 4, 6, 9, 1, 2, 1, 1, np.float32),       # ... with padding, odd size
    (4, 4, 6, 11, 2, 3, 2, 1, np.float64),      # 2x2 stride 3: windows read where they are, padding past the edge
    (3, 4, 6, 9, 3, 1, 1, 2, np.float64),       # groups, float64 (3x3 stride 1 stays on im2col)
    (5, 3, 4, 11, 5, 3, 2, 1, np.float64),      # stride 3, 5x5: col2im's pitch wider than the output
    (3, 4, 6, 9, 3, 2, 0, 2, np.float32),       # groups, no padding
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("nch", [1, 2, 3])
@pytest.mark.parametrize("run", [_run, _run_kept, _run_transposed], ids=["conv", "kept", "transposed"])
def test_driver_matches_python_blocks(monkeypatch, case, nch, run):
    """One image per block (5 or 7 blocks: runs of 2-3 per chunk) or all in one (a chunk with no block when nch
    > 1), compiled against the same blocks as Python code."""
    *shape, dtype = case
    g = _geom(*shape)
    rng = np.random.default_rng(sum(shape[:5]))
    x, w, y, b = _arrays(rng, g, shape[0], dtype)
    rel = 2e-6 if dtype == np.float32 else 1e-13   # sums over images in another order: relative to the largest
    for block_bytes in (1, 1 << 30):
        monkeypatch.setattr(C, "_BLOCK_BYTES", block_bytes)
        monkeypatch.setattr(C, "_driver_chunks", lambda nblocks: nch)
        got = run(x, w, y, b, g)
        with monkeypatch.context() as m:
            _python_blocks(m)
            want = run(x, w, y, b, g)
        for a, e in zip(got, want):
            assert a.dtype == dtype and a.shape == e.shape
            np.testing.assert_allclose(a, e, rtol=rel, atol=rel * np.abs(e).max())


def test_driver_runs(monkeypatch):
    """The compiled drivers are what runs for NumPy float arrays, with the chunk count ``_driver_chunks`` gives."""
    from ember.kernels import _numba_conv_blocks as D
    seen = []
    for name in ("wino_forward", "wino_backward", "im2col_forward", "im2col_backward"):
        monkeypatch.setattr(D, name, lambda *a, f=getattr(D, name), name=name: (seen.append((name, a[-1])), f(*a))[1])
    monkeypatch.setattr(C, "_driver_chunks", lambda nblocks: 2)
    for kind, stride in (("wino", 1), ("im2col", 2)):
        g = _geom(4, 8, 8, 8, 3, stride, 1)
        x, w, y, b = _arrays(np.random.default_rng(0), g, 4, np.float32)
        _run_kept(x, w, y, b, g)
        assert seen == [(f"{kind}_forward", 2)] + [(f"{kind}_backward", 2)] * 3
        seen.clear()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_driver_input_gradient_with_non_finite_weight(monkeypatch, dtype):
    """col2im's pitch padding columns are zeroed where the weight holds inf/nan (0 * inf there is nan, not 0)."""
    g = _geom(3, 3, 4, 11, 5, 3, 2)
    x, w, y, b = _arrays(np.random.default_rng(1), g, 3, dtype)
    w[1, 2, 0, 4], w[3, 0, 2, 2] = np.inf, np.nan
    monkeypatch.setattr(C, "_driver_chunks", lambda nblocks: 2)
    monkeypatch.setattr(C, "_BLOCK_BYTES", 1)
    with np.errstate(invalid="ignore"):
        got = C._k_T(y, w, g)
        _python_blocks(monkeypatch)
        want = C._k_T(y, w, g)
    assert np.isnan(want).any() and not np.isnan(want).all()
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("contiguous", [True, False])
def test_driver_gradients_match_torch(monkeypatch, case, contiguous):
    """Through the autograd ops (forward kept for the weight gradient) on two chunks, against torch; the input
    and weight also as transposed views."""
    n, cin, cout, size, k, stride, pad, groups, dtype = case
    monkeypatch.setattr(C, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(C, "_driver_chunks", lambda nblocks: min(2, nblocks))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, cin, size, size)).astype(dtype)
    w = (rng.standard_normal((cout, cin // groups, k, k)) * 0.2).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    res = []
    for lib in (torch, ember):
        if contiguous:
            xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
            xv, wv = xt, wt
        else:   # leaves holding the transposes, the convolution on transposed views of them
            xt, wt = (lib.tensor(np.ascontiguousarray(a.swapaxes(-1, -2)), requires_grad=True) for a in (x, w))
            bt = lib.tensor(b, requires_grad=True)
            xv, wv = xt.transpose(-1, -2), wt.transpose(-1, -2)
            assert not xv.is_contiguous()
        out = lib.nn.functional.conv2d(xv, wv, bt, stride=stride, padding=pad, groups=groups)
        out.backward(lib.tensor(np.cos(np.arange(out.numel())).astype(dtype).reshape(tuple(out.shape))))
        res.append([a.detach().numpy() for a in (out, xt.grad, wt.grad, bt.grad)])
    for want, got in zip(*res):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5 * np.abs(want).max())


def _window_geoms():
    """Geometries over kernels, strides, paddings (windows past every edge), dilations and odd sizes, 3 -> 2
    channels."""
    import itertools
    for h, w, k, s, p, d in itertools.product((5, 8, 9), (5, 10), (1, 2, 3), (1, 2, 3), (0, 1, 2), (1, 2)):
        ho, wo = ((size + 2 * p - d * (k - 1) - 1) // s + 1 for size in (h, w))
        if ho > 0 and wo > 0:
            yield C._Geom(2, (s, s), (p, p), (p, p), (d, d), 1, (k, k), (h, w), (ho, wo), 3, 2)


def test_im2col_gather_matches_reference():
    """The drivers' im2col for windows that skip most pixels (``_im2col_gather``, reading each window's pixels
    where they are) against the strided copy, over ``_window_geoms``."""
    from ember.kernels import conv_im2col as K
    from ember.kernels._numba_conv_im2col import _im2col_gather
    rng = np.random.default_rng(4)
    for g in _window_geoms():
        (h, w), (k, _), (s, _), (p, _), (d, _), (ho, wo) = g.in_sp, g.kernel, g.stride, g.lo, g.dilation, g.out_sp
        x = rng.standard_normal((2, 3, h, w))
        got = np.full((2, 3 * k * k, ho * wo), np.nan)
        _im2col_gather(x, k, k, s, s, p, p, d, d, ho, wo, got)
        np.testing.assert_array_equal(got, K.im2col_reference(x, g).reshape(got.shape))


def _conv_with_grads(lib, x, w, stride, gy, retain=False):
    """conv2d (padding 1) of leaves holding ``x`` / ``w`` and its gradients for ``gy``; the output's node too."""
    xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
    out = lib.nn.functional.conv2d(xt, wt, stride=stride, padding=1)
    grads = lib.autograd.grad(out, (xt, wt), lib.tensor(gy), retain_graph=retain)
    return out, [a.detach().numpy() for a in (out,) + grads]


@pytest.mark.parametrize("stride", [1, 2], ids=["winograd", "im2col"])
def test_kept_inputs_used_by_the_backward(stride):
    """The compiled forward keeps what it made of the input (Winograd tiles, im2col matrices) on its node, the
    backward uses and releases it, and the results match torch."""
    rng = np.random.default_rng(5)
    w = (rng.standard_normal((8, 8, 3, 3)) * 0.2).astype(np.float32)
    gy = rng.standard_normal((3, 8) + ((9, 9) if stride == 1 else (5, 5))).astype(np.float32)
    x = rng.standard_normal((3, 8, 9, 9)).astype(np.float32)
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    out = ember.nn.functional.conv2d(xt, wt, stride=stride, padding=1)
    assert out.grad_fn.kept[1].size > 0
    got = [a.detach().numpy() for a in (out,) + ember.autograd.grad(out, (xt, wt), ember.tensor(gy))]
    assert out.grad_fn.kept is None
    want = _conv_with_grads(torch, x, w, stride, gy)[1]
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5 * np.abs(e).max())


@pytest.mark.parametrize("stride", [1, 2], ids=["winograd", "im2col"])
def test_kept_inputs_second_backward(stride):
    """A graph's second backward (retain_graph) makes the forward's inputs again (the first released what the
    forward kept), and another forward in between changes nothing."""
    rng = np.random.default_rng(6)
    w = (rng.standard_normal((8, 8, 3, 3)) * 0.2).astype(np.float32)
    x, x2 = (rng.standard_normal((2, 8, 8, 8)).astype(np.float32) for _ in range(2))
    gy = rng.standard_normal((2, 8) + ((8, 8) if stride == 1 else (4, 4))).astype(np.float32)
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    out = ember.nn.functional.conv2d(xt, wt, stride=stride, padding=1)
    first = ember.autograd.grad(out, (xt, wt), ember.tensor(gy), retain_graph=True)
    _conv_with_grads(ember, x2, w, stride, gy)
    second = ember.autograd.grad(out, (xt, wt), ember.tensor(gy))
    want = _conv_with_grads(torch, x, w, stride, gy)[1][1:]
    for a, b, e in zip(first, second, want):
        np.testing.assert_allclose(a.numpy(), e, rtol=1e-4, atol=1e-5 * np.abs(e).max())
        np.testing.assert_array_equal(b.numpy(), a.numpy())


def test_col2im_scatter_matches_reference():
    """The drivers' col2im for windows that skip most pixels (``_col2im_scatter``, adding each window position's
    value where its pixel is) against the reference's sum over the windows, over ``_window_geoms`` with col2im's
    row pitch; what was in the output before is overwritten."""
    from ember.kernels import conv_im2col as K
    from ember.kernels._numba_conv_im2col import _col2im_scatter
    rng = np.random.default_rng(7)
    for g in _window_geoms():
        (k, _), (s, _), (p, _), (d, _), (ho, wo) = g.kernel, g.stride, g.lo, g.dilation, g.out_sp
        pitch = K.col_pitch(g)
        cols = rng.standard_normal((2, 3 * k * k, ho * pitch))
        got = np.full((2, 3) + g.in_sp, np.nan)
        _col2im_scatter(cols, k, k, s, s, p, p, d, d, ho, wo, pitch, got)
        want = np.empty_like(got)
        K.col2im_reference(cols, g, want)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


_CONV1D_ARGS = [dict(padding=2), dict(stride=3, dilation=2), dict(groups=2, padding=1)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("transposed,kw", [(False, kw) for kw in _CONV1D_ARGS + [dict(padding="same", dilation=3)]]
                         + [(True, kw) for kw in _CONV1D_ARGS], ids=str)   # no padding="same" transposed in torch
def test_conv1d_runs_as_2d_of_height_one(monkeypatch, transposed, dtype, kw):
    """1-D convolutions (and transposed ones) run through the 2-D drivers on height-1 views: values, both gradients
    and the bias gradient match torch, and the grad_fn is still the convolution's."""
    seen = []
    real = C._through_2d
    monkeypatch.setattr(C, "_through_2d", lambda g, a: real(g, a) if g.nd != 1 else seen.append(real(g, a)) or seen[-1])
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4, 23)).astype(dtype)
    groups = kw.get("groups", 1)
    w = (rng.standard_normal((4, 6 // groups, 5) if transposed else (6, 4 // groups, 5)) * 0.3).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    res = []
    for lib in (torch, ember):
        F = lib.nn.functional
        ts = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = F.conv_transpose1d(*ts, **kw) if transposed else F.conv1d(*ts, **kw)
        gy = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(dtype))
        res.append([out.detach().numpy(), *(a.numpy() for a in lib.autograd.grad(out, ts, gy)),
                    type(out.grad_fn).__name__])
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    for got, want in zip(res[1][:4], res[0][:4]):
        np.testing.assert_allclose(got, want, **tol)
    assert res[1][4] == res[0][4] == "ConvolutionBackward0"
    assert seen and all(seen)
