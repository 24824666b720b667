"""The compiled SGD / Adam group steps (kernels/_numba_optim.py) against their NumPy references: the same bits for
every option, float32 and float64, groups of several parameters with different step counts, each pass in one chunk
or split into several on Numba's pool, and the dispatch rules (a non-contiguous or half-precision parameter of a
group -> reference, the others compiled)."""
import itertools

import numpy as np
import pytest

from ember.kernels import numba_enabled
from ember.ops import optim_kernels as K

N = 777   # not a multiple of a vector width: the loop tail runs too


def _arrays(rng, dtype, k):
    return [rng.standard_normal(N).astype(dtype) for _ in range(k)]


@pytest.fixture(params=[1, 2, 3])
def nch(request, monkeypatch):
    """The compiled passes split into 1, 2 or 3 chunks whatever the parameter's size."""
    if numba_enabled():
        from ember.kernels import _numba_optim
        monkeypatch.setattr(_numba_optim, "_SGD_CHUNK", 1)
        monkeypatch.setattr(_numba_optim, "_ADAM_CHUNK", 1)
        monkeypatch.setattr(_numba_optim, "chunks", lambda n, per: request.param)
        monkeypatch.setattr(_numba_optim, "threads", lambda: 2)
    return request.param


def _compiled(kernel, like):
    impl = kernel.implementation(like)
    assert (impl is not kernel.reference) == numba_enabled()   # compiled whenever Numba is usable
    return impl


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_steps_match_reference_bitwise(dtype, nch):
    rng = np.random.default_rng(0)
    impl = _compiled(K.sgd_steps, np.zeros(1, dtype))
    for wd, mom, damp, nesterov, maximize, fresh in itertools.product((0, 0.01), (0, 0.9), (0, 0.1), (False, True),
                                                                         (False, True), (False, True)):
        if nesterov and (mom == 0 or damp):
            continue
        p, g, buf, p2, g2, buf2 = _arrays(rng, dtype, 6)
        want = [p.copy(), buf.copy(), p2.copy(), buf2.copy()]
        got = [a.copy() for a in want]
        for fn, (a, b, a2, b2) in ((K.sgd_steps_reference, want), (impl, got)):
            fn([a, a2], [g, g2], [b, b2] if mom else [], [fresh, not fresh] if mom else [], 0.1, wd, mom, damp,
               nesterov, maximize)
        for a, b in zip(want, got):
            np.testing.assert_array_equal(a, b, err_msg=str((wd, mom, damp, nesterov, maximize, fresh)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_steps_match_reference_bitwise(dtype, nch):
    rng = np.random.default_rng(1)
    impl = _compiled(K.adam_steps, np.zeros(1, dtype))
    for amsgrad, wd, decoupled, maximize, beta1 in itertools.product((False, True), (0, 0.01), (False, True),
                                                                     (False, True), (0.9, 0.3)):
        p, g, m, v, vmax, p2, g2, m2 = _arrays(rng, dtype, 8)
        v, vmax = np.abs(v), np.abs(vmax)
        v[:3] = 0   # zero second moments: eps alone in the denominator
        v2, vmax2 = v[::-1].copy(), vmax[::-1].copy()
        want = [a.copy() for a in (p, m, v, vmax, p2, m2, v2, vmax2)]
        got = [a.copy() for a in want]
        for step in (1.0, 7.0):
            for fn, (a, b, c, d, a2, b2, c2, d2) in ((K.adam_steps_reference, want), (impl, got)):
                fn([a, a2], [g, g2], [b, b2], [c, c2], [d, d2] if amsgrad else [], [step, step + 3], amsgrad, beta1,
                   0.999, 1e-3, wd, 1e-8, maximize, decoupled)
        for a, b in zip(want, got):
            np.testing.assert_array_equal(a, b, err_msg=str((amsgrad, wd, decoupled, maximize, beta1)))


def test_adam_steps_propagate_nan_like_reference():
    p, g, m, v, vmax = (np.ones(8, np.float32) for _ in range(5))
    g[2] = np.nan
    vmax[5] = np.nan
    outs = []
    for fn in (K.adam_steps_reference, K.adam_steps):
        arrays = [a.copy() for a in (p, m, v, vmax)]
        fn([arrays[0]], [g], [arrays[1]], [arrays[2]], [arrays[3]], [1.0], True, 0.9, 0.999, 1e-3, 0, 1e-8, False,
           False)
        outs.append(arrays)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(outs[1][0][[2, 5]]).all() and np.isfinite(outs[1][0][[0, 1, 3, 4, 6, 7]]).all()


def test_parameters_the_compiled_step_does_not_take_go_to_the_reference():
    p = np.ones((4, 6), np.float32)
    g = np.ones((6, 4), np.float32).T          # a transposed gradient: not C-contiguous
    assert not K.same_layout(p, g, None)
    assert K.same_layout(p, np.ones((4, 6), np.float32), None)
    assert not K.same_layout(p.astype(np.float16), p.astype(np.float16), None)
    # in one group with a parameter the compiled pass takes: each gets its own step
    q, h = np.ones(5, np.float32), np.full(5, 2, np.float32)
    r, k = np.ones(3, np.float16), np.full(3, 4, np.float16)
    K.sgd_([p, q, r], [g, h, k], [], [], lr=0.5, weight_decay=0, momentum=0, dampening=0, nesterov=False,
           maximize=False)
    np.testing.assert_array_equal(p, np.full((4, 6), 0.5, np.float32))
    np.testing.assert_array_equal(q, np.zeros(5, np.float32))
    np.testing.assert_array_equal(r, np.full(3, -1, np.float16))
