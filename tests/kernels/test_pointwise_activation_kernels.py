"""The sigmoid, tanh, SiLU, leaky_relu, hardswish and hardsigmoid kernels (kernels/activations.py): compiled
against the NumPy reference on one chunk and split over threads, against PyTorch on special values (signed zeros,
infinities, NaN, saturation, float32 subnormals, infinite and NaN gradients) and on a dense grid (float32 within a
few ulp, float64 to 1e-14); the ops (functional, Tensor method, in-place, nn module) against PyTorch in
float32/float64/bfloat16/float16 and on non-contiguous inputs, and float64 gradcheck."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import activations as A
from ember.kernels import numba_enabled

NAMES = ["sigmoid", "tanh", "silu", "leaky_relu", "hardswish", "hardsigmoid", "elu", "selu", "celu", "softplus", "mish"]
_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0)
KERNEL = {"selu": "elu", "celu": "elu"}   # the kernel an op runs on
SAVES_OUTPUT = {"sigmoid", "tanh"}   # the others' backward takes the forward's input
NUMPY_FORWARD = {"tanh"}   # no compiled forward: NumPy's tanh gives PyTorch's bits (kernels/activations.py)
# the kernels' parameters after the arrays, and PyTorch's function's (celu's backward takes 1 / float32(alpha))
PARAMS = {"leaky_relu": (0.2,), "elu": (1.5, 1.0, 1.0), "selu": _SELU, "celu": (0.7, 1.0, 1 / 0.7),
          "softplus": (1.5, 10.0)}
TORCH_PARAMS = {"leaky_relu": (0.2,), "elu": (1.5,), "selu": (), "celu": (0.7,), "softplus": (1.5, 10.0)}
BACKWARD_PARAMS = dict(PARAMS, celu=(0.7, 1.0, 1 / float(np.float32(0.7))))
SPECIAL = [-np.inf, -1000.0, -100.0, -90.0, -88.5, -87.5, -20.0, -1.0, -1e-40, -1e-30, -0.0, 0.0, 1e-40, 1e-30, 0.5,
           0.625, 1.0, 9.0, 20.0, 88.5, 90.0, 1000.0, np.inf, np.nan]
GRID = np.concatenate([np.linspace(-30, 30, 60001), np.geomspace(1e-8, 1, 2001), -np.geomspace(1e-8, 1, 2001)])


def _torch(name, x, g):
    """PyTorch's forward and input gradient of ``name`` at array ``x`` for the incoming gradient ``g``."""
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(torch.nn.functional, name)(xt, *TORCH_PARAMS.get(name, ()))
    yt.backward(torch.tensor(g))
    return yt.detach().numpy(), xt.grad.numpy()


def _impls(name):
    """(forward, backward) pairs: the reference, and the compiled kernel where Numba runs."""
    k = KERNEL.get(name, name)
    ref = (getattr(A, k + "_forward_reference"), getattr(A, k + "_backward_reference"))
    return [ref] + [_dispatching(name)] * numba_enabled()


def _dispatching(name):
    """The (forward, backward) kernels ``name`` runs on (compiled where Numba runs and accepts the input)."""
    k = KERNEL.get(name, name)
    forward = k + ("_forward_reference" if name in NUMPY_FORWARD else "_forward")
    return getattr(A, forward), getattr(A, k + "_backward")


def _run(fwd, bwd, name, x, g):
    y = fwd(x, *PARAMS.get(name, ()))
    return y, bwd(g, y if name in SAVES_OUTPUT else x, *BACKWARD_PARAMS.get(name, ()))


def _same(got, want):
    """Equal values, NaN where NaN, and the same sign bits."""
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got[got == got]), np.signbit(want[want == want]))


def _compiled():
    if not numba_enabled():
        pytest.skip("Numba kernels disabled")
    from ember.kernels import _numba_activations
    return _numba_activations


