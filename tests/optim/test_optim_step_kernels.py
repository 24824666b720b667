"""The compiled SGD / Adam steps (kernels/_numba_optim.py) against their NumPy references: the same bits for
every option, float32 and float64, and the dispatch rules (non-contiguous or half-precision state -> reference)."""
import itertools

import numpy as np
import pytest

from ember.kernels import numba_enabled
from ember.ops import optim_kernels as K

N = 777   # not a multiple of a vector width: the loop tail runs too


def _arrays(rng, dtype, k):
    return [rng.standard_normal(N).astype(dtype) for _ in range(k)]


def _compiled(kernel, like):
    impl = kernel.implementation(like)
    assert (impl is not kernel.reference) == numba_enabled()   # compiled whenever Numba is usable
    return impl


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_step_matches_reference_bitwise(dtype):
    rng = np.random.default_rng(0)
    impl = _compiled(K.sgd_step, np.zeros(1, dtype))
    for wd, mom, damp, nesterov, maximize, fresh in itertools.product((0, 0.01), (0, 0.9), (0, 0.1), (False, True),
                                                                         (False, True), (False, True)):
        if nesterov and (mom == 0 or damp):
            continue
        p, g, buf = _arrays(rng, dtype, 3)
        want = [p.copy(), buf.copy()]
        got = [p.copy(), buf.copy()]
        K.sgd_step_reference(want[0], g, want[1] if mom else None, fresh, 0.1, wd, mom, damp, nesterov, maximize,
                             K._Scratch([p]))
        impl(got[0], g, got[1] if mom else None, fresh, 0.1, wd, mom, damp, nesterov, maximize, K._Scratch([p]))
        for a, b in zip(want, got):
            np.testing.assert_array_equal(a, b, err_msg=str((wd, mom, damp, nesterov, maximize, fresh)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_step_matches_reference_bitwise(dtype):
    rng = np.random.default_rng(1)
    impl = _compiled(K.adam_step, np.zeros(1, dtype))
    for amsgrad, wd, decoupled, maximize, beta1 in itertools.product((False, True), (0, 0.01), (False, True),
                                                                     (False, True), (0.9, 0.3)):
        p, g, m, v, vmax = _arrays(rng, dtype, 5)
        v, vmax = np.abs(v), np.abs(vmax)
        v[:3] = 0   # zero second moments: eps alone in the denominator
        want = [a.copy() for a in (p, m, v, vmax)]
        got = [a.copy() for a in (p, m, v, vmax)]
        for step in (1.0, 7.0):
            K.adam_step_reference(want[0], g, want[1], want[2], want[3], step, amsgrad, beta1, 0.999, 1e-3, wd, 1e-8,
                                  maximize, decoupled, K._Scratch([p]))
            impl(got[0], g, got[1], got[2], got[3], step, amsgrad, beta1, 0.999, 1e-3, wd, 1e-8, maximize, decoupled,
                 K._Scratch([p]))
        for a, b in zip(want, got):
            np.testing.assert_array_equal(a, b, err_msg=str((amsgrad, wd, decoupled, maximize, beta1)))


def test_adam_step_propagates_nan_like_reference():
    p, g, m, v, vmax = (np.ones(8, np.float32) for _ in range(5))
    g[2] = np.nan
    vmax[5] = np.nan
    outs = []
    for fn in (K.adam_step_reference, K.adam_step):
        arrays = [a.copy() for a in (p, m, v, vmax)]
        fn(arrays[0], g, arrays[1], arrays[2], arrays[3], 1.0, True, 0.9, 0.999, 1e-3, 0, 1e-8, False, False,
           K._Scratch([p]))
        outs.append(arrays)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(outs[1][0][[2, 5]]).all() and np.isfinite(outs[1][0][[0, 1, 3, 4, 6, 7]]).all()


def test_layouts_the_compiled_step_does_not_take_go_to_the_reference():
    p = np.ones((4, 6), np.float32)
    g = np.ones((6, 4), np.float32).T          # a transposed gradient: not C-contiguous
    assert not K.sgd_step.accepts(p, g, None)
    assert K.sgd_step.accepts(p, np.ones((4, 6), np.float32), None)
    assert not K.sgd_step.accepts(p.astype(np.float16), p.astype(np.float16), None)
    # the group-level function still updates such a parameter, through the reference
    K.sgd_([p], [g], [], [], lr=0.5, weight_decay=0, momentum=0, dampening=0, nesterov=False, maximize=False)
    np.testing.assert_array_equal(p, np.full((4, 6), 0.5, np.float32))
