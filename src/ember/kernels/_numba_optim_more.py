"""Numba CPU implementations of the RMSprop, Adagrad, Adadelta, ASGD and Rprop group steps and of ``lerp_pairs``
(``ops/optim_kernels.py``).

One exact pass per parameter in the reference's order of operations, split over Numba's pool where large, as the
SGD / Adam steps of ``_numba_optim.py`` (whose helpers these use): the same bits as the NumPy reference.
A pass is split in chunks of ``_ADAM_CHUNK`` elements where it costs about Adam's per element (one thread, MLP group
of 670K float32: 0.25-0.3 ns; Rprop's branches 0.46), of ``_SGD_CHUNK`` where about SGD's (0.09-0.17 ns).
"""
import numpy as np
from numba import prange

from ._numba_optim import (_ADAM_CHUNK, _SGD_CHUNK, decayed_grad, exact_jit, exact_pjit, group_pass, lerp,
                           lerp_consts)
from ..ops.optim_kernels import (adadelta_steps_reference, adagrad_steps_reference, asgd_steps_reference,
                                 lerp_pairs_reference, rmsprop_steps_reference, rprop_steps_reference)


@exact_jit
def _rmsprop(p, g, sq, ga, buf, maximize, has_wd, wd, alpha, one_minus_alpha, centered, w, small, one_minus_w,
             has_momentum, momentum, eps, lr):
    for i in range(p.shape[0]):
        pi = p[i]
        d = decayed_grad(pi, g[i], wd, has_wd, maximize)
        s = sq[i] * alpha + d * one_minus_alpha * d
        sq[i] = s
        if centered:
            a = lerp(ga[i], d, w, small, one_minus_w)
            ga[i] = a
            s = -a * a + s
        s = np.sqrt(s) + eps
        if has_momentum:
            b = buf[i] * momentum + d / s
            buf[i] = b
            pi = pi - b * lr
        else:
            pi = pi - d / s * lr
        p[i] = pi


@exact_pjit
def _rmsprop_chunks(p, g, sq, ga, buf, maximize, has_wd, wd, alpha, one_minus_alpha, centered, w, small, one_minus_w,
                    has_momentum, momentum, eps, lr, nch):
    """``_rmsprop`` over ``nch`` equal parts of the flat range at once (an empty ``ga`` or ``buf`` stays empty)."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _rmsprop(p[lo:hi], g[lo:hi], sq[lo:hi], ga[lo:hi], buf[lo:hi], maximize, has_wd, wd, alpha, one_minus_alpha,
                 centered, w, small, one_minus_w, has_momentum, momentum, eps, lr)


def rmsprop_steps(params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps, weight_decay, momentum,
                  centered, maximize):
    """Numba ``rmsprop_steps`` (see ``ops.optim_kernels.rmsprop_steps_reference``)."""
    def scalars(i, t):
        return (bool(maximize), weight_decay != 0, t(weight_decay), t(alpha), t(1 - alpha), bool(centered),
                *lerp_consts(t, 1 - alpha), momentum > 0, t(momentum), t(eps), t(lr))
    group_pass(_rmsprop, _rmsprop_chunks, _ADAM_CHUNK, rmsprop_steps_reference,
               (params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps, weight_decay, momentum,
                centered, maximize),
               (params, grads, square_avgs, grad_avgs if centered else None,
                momentum_buffers if momentum > 0 else None), scalars)


@exact_jit
def _adagrad(p, g, s, maximize, has_wd, wd, eps, clr):
    for i in range(p.shape[0]):
        pi = p[i]
        d = decayed_grad(pi, g[i], wd, has_wd, maximize)
        si = s[i] + d * d
        s[i] = si
        p[i] = pi - d / (np.sqrt(si) + eps) * clr


@exact_pjit
def _adagrad_chunks(p, g, s, maximize, has_wd, wd, eps, clr, nch):
    """``_adagrad`` over ``nch`` equal parts of the flat range at once."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _adagrad(p[lo:hi], g[lo:hi], s[lo:hi], maximize, has_wd, wd, eps, clr)


def adagrad_steps(params, grads, state_sums, steps, lr, weight_decay, lr_decay, eps, maximize):
    """Numba ``adagrad_steps`` (see ``ops.optim_kernels.adagrad_steps_reference``)."""
    def scalars(i, t):
        return bool(maximize), weight_decay != 0, t(weight_decay), t(eps), t(lr / (1 + (steps[i] - 1) * lr_decay))
    group_pass(_adagrad, _adagrad_chunks, _SGD_CHUNK, adagrad_steps_reference,
               (params, grads, state_sums, steps, lr, weight_decay, lr_decay, eps, maximize),
               (params, grads, state_sums), scalars, steps.__getitem__)


@exact_jit
def _adadelta(p, g, sq, acc, maximize, has_wd, wd, rho, one_minus_rho, eps, lr):
    for i in range(p.shape[0]):
        pi = p[i]
        d = decayed_grad(pi, g[i], wd, has_wd, maximize)
        s = sq[i] * rho + d * one_minus_rho * d
        sq[i] = s
        a = acc[i]
        delta = np.sqrt(a + eps) / np.sqrt(s + eps) * d
        acc[i] = a * rho + delta * one_minus_rho * delta
        p[i] = pi - delta * lr


