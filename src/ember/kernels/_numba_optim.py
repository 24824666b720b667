"""Numba CPU implementations of the group optimizer steps of ``ops/optim_kernels.py``.

Each step is one pass over the parameter and its state (read once, written once) instead of the
reference's five to ten whole-array passes.  The arithmetic is *exact* (no fast-math: no FMA
contraction, no reassociation) and follows the reference's order of operations with every scalar
rounded to the array's dtype first, as NumPy does with a Python float operand, so both paths give
the same bits and PyTorch's trajectories to rounding.  A large parameter's pass is split into chunks of its flat
range run at once on Numba's OpenMP pool (``exact_pjit`` drivers; the per-element arithmetic is the same).
The other optimizers' steps (``_numba_optim_adam_family.py``, ``_numba_optim_more.py``) are built the same way
from the helpers here (``group_pass``, ``decayed_grad``, ``lerp``, ``adam_moments``...).
"""
import numba
import numpy as np
from numba import prange

from ._numba import Parallel, _renamed, chunks, threads
from ..ops.optim_kernels import layout_group, sgd_steps_reference, adam_steps_reference, reference_for

# no fastmath: trajectories must match bitwise; error_model="numpy": x / 0 gives inf (no Python-style check,
# whose branch also stops LLVM vectorising the loop)
exact_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
# scalar helpers of the passes, inlined into their loops (a call with its status return keeps a loop scalar)
exact_inline = numba.njit(inline="always", nogil=True, error_model="numpy")
_exact_parallel_jit = numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)


class ExactParallel(Parallel):
    """``pjit`` without fast-math, for the drivers of the exact passes.  Numba compiles a jit function called from
    another one with the caller's flags when the caller compiles it first (numba#7168): a fast-math driver made the
    pass it calls contract ``p - d * lr`` into an FMA, and that pass was then cached and run as such everywhere."""

    def __init__(self, fn):
        super().__init__(fn)   # its fast-math dispatchers are replaced before anything compiles them
        self.kernel = _exact_parallel_jit(_renamed(fn, "parallel"))
        self.serial = exact_jit(_renamed(fn, "serial"))


exact_pjit = ExactParallel

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


def group_pass(serial, driver, per, reference, args, lists, scalars, key=None):
    """Run a compiled pass over a group: ``serial(*arrays, *scalars(i, t))`` with the flattened arrays of every
    parameter ``i`` that ``layout_group(lists)`` takes (``t``: its dtype's scalar type; the scalars are made once
    per dtype and ``key(i)``; an unused state, None, is passed as an empty array), split in chunks of ``per``
    elements on the pool (``driver``) where large, and ``reference(*args)`` cut to the other parameters (``args``:
    the group kernel's arguments)."""
    consts = {}
    rest = []
    split_from = 2 * per if threads() > 1 else _NEVER
    unused = None in lists
    for i, arrays in layout_group(rest, *lists):
        p = arrays[0]
        t = p.dtype.type
        k = t if key is None else (t, key(i))
        c = consts.get(k)
        if c is None:
            c = consts[k] = (_EMPTY[p.dtype.char], scalars(i, t))
        empty, c = c
        flat = [empty if a is None else a.reshape(-1) for a in arrays] if unused else [a.reshape(-1) for a in arrays]
        if p.size < split_from:
            serial(*flat, *c)
        else:
            _split_pass(serial, driver, per, *flat, *c)
    if rest:
        reference_for(reference, rest, len(lists[0]), *args)


def lerp_consts(t, w):
    """The scalars of ``lerp(.., w, ..)`` in the type ``t``: ``(w, |w| < 0.5, 1 - w)``."""
    return t(w), abs(w) < 0.5, t(1.0 - w)


def adam_decay_consts(t, lr, weight_decay, decoupled, maximize):
    """The weight-decay scalars of the Adam family's passes in the type ``t``: ``(maximize, decay_in_grad, wd,
    shrink, do_shrink)`` (an L2 penalty in the gradient, or AdamW's ``p *= 1 - lr * wd``)."""
    return (bool(maximize), weight_decay != 0 and not decoupled, t(weight_decay), t(1 - lr * weight_decay),
            weight_decay != 0 and decoupled)


@exact_inline
def decayed_grad(pi, gi, wd, has_wd, maximize):
    """``(-g if maximize else g) + p * wd`` rounded as the reference's ``_grad_with_decay``."""
    if has_wd:
        d = pi * wd
        return d - gi if maximize else d + gi
    return -gi if maximize else gi


