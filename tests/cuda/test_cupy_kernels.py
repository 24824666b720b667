"""The CuPy kernels (kernels/_cupy_*.py) against their NumPy references.

Without a GPU (CI) only ``test_cuda_kernel_modules_import_without_a_device`` runs: every kernel module imports
with no device and every Kernel's ``cupy=`` path resolves.  Where CuPy sees a GPU (``make test-cuda``) each CuPy
implementation runs on random inputs (float32/float64, odd sizes, -inf/inf/NaN rows, ignored rows, label
smoothing, every optimizer flag) and is compared with its reference run on the same values in NumPy.
"""
import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.kernels import Kernel
from ember.kernels import activations as G, dropout as D, losses as L, norms as N, softmax as S
from ember.ops import optim_kernels as O

CUPY_KERNELS = {
    "softmax_forward": S.softmax_forward, "softmax_backward": S.softmax_backward,
    "row_norm_forward": N.row_norm_forward, "row_norm_backward": N.row_norm_backward,
    "gelu_forward": G.gelu_forward, "gelu_backward": G.gelu_backward,
    "cross_entropy_forward": L.cross_entropy_forward, "cross_entropy_backward": L.cross_entropy_backward,
    "dropout_forward": D.dropout_forward, "sgd_steps": O.sgd_steps, "adam_steps": O.adam_steps,
}
MODULES = ["_cupy", "_cupy_softmax", "_cupy_norms", "_cupy_activations", "_cupy_losses", "_cupy_dropout",
           "_cupy_optim"]

gpu = pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a GPU that CuPy sees (CI has none)")
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}
NORM_TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}   # cancellation


def test_cuda_kernel_modules_import_without_a_device():
    pytest.importorskip("cupy", reason="CuPy (the optional 'cuda' extra) is not installed")
    # a fresh interpreter that sees no device: importing compiles nothing and asks no GPU
    code = ("import importlib, sys\n"
            f"for m in {MODULES!r}:\n"
            "    importlib.import_module('ember.kernels.' + m)\n"
            "mods = [sys.modules['ember.kernels.' + m] for m in " + repr(MODULES) + "]\n"
            "assert not any('_module' in vars(v) for m in mods for v in vars(m).values() if hasattr(v, 'names'))\n"
            "print('ok')\n")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
    for name, kernel in CUPY_KERNELS.items():
        assert isinstance(kernel, Kernel)
        module, _, fn = kernel._paths["cupy"].partition(":")
        impl = getattr(importlib.import_module(module), fn)
        assert callable(impl) and impl.__name__ == name and impl.__doc__


# ----------------------------------------------------------------------------------------------- on a GPU
def _impl(kernel, first):
    """The CuPy implementation ``kernel`` picks for ``first`` (not a fallback to the reference)."""
    impl = kernel.implementation(first[0] if isinstance(first, list) else first)
    assert impl is not kernel.reference and type(impl).__module__ != "ember.kernels._dispatch"
    assert impl.__module__.startswith("ember.kernels._cupy_")
    return impl