@exact_pjit
def _adadelta_chunks(p, g, sq, acc, maximize, has_wd, wd, rho, one_minus_rho, eps, lr, nch):
    """``_adadelta`` over ``nch`` equal parts of the flat range at once."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _adadelta(p[lo:hi], g[lo:hi], sq[lo:hi], acc[lo:hi], maximize, has_wd, wd, rho, one_minus_rho, eps, lr)


def adadelta_steps(params, grads, square_avgs, acc_deltas, lr, rho, eps, weight_decay, maximize):
    """Numba ``adadelta_steps`` (see ``ops.optim_kernels.adadelta_steps_reference``)."""
    def scalars(i, t):
        return bool(maximize), weight_decay != 0, t(weight_decay), t(rho), t(1 - rho), t(eps), t(lr)
    group_pass(_adadelta, _adadelta_chunks, _ADAM_CHUNK, adadelta_steps_reference,
               (params, grads, square_avgs, acc_deltas, lr, rho, eps, weight_decay, maximize),
               (params, grads, square_avgs, acc_deltas), scalars)


@exact_jit
def _asgd(p, g, ax, maximize, has_wd, wd, shrink, eta, averaging, mu):
    for i in range(p.shape[0]):
        pi = p[i]
        d = decayed_grad(pi, g[i], wd, has_wd, maximize)
        pi = pi * shrink - d * eta
        p[i] = pi
        ax[i] = ax[i] + (pi - ax[i]) * mu if averaging else pi


@exact_pjit
def _asgd_chunks(p, g, ax, maximize, has_wd, wd, shrink, eta, averaging, mu, nch):
    """``_asgd`` over ``nch`` equal parts of the flat range at once."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _asgd(p[lo:hi], g[lo:hi], ax[lo:hi], maximize, has_wd, wd, shrink, eta, averaging, mu)


def asgd_steps(params, grads, axs, etas, mus, lambd, weight_decay, maximize):
    """Numba ``asgd_steps`` (see ``ops.optim_kernels.asgd_steps_reference``)."""
    def scalars(i, t):
        eta, mu = etas[i], mus[i]
        return bool(maximize), weight_decay != 0, t(weight_decay), t(1 - lambd * eta), t(eta), mu != 1, t(mu)
    group_pass(_asgd, _asgd_chunks, _SGD_CHUNK, asgd_steps_reference,
               (params, grads, axs, etas, mus, lambd, weight_decay, maximize),
               (params, grads, axs), scalars, lambda i: (etas[i], mus[i]))


@exact_jit
def _rprop(p, g, prev, step_size, maximize, etaminus, etaplus, lo, hi, one, zero):
    for i in range(p.shape[0]):
        gi = -g[i] if maximize else g[i]
        x = gi * prev[i]
        if x > 0:
            f = etaplus
        elif x < 0:
            f = etaminus
            gi = zero                     # no step and no sign memory after a sign change
        elif x == 0:
            f = one
        else:
            f = x                         # NaN
        s = step_size[i] * f
        if not (s > lo or s != s):        # np.clip: max(s, lo), then min(., hi), NaN kept
            s = lo
        if not (s < hi or s != s):
            s = hi
        step_size[i] = s
        if gi > 0:                        # np.sign(g) * step size
            u = one * s
        elif gi < 0:
            u = -one * s
        elif gi == 0:
            u = zero * s
        else:
            u = gi * s
        p[i] = p[i] - u
        prev[i] = gi


@exact_pjit
def _rprop_chunks(p, g, prev, step_size, maximize, etaminus, etaplus, lo, hi, one, zero, nch):
    """``_rprop`` over ``nch`` equal parts of the flat range at once."""
    n = p.shape[0]
    for ch in prange(nch):
        a, b = ch * n // nch, (ch + 1) * n // nch
        _rprop(p[a:b], g[a:b], prev[a:b], step_size[a:b], maximize, etaminus, etaplus, lo, hi, one, zero)


def rprop_steps(params, grads, prevs, step_sizes, etaminus, etaplus, step_size_min, step_size_max, maximize):
    """Numba ``rprop_steps`` (see ``ops.optim_kernels.rprop_steps_reference``)."""
    def scalars(i, t):
        return bool(maximize), t(etaminus), t(etaplus), t(step_size_min), t(step_size_max), t(1), t(0)
    group_pass(_rprop, _rprop_chunks, _ADAM_CHUNK, rprop_steps_reference,
               (params, grads, prevs, step_sizes, etaminus, etaplus, step_size_min, step_size_max, maximize),
               (params, grads, prevs, step_sizes), scalars)


@exact_jit
def _lerp(a, b, w, small, one_minus_w):
    for i in range(a.shape[0]):
        a[i] = lerp(a[i], b[i], w, small, one_minus_w)


@exact_pjit
def _lerp_chunks(a, b, w, small, one_minus_w, nch):
    """``_lerp`` over ``nch`` equal parts of the flat range at once."""
    n = a.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _lerp(a[lo:hi], b[lo:hi], w, small, one_minus_w)


def lerp_pairs(starts, ends, weight):
    """Numba ``lerp_pairs`` (see ``ops.optim_kernels.lerp_pairs_reference``)."""
    group_pass(_lerp, _lerp_chunks, _SGD_CHUNK, lerp_pairs_reference, (starts, ends, weight), (starts, ends),
               lambda i, t: lerp_consts(t, weight))