def _ulps(got, want):
    """Distance in units of float32's last place, at ``want``'s magnitude (the smallest normal's below it)."""
    scale = np.maximum(np.abs(want.astype(np.float64)), np.finfo(np.float32).tiny)
    return np.abs(got.astype(np.float64) - want.astype(np.float64)) / (scale * np.finfo(np.float32).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_special_values_match_torch(name, dtype):
    """PyTorch's values at the special points, bit for bit where the result is exact (0, +-1, +-inf, NaN, a
    saturated or underflowed value, the sign of a zero), else within float32's 4 ulp, float64's
    1e-14 (the gradients: also absolute, of y's resolution).  Two differences the NumPy reference keeps, where
    only the compiled kernels are PyTorch's: its SiLU (x * sigmoid(x) through exp(-|x|)) gives x * exp(x), not -0.0,
    where float32's exp(-x) overflows; its ELU family gives 0.0, not -0.0, at -0.0."""
    x = np.array(SPECIAL, dtype)
    g = np.linspace(0.5, 2, x.size).astype(dtype)
    want = _torch(name, x, g)
    exact = np.isin(x, [-np.inf, np.inf, -1000.0, 1000.0, -0.0, 0.0]) | np.isnan(x)
    # the gradients' 1 - y and 1 - y^2 cancel near saturation, in PyTorch too: absolute error at y's resolution
    eps = np.finfo(dtype).eps
    rtol = 4 * eps if dtype == np.float32 else 1e-14   # tanh64's series: ~12 ulp
    tols = [dict(rtol=rtol, atol=0), dict(rtol=rtol, atol=8 * eps)]
    differs = np.zeros(x.size, bool)   # where the reference is not PyTorch's
    if name == "silu" and dtype == np.float32:
        differs = np.isin(x, [-100.0, -90.0])
    elif KERNEL.get(name, name) == "elu":
        differs = (x == 0) & np.signbit(x)
    for k, (fwd, bwd) in enumerate(_impls(name)):
        keep = ~differs if k == 0 else np.ones(x.size, bool)
        for got, w, tol in zip(_run(fwd, bwd, name, x, g), want, tols):
            assert got.dtype == dtype
            got, w = got[keep], w[keep]
            _same(got[exact[keep]], w[exact[keep]])
            np.testing.assert_allclose(got, w, **tol)


@pytest.mark.parametrize("name", NAMES)
def test_float32_within_a_few_ulp_of_torch(name):
    """On a dense grid: the forward within 4 float32 ulp of PyTorch's (both round float32 arithmetic); the
    backward within 4 ulp of the result's magnitude, or of the gradient's factor where 1 - y^2 or 1 - y cancels
    (as in PyTorch's own)."""
    x = GRID.astype(np.float32)
    g = np.ones_like(x)
    (y_t, d_t) = _torch(name, x, g)
    y, d = _run(*_dispatching(name), name, x, g)
    assert _ulps(y, y_t).max() <= 4
    # the gradient's cancellation: (1 - y^2) or (1 - y) loses the ulps of y relative to the result
    scale = np.maximum(np.abs(d_t), np.abs(y_t) * (2 if name == "tanh" else 1) * (np.abs(x) > 0.5))
    assert (np.abs(d.astype(np.float64) - d_t) / (np.maximum(scale, 1e-30) * np.finfo(np.float32).eps)).max() <= 8


@pytest.mark.parametrize("name", NAMES)
def test_float64_matches_torch(name):
    x = GRID
    g = np.ones_like(x)
    y_t, d_t = _torch(name, x, g)
    for fwd, bwd in _impls(name):
        y, d = _run(fwd, bwd, name, x, g)
        np.testing.assert_allclose(y, y_t, rtol=1e-14, atol=1e-300)
        # 1 - y^2 and 1 - y are computed from y in both libraries: absolute error at y's magnitude
        np.testing.assert_allclose(d, d_t, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [1, 7, 70_001, 300_007])
def test_compiled_matches_reference_on_one_chunk_and_split(name, dtype, n):
    """The compiled kernel against the reference: through the dispatcher (which splits the larger sizes over the
    pool where it has 2+ threads), and with the chunk count forced to 1 and to 3 (the last chunk short)."""
    N = _compiled()
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 6).astype(dtype)
    x[::97] = np.nan
    x[::89] = -0.0
    g = rng.standard_normal(n).astype(dtype)
    fr, br = _impls(name)[0]
    want_y, want_g = _run(fr, br, name, x, g)
    saved = want_y if name in SAVES_OUTPUT else x
    p, pb = N._param(PARAMS.get(name, ())), N._param(BACKWARD_PARAMS.get(name, ()))
    # 1 - y^2 cancels in the saturated tanh's gradient (|g| < 5): absolute error of 1's ulps times |g|
    tol = dict(rtol=3e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-14, atol=4e-15)
    kind = getattr(N, KERNEL.get(name, name).upper())
    for nch in (None, 1, 3):
        if nch is None:
            y, gx = _run(*_dispatching(name), name, x, g)
        else:
            y, gx = np.empty_like(x), np.empty_like(x)
            if name in NUMPY_FORWARD:
                y[...] = fr(x)
            else:
                N._fwd(x, y, kind, p, nch)
            N._bwd(g, saved, gx, kind, pb, nch)
        assert y.dtype == dtype and gx.dtype == dtype
        np.testing.assert_allclose(y, want_y, **tol)
        np.testing.assert_allclose(gx, want_g, **tol)
        if nch is not None and nch > 1:   # the split gives the one-chunk result's bits
            y1, g1 = np.empty_like(x), np.empty_like(x)
            if name in NUMPY_FORWARD:
                y1[...] = fr(x)
            else:
                N._fwd(x, y1, kind, p, 1)
            N._bwd(g, saved, g1, kind, pb, 1)
            _same(y, y1)
            _same(gx, g1)