def _check(got, want, dtype, **tol):
    import cupy
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        if b is None:
            assert a is None
            continue
        assert isinstance(a, cupy.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(cupy.asnumpy(a), b, **(tol or TOL[dtype]))


def _gpu(*arrays):
    import cupy
    return [None if a is None else cupy.asarray(a) for a in arrays]


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 7, 1), (3, 1000, 1), (4, 9, 3), (2, 6, 1100), (1, 1, 1)])
@pytest.mark.parametrize("log", [False, True])
def test_cuda_softmax_matches_the_reference(dtype, shape, log):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    A, n, B = shape
    rows = [(i // B, i % B) for i in range(A * B)]
    if len(rows) >= 3:
        x[rows[0][0], :, rows[0][1]] = -np.inf     # a row of -inf: NaN, as in PyTorch
        x[rows[1][0], -1, rows[1][1]] = np.inf     # +inf in a row: NaN too
        x[rows[2][0], 0, rows[2][1]] = -np.inf     # one -inf: an exact 0 (log: -inf)
    xg, = _gpu(x)
    _check(_impl(S.softmax_forward, xg)(xg, log), S.softmax_forward_reference(x.copy(), log), dtype)
    y = S.softmax_forward_reference(rng.standard_normal(shape).astype(dtype), log)
    g = rng.standard_normal(shape).astype(dtype)
    gg, yg = _gpu(g, y)
    _check(_impl(S.softmax_backward, yg)(gg, yg, log), S.softmax_backward_reference(g, y, log), dtype)


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("R,K,S_,groups", [(6, 33, 1, 1), (64, 1024, 1, 1), (8, 3, 5, 4), (6, 1, 7, 3), (1, 1, 1, 1)])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("center", [True, False])
def test_cuda_row_norm_matches_the_reference(dtype, R, K, S_, groups, affine, center):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((R, K, S_)) * 3 + 1).astype(dtype)
    w = rng.standard_normal(groups * K).astype(dtype) if affine else None
    b = rng.standard_normal(groups * K).astype(dtype) if affine else None
    xg, wg, bg = _gpu(x, w, b)
    got = _impl(N.row_norm_forward, xg)(xg, groups, wg, bg, 1e-5, center)
    want = N.row_norm_forward_reference(x, groups, w, b, 1e-5, center)
    tol = NORM_TOL[dtype]
    _check(got, want, dtype, **tol)
    _, mean, rstd = want
    g = rng.standard_normal(x.shape).astype(dtype)
    gg, mg, rg = _gpu(g, mean, rstd)
    for need_affine in (False, True):
        got = _impl(N.row_norm_backward, gg)(gg, xg, mg, rg, groups, wg, center, need_affine)
        want = N.row_norm_backward_reference(g, x, mean, rstd, groups, w, center, need_affine)
        _check(got, want, dtype, **tol)


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_cuda_gelu_matches_the_reference(dtype, approximate):
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((37, 41)) * 4).astype(dtype)
    a.flat[:6] = [np.inf, -np.inf, np.nan, 0.0, -12.0, 12.0]
    g = rng.standard_normal(a.shape).astype(dtype)
    ag, gg = _gpu(a, g)
    _check(_impl(G.gelu_forward, ag)(ag, approximate), G.gelu_forward_reference(a, approximate), dtype)
    _check(_impl(G.gelu_backward, ag)(gg, ag, approximate), G.gelu_backward_reference(g, a, approximate), dtype)


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [1, 7, 2001])
@pytest.mark.parametrize("smoothing,weighted", [(0.0, False), (0.0, True), (0.2, False), (0.2, True)])
def test_cuda_cross_entropy_matches_the_reference(dtype, C, smoothing, weighted):
    rng = np.random.default_rng(3)
    M = 13
    x = (rng.standard_normal((M, C)) * 3).astype(dtype)
    x[3, 0] = -np.inf                                          # an impossible class (with smoothing: inf loss)
    t = rng.integers(0, C, M)
    valid = (np.arange(M) % 3 != 1).astype(dtype)              # every third row ignored: loss 0, gradient 0
    cw = (rng.random(C) + 0.5).astype(dtype) if weighted else np.ones(C, dtype)
    pick = (cw[t] * valid * (1 - smoothing)).astype(dtype)
    spread = (valid * (smoothing / C)).astype(dtype) if smoothing else None
    cw = cw if smoothing else None
    xg, tg, pg, sg, cg = _gpu(x, t, pick, spread, cw)
    got = _impl(L.cross_entropy_forward, xg)(xg, tg, pg, sg, cg)
    want = L.cross_entropy_forward_reference(x, t, pick, spread, cw)
    _check(got, want, dtype)
    scale = rng.random(M).astype(dtype)
    lg, scg = _gpu(want[1], scale)
    _check(_impl(L.cross_entropy_backward, xg)(xg, lg, tg, scg, pg, sg, cg),
           L.cross_entropy_backward_reference(x, want[1], t, scale, pick, spread, cw), dtype)


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_dropout_matches_the_reference(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((33, 65)).astype(dtype)[:, ::2]    # not contiguous
    keep = rng.random(x.shape) < 0.7
    scale = dtype(1 / 0.7)
    xg, kg = _gpu(x, keep)
    _check(_impl(D.dropout_forward, xg)(xg, kg, scale), D.dropout_forward_reference(x, keep, scale), dtype)


def _group(rng, dtype, n_state):
    """Three parameters (the last one complex: its real view is stepped) with grads and ``n_state`` state
    arrays each."""
    shapes = [(5, 7), (129,), (3, 4)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    params[2] = (params[2] + 1j * rng.standard_normal((3, 4))).astype(np.complex64 if dtype == np.float32
                                                                           else np.complex128)
    grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
    states = [[np.abs(rng.standard_normal(p.shape)).astype(p.dtype) for p in params] for _ in range(n_state)]
    return params, grads, states


def _both(rng, dtype, n_state):
    """The group twice: NumPy arrays and CuPy copies."""
    params, grads, states = _group(rng, dtype, n_state)
    return (params, grads, states), (_gpu(*params), _gpu(*grads), [_gpu(*s) for s in states])


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum,dampening,nesterov", [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.1, False),
                                                         (0.9, 0.0, True)])
@pytest.mark.parametrize("weight_decay,maximize", [(0.0, False), (0.01, True)])
@pytest.mark.parametrize("fresh", [True, False])
def test_cuda_sgd_steps_match_the_reference_in_place(dtype, momentum, dampening, nesterov, weight_decay, maximize,
                                                     fresh):
    rng = np.random.default_rng(5)
    (p, g, (buf,)), (pg, gg, (bufg,)) = _both(rng, dtype, 1)
    if momentum == 0:
        buf, bufg = [], []
    flags = [fresh] * len(p) if momentum else []
    impl = _impl(O.sgd_steps, pg)
    before = [a.data.ptr for a in pg + bufg]
    for _ in range(2):
        O.sgd_steps_reference(p, g, buf, flags, 0.1, weight_decay, momentum, dampening, nesterov, maximize)
        impl(pg, gg, bufg, flags, 0.1, weight_decay, momentum, dampening, nesterov, maximize)
    assert [a.data.ptr for a in pg + bufg] == before
    for a, b in zip(pg + bufg, p + buf):
        _check(a, b, dtype)


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay,decoupled,maximize", [(0.0, False, False), (0.1, False, True),
                                                             (0.1, True, False)])
def test_cuda_adam_steps_match_the_reference_in_place(dtype, amsgrad, weight_decay, decoupled, maximize):
    rng = np.random.default_rng(6)
    (p, g, (m, v, vmax)), (pg, gg, (mg, vg, vmaxg)) = _both(rng, dtype, 3)
    impl = _impl(O.adam_steps, pg)
    for step in (1.0, 2.0, 3.0):
        steps = [step, step, step + 4]
        O.adam_steps_reference(p, g, m, v, vmax, steps, amsgrad, 0.9, 0.999, 1e-2, weight_decay, 1e-8, maximize,
                               decoupled)
        impl(pg, gg, mg, vg, vmaxg, steps, amsgrad, 0.9, 0.999, 1e-2, weight_decay, 1e-8, maximize, decoupled)
    for a, b in zip(pg + mg + vg + vmaxg, p + m + v + vmax):
        _check(a, b, dtype)
