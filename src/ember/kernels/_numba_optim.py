"""Numba CPU implementations of the group optimizer steps of ``ops/optim_kernels.py``.

Each step is one pass over the parameter and its state (read once, written once) instead of the
reference's five to ten whole-array passes.  The arithmetic is *exact* (no fast-math: no FMA
contraction, no reassociation) and follows the reference's order of operations with every scalar
rounded to the array's dtype first, as NumPy does with a Python float operand, so both paths give
the same bits and PyTorch's trajectories to rounding.  A large parameter's pass is split into chunks of its flat
range run at once on Numba's OpenMP pool (``pjit`` drivers; the per-element arithmetic is the same).
"""
import functools

import numba
import numpy as np
from numba import prange

from ._numba import chunks, pjit, threads
from ..ops.optim_kernels import sgd_group, adam_group, sgd_steps_reference, adam_steps_reference, reference_for

# no fastmath: trajectories must match bitwise; error_model="numpy": x / 0 gives inf (no Python-style check,
# whose branch also stops LLVM vectorising the loop)
exact_jit = numba.njit(cache=True, nogil=True, error_model="numpy")

_EMPTY = {"f": np.empty(0, np.float32), "d": np.empty(0, np.float64)}   # the unused state of a step
# elements a chunk of a split pass, ~12-15 us of one thread's work (SGD ~0.2 ns an element, Adam ~0.45; a region
# of two chunks costs some 5 us over its work with the pool's threads spinning); a parameter under twice this runs on
# the calling thread.  One float32 parameter, one chunk / two, wall min over 400 alternations, load 4.7
# (/tmp/split_small.py): Adam 32K 17 / slower, 64K 33 / 24 us, 128K 62 / 37; SGD 64K 15.5 / 13.6, 128K 28 / 21.
_SGD_CHUNK, _ADAM_CHUNK = 1 << 16, 1 << 15
_NEVER = float("inf")   # the split size on one thread


def _split_pass(serial, driver, per, p, *args):
    """``serial(p, *args)`` for a large flat parameter ``p``, or ``driver(p, *args, nch)`` in ``nch`` chunks of at
    least ``per`` elements on Numba's pool where ``chunks`` gives several."""
    nch = chunks(p.size, per)
    if nch == 1:
        serial(p, *args)
    else:
        driver(p, *args, nch)


@exact_jit
def _sgd(p, g, buf, fresh, lr, wd, momentum, damp1, nesterov, maximize, has_wd, has_momentum, has_damp):
    for i in range(p.shape[0]):
        gi = g[i]
        if has_wd:
            d = p[i] * wd
            d = d - gi if maximize else d + gi
        elif maximize:
            d = -gi
        else:
            d = gi
        if has_momentum:
            if fresh:
                b = d
            elif has_damp:
                b = buf[i] * momentum + d * damp1
            else:
                b = buf[i] * momentum + d
            buf[i] = b
            d = d + b * momentum if nesterov else b
        p[i] = p[i] - d * lr


