"""Numba CPU implementations of the Adamax, NAdam and RAdam group steps of ``ops/optim_kernels.py``.

One exact pass per parameter in the reference's order of operations, split over Numba's pool where large, as the
SGD / Adam steps of ``_numba_optim.py`` (whose helpers these use): the same bits as the NumPy reference.
A pass is split in chunks of ``_ADAM_CHUNK`` elements where it costs about Adam's per element (one thread, MLP group
of 670K float32: 0.25-0.3 ns; Rprop's branches 0.46), of ``_SGD_CHUNK`` where about SGD's (0.09-0.17 ns).
"""
import numpy as np
from numba import prange

from ._numba_optim import (_ADAM_CHUNK, adam_decay_consts, adam_moments, decayed_grad, exact_jit, exact_pjit,
                           group_pass, lerp, lerp_consts)
from ..ops.optim_kernels import (adamax_steps_reference, nadam_steps_reference, radam_rectification,
                                 radam_steps_reference)


@exact_jit
def _adamax(p, g, m, u, maximize, has_wd, wd, w, small, one_minus_w, beta2, eps, clr):
    for i in range(p.shape[0]):
        pi = p[i]
        d = decayed_grad(pi, g[i], wd, has_wd, maximize)
        mi = lerp(m[i], d, w, small, one_minus_w)
        m[i] = mi
        ui = u[i] * beta2
        a = np.abs(d) + eps
        if not (ui >= a or ui != ui):     # np.maximum(u, a): NaN propagates from either side
            ui = a
        u[i] = ui
        p[i] = pi - mi / ui * clr


@exact_pjit
def _adamax_chunks(p, g, m, u, maximize, has_wd, wd, w, small, one_minus_w, beta2, eps, clr, nch):
    """``_adamax`` over ``nch`` equal parts of the flat range at once."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _adamax(p[lo:hi], g[lo:hi], m[lo:hi], u[lo:hi], maximize, has_wd, wd, w, small, one_minus_w, beta2, eps, clr)


def adamax_steps(params, grads, exp_avgs, exp_infs, steps, beta1, beta2, lr, weight_decay, eps, maximize):
    """Numba ``adamax_steps`` (see ``ops.optim_kernels.adamax_steps_reference``)."""
    def scalars(i, t):
        return (bool(maximize), weight_decay != 0, t(weight_decay), *lerp_consts(t, 1 - beta1), t(beta2), t(eps),
                t(lr / (1 - beta1 ** steps[i])))
    group_pass(_adamax, _adamax_chunks, _ADAM_CHUNK, adamax_steps_reference,
               (params, grads, exp_avgs, exp_infs, steps, beta1, beta2, lr, weight_decay, eps, maximize),
               (params, grads, exp_avgs, exp_infs), scalars, steps.__getitem__)


@exact_jit
def _nadam(p, g, m, v, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w, beta2,
           one_minus_beta2, bias_correction2, eps, grad_coef, avg_coef):
    for i in range(p.shape[0]):
        pi, d, mi, vi = adam_moments(p[i], g[i], m[i], v[i], maximize, decay_in_grad, wd, shrink, do_shrink, w,
                                     small, one_minus_w, beta2, one_minus_beta2)
        m[i] = mi
        v[i] = vi
        s = np.sqrt(vi / bias_correction2) + eps
        pi = pi + d / s * grad_coef
        p[i] = pi + mi / s * avg_coef


@exact_pjit
def _nadam_chunks(p, g, m, v, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w, beta2,
                  one_minus_beta2, bias_correction2, eps, grad_coef, avg_coef, nch):
    """``_nadam`` over ``nch`` equal parts of the flat range at once."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _nadam(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], maximize, decay_in_grad, wd, shrink, do_shrink, w, small,
               one_minus_w, beta2, one_minus_beta2, bias_correction2, eps, grad_coef, avg_coef)


def nadam_steps(params, grads, exp_avgs, exp_avg_sqs, steps, mus, mu_products, mu_nexts, beta1, beta2, lr,
                weight_decay, eps, maximize, decoupled):
    """Numba ``nadam_steps`` (see ``ops.optim_kernels.nadam_steps_reference``)."""
    def scalars(i, t):
        mu, mu_next, mu_product = mus[i], mu_nexts[i], mu_products[i]
        return (*adam_decay_consts(t, lr, weight_decay, decoupled, maximize), *lerp_consts(t, 1 - beta1), t(beta2),
                t(1 - beta2), t(1 - beta2 ** steps[i]), t(eps), t(-lr * (1.0 - mu) / (1.0 - mu_product)),
                t((-lr * mu_next) / (1.0 - mu_product * mu_next)))
    group_pass(_nadam, _nadam_chunks, _ADAM_CHUNK, nadam_steps_reference,
               (params, grads, exp_avgs, exp_avg_sqs, steps, mus, mu_products, mu_nexts, beta1, beta2, lr,
                weight_decay, eps, maximize, decoupled),
               (params, grads, exp_avgs, exp_avg_sqs), scalars,
               lambda i: (steps[i], mus[i], mu_products[i], mu_nexts[i]))


@exact_jit
def _radam(p, g, m, v, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w, beta2,
           one_minus_beta2, bias_correction1, lr, rectify, bc2_sqrt, eps, rect):
    for i in range(p.shape[0]):
        pi, d, mi, vi = adam_moments(p[i], g[i], m[i], v[i], maximize, decay_in_grad, wd, shrink, do_shrink, w,
                                     small, one_minus_w, beta2, one_minus_beta2)
        m[i] = mi
        v[i] = vi
        u = mi / bias_correction1 * lr
        if rectify:
            u = u * (bc2_sqrt / (np.sqrt(vi) + eps)) * rect
        p[i] = pi - u


@exact_pjit
def _radam_chunks(p, g, m, v, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w, beta2,
                  one_minus_beta2, bias_correction1, lr, rectify, bc2_sqrt, eps, rect, nch):
    """``_radam`` over ``nch`` equal parts of the flat range at once."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _radam(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], maximize, decay_in_grad, wd, shrink, do_shrink, w, small,
               one_minus_w, beta2, one_minus_beta2, bias_correction1, lr, rectify, bc2_sqrt, eps, rect)


def radam_steps(params, grads, exp_avgs, exp_avg_sqs, steps, beta1, beta2, lr, weight_decay, eps, maximize,
                decoupled):
    """Numba ``radam_steps`` (see ``ops.optim_kernels.radam_steps_reference``)."""
    def scalars(i, t):
        step = steps[i]
        rho_inf, rho_t = radam_rectification(step, beta2)
        rectify = rho_t > 5.0
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 if rectify else 0
        return (*adam_decay_consts(t, lr, weight_decay, decoupled, maximize), *lerp_consts(t, 1 - beta1), t(beta2),
                t(1 - beta2), t(1 - beta1 ** step), t(lr), rectify, t((1 - beta2 ** step) ** 0.5), t(eps), t(rect))
    group_pass(_radam, _radam_chunks, _ADAM_CHUNK, radam_steps_reference,
               (params, grads, exp_avgs, exp_avg_sqs, steps, beta1, beta2, lr, weight_decay, eps, maximize,
                decoupled),
               (params, grads, exp_avgs, exp_avg_sqs), scalars, steps.__getitem__)