# the op's forms: (name, a function of (library, tensor))
FORMS = [
    ("sigmoid", lambda L, t: L.sigmoid(t)), ("sigmoid", lambda L, t: t.sigmoid()),
    ("sigmoid", lambda L, t: L.nn.Sigmoid()(t)), ("sigmoid", lambda L, t: L.nn.functional.sigmoid(t)),
    ("tanh", lambda L, t: L.tanh(t)), ("tanh", lambda L, t: t.tanh()), ("tanh", lambda L, t: L.nn.Tanh()(t)),
    ("silu", lambda L, t: L.nn.functional.silu(t)), ("silu", lambda L, t: L.nn.SiLU()(t)),
    ("leaky_relu", lambda L, t: L.nn.functional.leaky_relu(t)), ("leaky_relu", lambda L, t: L.nn.LeakyReLU(0.3)(t)),
    ("hardswish", lambda L, t: L.nn.functional.hardswish(t)), ("hardswish", lambda L, t: L.nn.Hardswish()(t)),
    ("hardsigmoid", lambda L, t: L.nn.functional.hardsigmoid(t)), ("hardsigmoid", lambda L, t: L.nn.Hardsigmoid()(t)),
    ("elu", lambda L, t: L.nn.functional.elu(t)), ("elu", lambda L, t: L.nn.ELU(0.5)(t)),
    ("selu", lambda L, t: L.selu(t)), ("selu", lambda L, t: L.nn.SELU()(t)),
    ("celu", lambda L, t: L.nn.functional.celu(t, 0.7)), ("celu", lambda L, t: L.nn.CELU(1.3)(t)),
    ("softplus", lambda L, t: L.nn.functional.softplus(t)), ("softplus", lambda L, t: L.nn.Softplus(2.0, 5.0)(t)),
    ("mish", lambda L, t: L.nn.functional.mish(t)), ("mish", lambda L, t: L.nn.Mish()(t)),
]
# the piecewise-linear ones' second derivative is 0 or their kinks' deltas
SMOOTH = {"sigmoid", "tanh", "silu", "elu", "selu", "celu", "softplus", "mish"}
INPLACE = [
    ("sigmoid", lambda L, t: t.sigmoid_()), ("sigmoid", lambda L, t: L.sigmoid_(t)),
    ("tanh", lambda L, t: t.tanh_()), ("tanh", lambda L, t: L.tanh_(t)),
    ("silu", lambda L, t: L.nn.functional.silu(t, inplace=True)), ("silu", lambda L, t: L.nn.SiLU(inplace=True)(t)),
    ("leaky_relu", lambda L, t: L.nn.functional.leaky_relu_(t, 0.2)),
    ("leaky_relu", lambda L, t: L.nn.LeakyReLU(0.1, inplace=True)(t)),
    ("hardswish", lambda L, t: L.nn.Hardswish(inplace=True)(t)),
    ("hardsigmoid", lambda L, t: L.nn.functional.hardsigmoid(t, inplace=True)),
    ("elu", lambda L, t: L.nn.functional.elu(t, 0.8, inplace=True)), ("elu", lambda L, t: L.nn.functional.elu_(t)),
    ("selu", lambda L, t: L.nn.SELU(inplace=True)(t)),
    ("mish", lambda L, t: L.nn.functional.mish(t, inplace=True)), ("mish", lambda L, t: L.nn.Mish(inplace=True)(t)),
]
TOL = {"float32": dict(rtol=4e-6, atol=4e-7), "float64": dict(rtol=1e-13, atol=1e-15),
       "bfloat16": dict(rtol=1e-2, atol=1e-2), "float16": dict(rtol=2e-3, atol=1e-3)}