@exact_inline
def lerp(a, b, w, small, one_minus_w):
    """``lerp(a, b, w)`` in PyTorch's two-branch form (``small``: ``|w| < 0.5``)."""
    t = b - a
    return a + t * w if small else b - t * one_minus_w


@exact_inline
def adam_moments(pi, gi, mi, vi, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w, beta2,
                 one_minus_beta2):
    """The Adam family's start for one element: ``(p, d, m, v)``, the parameter after AdamW's shrink, the
    effective gradient (with Adam's L2 penalty ``p * wd``) and the new first and second moments."""
    if do_shrink:                     # AdamW: p *= 1 - lr * weight_decay before the update
        pi = pi * shrink
    d = decayed_grad(pi, gi, wd, decay_in_grad, maximize)
    return pi, d, lerp(mi, d, w, small, one_minus_w), vi * beta2 + d * one_minus_beta2 * d


@exact_jit
def _sgd(p, g, buf, fresh, lr, wd, momentum, damp1, nesterov, maximize, has_wd, has_momentum, has_damp):
    for i in range(p.shape[0]):
        d = decayed_grad(p[i], g[i], wd, has_wd, maximize)
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


@exact_pjit
def _sgd_chunks(p, g, buf, fresh, lr, wd, momentum, damp1, nesterov, maximize, has_wd, has_momentum, has_damp, nch):
    """``_sgd`` over ``nch`` equal parts of the flat range at once (an empty ``buf`` stays empty)."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _sgd(p[lo:hi], g[lo:hi], buf[lo:hi], fresh, lr, wd, momentum, damp1, nesterov, maximize, has_wd,
             has_momentum, has_damp)


def sgd_steps(params, grads, bufs, fresh, lr, weight_decay, momentum, dampening, nesterov, maximize):
    """Numba ``sgd_steps`` (see ``ops.optim_kernels.sgd_steps_reference``)."""
    def scalars(i, t):
        return (bool(fresh[i]) if momentum != 0 else False, t(lr), t(weight_decay), t(momentum), t(1 - dampening),
                bool(nesterov), bool(maximize), weight_decay != 0, momentum != 0, dampening != 0)
    group_pass(_sgd, _sgd_chunks, _SGD_CHUNK, sgd_steps_reference,
               (params, grads, bufs, fresh, lr, weight_decay, momentum, dampening, nesterov, maximize),
               (params, grads, bufs if momentum != 0 else None), scalars,
               (lambda i: bool(fresh[i])) if momentum != 0 else None)


@exact_jit
def _adam(p, g, m, v, vmax, amsgrad, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w,
          beta2, one_minus_beta2, bc2_sqrt, eps, step_size):
    for i in range(p.shape[0]):
        pi, d, mi, vi = adam_moments(p[i], g[i], m[i], v[i], maximize, decay_in_grad, wd, shrink, do_shrink, w,
                                     small, one_minus_w, beta2, one_minus_beta2)
        m[i] = mi
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


@exact_pjit
def _adam_chunks(p, g, m, v, vmax, amsgrad, maximize, decay_in_grad, wd, shrink, do_shrink, w, small, one_minus_w,
                 beta2, one_minus_beta2, bc2_sqrt, eps, step_size, nch):
    """``_adam`` over ``nch`` equal parts of the flat range at once (an empty ``vmax`` stays empty)."""
    n = p.shape[0]
    for ch in prange(nch):
        lo, hi = ch * n // nch, (ch + 1) * n // nch
        _adam(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], vmax[lo:hi], amsgrad, maximize, decay_in_grad, wd, shrink,
              do_shrink, w, small, one_minus_w, beta2, one_minus_beta2, bc2_sqrt, eps, step_size)


def adam_steps(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad, beta1, beta2, lr, weight_decay,
               eps, maximize, decoupled):
    """Numba ``adam_steps`` (see ``ops.optim_kernels.adam_steps_reference``)."""
    def scalars(i, t):
        step = steps[i]
        return (bool(amsgrad), *adam_decay_consts(t, lr, weight_decay, decoupled, maximize), *lerp_consts(t, 1 - beta1),
                t(beta2), t(1 - beta2), t((1 - beta2 ** step) ** 0.5), t(eps), t(lr / (1 - beta1 ** step)))
    group_pass(_adam, _adam_chunks, _ADAM_CHUNK, adam_steps_reference,
               (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad, beta1, beta2, lr, weight_decay,
                eps, maximize, decoupled),
               (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else None), scalars, steps.__getitem__)