@pjit
def _sgd_chunks(p, g, buf, fresh, lr, wd, momentum, damp1, nesterov, maximize, has_wd, has_momentum, has_damp, nch):
    """``_sgd`` over ``nch`` equal parts of the flat range at once (an empty ``buf`` stays empty)."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _sgd(p[lo:hi], g[lo:hi], buf[lo:hi], fresh, lr, wd, momentum, damp1, nesterov, maximize, has_wd,
             has_momentum, has_damp)


_sgd_split = functools.partial(_split_pass, _sgd, _sgd_chunks, _SGD_CHUNK)


def sgd_steps(params, grads, bufs, fresh, lr, weight_decay, momentum, dampening, nesterov, maximize):
    """Numba ``sgd_steps`` (see ``ops.optim_kernels.sgd_steps_reference``)."""
    consts = {}
    rest = []    # parameters the compiled pass does not take (another dtype or layout)
    split_from = 2 * _SGD_CHUNK if threads() > 1 else _NEVER
    for i, p, g, buf in sgd_group(params, grads, bufs, momentum, rest):
        c = consts.get(p.dtype)
        if c is None:
            t = p.dtype.type
            c = consts[p.dtype] = (t(lr), t(weight_decay), t(momentum), t(1 - dampening), bool(nesterov),
                                   bool(maximize), weight_decay != 0, momentum != 0, dampening != 0)
        run = _sgd if p.size < split_from else _sgd_split
        run(p.reshape(-1), g.reshape(-1), buf.reshape(-1) if buf is not None else _EMPTY[p.dtype.char],
            bool(fresh[i]) if momentum != 0 else False, *c)
    if rest:
        reference_for(sgd_steps_reference, rest, len(params), params, grads, bufs, fresh, lr, weight_decay, momentum,
                      dampening, nesterov, maximize)


@exact_jit
def _adam(p, g, m, v, vmax, amsgrad, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w,
          beta2, one_minus_beta2, bc2_sqrt, eps, step_size):
    for i in range(p.shape[0]):
        gi = g[i]
        pi = p[i]
        if do_shrink:                     # AdamW: p *= 1 - lr * weight_decay before the update
            pi = pi * shrink
        if decay_in_grad:                 # Adam's L2 penalty: d = p * wd + g
            d = pi * wd
            d = d - gi if maximize else d + gi
        elif maximize:
            d = -gi
        else:
            d = gi
        t = d - m[i]                      # m = lerp(m, d, w), PyTorch's two-branch form
        mi = m[i] + t * w if small else d - t * one_minus_w
        m[i] = mi
        vi = v[i] * beta2 + d * one_minus_beta2 * d
        v[i] = vi
        if amsgrad:
            vm = vmax[i]
            if vi > vm or vi != vi:       # np.maximum: NaN propagates from either side
                vm = vi
            vmax[i] = vm
            s = np.sqrt(vm)
        else:
            s = np.sqrt(vi)
        s = s / bc2_sqrt + eps
        p[i] = pi - mi / s * step_size


@pjit
def _adam_chunks(p, g, m, v, vmax, amsgrad, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w,
                 beta2, one_minus_beta2, bc2_sqrt, eps, step_size, nch):
    """``_adam`` over ``nch`` equal parts of the flat range at once (an empty ``vmax`` stays empty)."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _adam(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], vmax[lo:hi], amsgrad, maximize, decay_in_grad, wd, shrink,
              do_shrink, w, small, one_minus_w, beta2, one_minus_beta2, bc2_sqrt, eps, step_size)


_adam_split = functools.partial(_split_pass, _adam, _adam_chunks, _ADAM_CHUNK)


def adam_steps(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad, beta1, beta2, lr, weight_decay,
               eps, maximize, decoupled):
    """Numba ``adam_steps`` (see ``ops.optim_kernels.adam_steps_reference``)."""
    consts = {}
    rest = []
    split_from = 2 * _ADAM_CHUNK if threads() > 1 else _NEVER
    for i, p, g, m, v, vmax in adam_group(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, amsgrad, rest):
        step = steps[i]
        c = consts.get((p.dtype, step))
        if c is None:
            t = p.dtype.type
            w = 1 - beta1
            bias_correction2 = 1 - beta2 ** step
            c = consts[p.dtype, step] = (
                bool(amsgrad), bool(maximize), weight_decay != 0 and not decoupled, t(weight_decay),
                t(1 - lr * weight_decay), weight_decay != 0 and decoupled, t(w), abs(w) < 0.5, t(1.0 - w), t(beta2),
                t(1 - beta2), t(bias_correction2 ** 0.5), t(eps), t(lr / (1 - beta1 ** step)))
        run = _adam if p.size < split_from else _adam_split
        run(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
            vmax.reshape(-1) if amsgrad else _EMPTY[p.dtype.char], *c)
    if rest:
        reference_for(adam_steps_reference, rest, len(params), params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
                      steps, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize, decoupled)