# the gradients: 1 - y^2 and 1 - y cancel near saturation (in PyTorch too), so an ulp of y is an absolute error of
# an ulp of 1 times |g| (up to ~4.5 here); the half types' derivatives are rounded to the half type op by op (as
# before the kernels; PyTorch rounds once, from float32)
GRAD_TOL = {"float32": dict(rtol=4e-6, atol=2e-6), "float64": dict(rtol=1e-13, atol=4e-15),
            "bfloat16": dict(rtol=3e-2, atol=3e-2), "float16": dict(rtol=5e-3, atol=4e-3)}


def _as_np(t):
    """A tensor of either library as a NumPy array (the half types widened to float32)."""
    return t.detach().float().numpy() if str(t.dtype) in ("torch.bfloat16", "torch.float16") else t.detach().numpy()


@pytest.mark.parametrize("dtype", list(TOL))
@pytest.mark.parametrize("form", range(len(FORMS)))
def test_op_forms_match_torch(form, dtype):
    """Each form's forward and gradient against PyTorch, on a large contiguous input (the kernel, split), a
    transposed and a strided view (the reference), in every float dtype."""
    name, fn = FORMS[form]
    base = np.random.default_rng(form).standard_normal((300, 700)) * 5
    g = np.random.default_rng(99).standard_normal((300, 700))
    for view in (lambda t: t, lambda t: t.T, lambda t: t[:, ::3]):
        res = []
        for L in (torch, ember):
            x = L.tensor(base).to(getattr(L, dtype)).requires_grad_()
            xv = view(x)
            y = fn(L, xv)
            y.backward(view(L.tensor(g).to(getattr(L, dtype))))
            res.append((y, x.grad))
        (yt, gt), (ye, ge) = res
        assert str(ye.dtype) == str(yt.dtype) and tuple(ye.shape) == tuple(yt.shape)
        np.testing.assert_allclose(_as_np(ye), _as_np(yt), **TOL[dtype])
        np.testing.assert_allclose(_as_np(ge), _as_np(gt), **GRAD_TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", range(len(INPLACE)))
def test_inplace_forms_match_torch(form, dtype):
    """In place on a non-leaf (the gradient then comes from the overwritten output or the saved input)."""
    name, fn = INPLACE[form]
    base = np.random.default_rng(form).standard_normal((257, 513)) * 5
    res = []
    for L in (torch, ember):
        x = L.tensor(base).to(getattr(L, dtype)).requires_grad_()
        h = x * 1
        y = fn(L, h)
        assert y is h
        (y * y).sum().backward()
        res.append((y, x.grad))
    (yt, gt), (ye, ge) = res
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(ge.numpy(), gt.numpy(), **TOL[dtype])


@pytest.mark.parametrize("form", range(len(FORMS)))
def test_gradcheck_float64(form):
    name, fn = FORMS[form]
    x = ember.tensor(np.random.default_rng(3).standard_normal(40) * 3, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: fn(ember, a), (x,))
    if name in SMOOTH:
        assert ember.autograd.gradgradcheck(lambda a: fn(ember, a), (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["leaky_relu", "hardswish", "hardsigmoid"])
def test_piecewise_gradient_is_zero_where_off(name, dtype):
    """An infinite or NaN incoming gradient gives PyTorch's values: 0 where hardswish / hardsigmoid are flat (not
    g * 0, which the NumPy path's product gives for hardsigmoid), g * slope for leaky_relu.  (At a NaN input
    PyTorch's hardswish gradient of an infinite g is inf in float32 and NaN in float64: not asked here.)"""
    _compiled()
    x = np.array([-5.0, -3.0, -1.0, 0.0, 2.0, 3.0, 5.0] * 2, dtype)
    g = np.array([np.inf] * 7 + [np.nan] * 7, dtype)
    _same(_run(*_dispatching(name), name, x, g)[1], _torch(name, x, g)[1])
