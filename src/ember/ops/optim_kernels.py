"""Array-level kernels for the optimizers in ``ember.optim`` (PyTorch's foreach/fused kernels).

Every function here takes *lists* of arrays -- one entry per parameter of a
param group -- and updates parameters and optimizer state **in place**.  The
arithmetic of each parameter is a handful of whole-array ufunc calls writing
into preallocated scratch memory with ``out=``, so a step costs a few array
passes per parameter and no per-element Python.  The order of operations
follows PyTorch's single-tensor implementations, so float64 trajectories agree
with PyTorch's to rounding.

Conventions
-----------
* ``params``, ``grads`` and the state lists hold arrays (``Tensor._data``).
  Gradients are only read, never written (except by the AMP unscale kernel,
  whose job is to rewrite them).
* Scalars that differ between parameters (the step count, ASGD's ``eta``...)
  are passed as Python lists of floats, one per parameter.
* Complex arrays are processed through their real view (``view_as_real``), as
  PyTorch does.
* The callers (the optimizers) bump the version counters of the tensors whose
  arrays were changed.

Where the NumPy reference runs (no Numba), large groups are split across threads: NumPy
releases the GIL inside ufunc loops, so when a group holds at least ``PARALLEL_MIN_ELEMENTS`` elements its parameters
(and, for big contiguous tensors, slices of them) are divided into balanced shares, one per BLAS
thread (at most ``NUM_THREADS``), that update concurrently.  The arithmetic per
element is the same either way.

Every optimizer step (and ``lerp_``) is a kernel of the kernel layer over a whole
group (``sgd_steps``, ``adam_steps``, ``rmsprop_steps``...): a compiled one-pass
loop per parameter (``kernels/_numba_optim*.py``, bitwise equal to the NumPy
reference here) runs for float32/float64 contiguous arrays, a large parameter's
pass split over Numba's thread pool instead of the shares above.
"""
import functools
import itertools
import math
import os

from ._block_threads import block_threads, parallel_ok, run_split, timed_parallel
from ._common import module_of_array
from ..kernels import Kernel

__all__ = [
    "sgd_", "adam_", "adamax_", "nadam_", "radam_", "rmsprop_", "adagrad_", "adadelta_",
    "asgd_", "rprop_", "increment_", "amp_non_finite_check_and_unscale_", "amp_update_scale_",
    "div_", "mul_", "fill_", "lerp_", "NUM_THREADS", "PARALLEL_MIN_ELEMENTS",
]

NUM_THREADS = min(os.cpu_count() or 1, 4)  # the most threads an optimizer step uses (1: no threading)
PARALLEL_MIN_ELEMENTS = 1 << 18            # smaller groups run on the calling thread


# ----------------------------------------------------------------------------------------------
# helpers

def _real(a):
    """View a complex array as real numbers with a trailing axis of 2 (``view_as_real``)."""
    if a is not None and a.dtype.kind == "c":
        return a.view(a.real.dtype).reshape(a.shape + (2,))
    return a


class _Scratch:
    """Reusable temporary memory for one kernel call: one flat buffer per (dtype, slot).

    ``get(like, slot)`` returns an uninitialised array with ``like``'s shape and dtype backed by
    the buffer of that slot, so a kernel that needs two temporaries per parameter allocates two
    buffers per call instead of two arrays per parameter.
    """

    __slots__ = ("_size", "_bufs")

    def __init__(self, arrays):
        size = {}
        for a in arrays:
            a = _real(a)
            size[a.dtype] = max(size.get(a.dtype, 0), a.size)  # a zero-element parameter too
        self._size = size
        self._bufs = {}

    def get(self, like, slot=0):
        xp = module_of_array(like)
        key = (like.dtype, slot)
        buf = self._bufs.get(key)
        if buf is None:
            buf = xp.empty(self._size[like.dtype], dtype=like.dtype)
            self._bufs[key] = buf
        return buf[: like.size].reshape(like.shape)


def _shares(lists, n, total, k):
    """Split the per-parameter work into ``k`` shares of about ``total / k`` elements.

    Returns one argument tuple per share: every list of ``n`` arrays becomes the list of this
    share's pieces (whole arrays, or flat slices of a parameter whose arrays are all
    C-contiguous), every list of ``n`` scalars repeats each parameter's value for its pieces,
    and lists of another length (unused, e.g. empty) and other arguments (``lerp_``'s weight) pass
    through unchanged.
    """
    per_param = [type(L) is list and len(L) == n for L in lists]
    is_arrays = [per and n > 0 and hasattr(L[0], "dtype") and hasattr(L[0], "shape")
                 for L, per in zip(lists, per_param)]
    target = total / k
    buckets = [[] for _ in range(k)]
    b, filled = 0, 0.0
    for i, a in enumerate(lists[0]):
        size = a.size
        splittable = all(L[i].flags.c_contiguous for L, arrays in zip(lists, is_arrays) if arrays)
        start = 0
        while start < size:
            room = target - filled
            if b == k - 1 or not splittable or size - start <= room + target * 0.05:
                take = size - start
            else:
                take = max(int(room), 1)
            buckets[b].append((i, None if take == size else slice(start, start + take)))
            start += take
            filled += take
            if filled >= target * 0.999 and b < k - 1:
                b, filled = b + 1, 0.0
    shares = []
    for bucket in buckets:
        if not bucket:
            continue
        args = []
        for L, arrays, per in zip(lists, is_arrays, per_param):
            if arrays:
                args.append([L[i] if sl is None else L[i].reshape(-1)[sl] for i, sl in bucket])
            elif per:
                args.append([L[i] for i, _ in bucket])
            else:
                args.append(L)
        shares.append(args)
    return shares


def _parallel(kernel):
    """Let a per-parameter kernel run a group of at least ``PARALLEL_MIN_ELEMENTS`` elements in concurrent
    shares: as many as BLAS's thread count (``ember.set_num_threads``), at most ``NUM_THREADS``, and one while the
    cores are found busy (``_block_threads.parallel_ok``; the split is timed as a parallel region)."""

    @functools.wraps(kernel)
    def run(*lists, **kwargs):
        params = lists[0]
        if NUM_THREADS < 2 or len(params) == 0:
            return kernel(*lists, **kwargs)
        total = sum(a.size for a in params)
        if total < PARALLEL_MIN_ELEMENTS:
            return kernel(*lists, **kwargs)
        k = min(NUM_THREADS, block_threads())
        if k < 2 or not parallel_ok():
            return kernel(*lists, **kwargs)
        shares = _shares(lists, len(params), total, k)
        with timed_parallel(len(shares)):
            run_split(lambda *share: kernel(*share, **kwargs), shares)

    return run


def _parallel_unless_compiled(group_step):
    """A decorator: ``_parallel`` for a step that calls the group kernel ``group_step`` where its NumPy reference
    runs; a compiled implementation is called as it is (the Numba one splits a large parameter's pass over Numba's
    thread pool itself)."""
    def wrap(kernel):
        threaded = _parallel(kernel)

        @functools.wraps(kernel)
        def run(*lists, **kwargs):
            if lists[0] and group_step.implementation(lists[0][0]) is not group_step.reference:
                return kernel(*lists, **kwargs)
            return threaded(*lists, **kwargs)
        return run
    return wrap


def _grad_with_decay(g, p, weight_decay, maximize, out):
    """Return the effective gradient ``(-g if maximize else g) + weight_decay * p``.

    Without weight decay and without ``maximize`` the gradient array itself is returned (it must
    then only be read).  Otherwise the result is written into ``out``.
    """
    xp = module_of_array(g)
    if weight_decay != 0:
        xp.multiply(p, weight_decay, out=out)
        if maximize:
            xp.subtract(out, g, out=out)
        else:
            xp.add(out, g, out=out)
        return out
    if maximize:
        return xp.negative(g, out=out)
    return g


def _grad_with_adam_decay(g, p, lr, weight_decay, decoupled, maximize, out):
    """:func:`_grad_with_decay` for the Adam family: with ``decoupled`` weight decay (AdamW) the
    parameter itself shrinks in place by ``1 - lr * weight_decay`` and the gradient is left as
    is; otherwise the decay is added to the gradient (L2 penalty)."""
    if weight_decay != 0 and decoupled:
        p *= 1 - lr * weight_decay
        return _grad_with_decay(g, p, 0, maximize, out)
    return _grad_with_decay(g, p, weight_decay, maximize, out)


def _lerp_(start, end, weight, tmp):
    """In place ``start = lerp(start, end, weight)`` with PyTorch's two-branch formula."""
    xp = module_of_array(start)
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1.0 - weight
        xp.subtract(end, tmp, out=start)


def _ema_sq_(avg, g, beta, tmp):
    """In place ``avg = avg * beta + (1 - beta) * g * g`` (PyTorch's ``mul_(beta).addcmul_``)."""
    xp = module_of_array(avg)
    avg *= beta
    xp.multiply(g, 1 - beta, out=tmp)
    tmp *= g
    avg += tmp


def increment_(steps):
    """Add one to each 0-d step array in ``steps``; return the new values as Python floats."""
    out = []
    for s in steps:
        s += 1
        out.append(float(s))
    return out


def mul_(arrays, factors):
    """Multiply each 0-d array in place by its factor (in the array's dtype); return the new
    values as Python floats."""
    out = []
    for a, f in zip(arrays, factors):
        a *= f
        out.append(float(a))
    return out


def fill_(arrays, values):
    """Set every element of each array to its value (rounded to the array's dtype)."""
    for a, v in zip(arrays, values):
        a[...] = v


# ----------------------------------------------------------------------------------------------
# the optimizers


def sgd_step_reference(p, g, buf, fresh, lr, weight_decay, momentum, dampening, nesterov, maximize, scratch):
    """One SGD step of one parameter (the NumPy reference of the ``sgd_step`` kernel).

    Args:
        p, g: the parameter (updated in place) and its gradient, real arrays of one shape.
        buf: the momentum buffer (updated in place), or None when ``momentum == 0``.
        fresh: True when the buffer is new: it is then set to the effective gradient instead of being
            decayed (PyTorch starts momentum from the first gradient).
        lr, weight_decay, momentum, dampening (float), nesterov, maximize (bool): hyper-parameters.
        scratch: the group's ``_Scratch`` (temporaries reused across parameters).
    """
    xp = module_of_array(p)
    tmp = scratch.get(p)
    d = _grad_with_decay(g, p, weight_decay, maximize, tmp)
    if momentum != 0:
        if fresh:
            xp.copyto(buf, d)
        else:
            buf *= momentum
            if dampening != 0:
                tmp2 = scratch.get(p, 1)
                xp.multiply(d, 1 - dampening, out=tmp2)
                buf += tmp2
            else:
                buf += d
        if nesterov:
            tmp2 = scratch.get(p, 1)
            xp.multiply(buf, momentum, out=tmp2)
            xp.add(d, tmp2, out=tmp)
            d = tmp
        else:
            d = buf
    xp.multiply(d, lr, out=tmp)
    p -= tmp


def same_layout(*arrays):
    """The compiled steps' condition: float32/float64 arrays, all C-contiguous with the first one's dtype
    (None entries, unused state, are skipped)."""
    p = arrays[0]
    if p.dtype.char not in "fd" or p.size == 0:
        return False
    for a in arrays:
        if a is not None and (a.dtype != p.dtype or not a.flags.c_contiguous):
            return False
    return True


def layout_group(rest, *lists):
    """The parameters of a group a compiled step takes: yields ``(i, arrays)``, the real views of entry ``i`` of
    every list (None for a list given as None: state the step does not use) where they are ``same_layout``, and
    appends the indices of the others (another dtype or layout) to ``rest``."""
    for i, arrays in enumerate(zip(*(itertools.repeat(None) if L is None else L for L in lists))):
        if arrays[0].dtype.kind == "c":   # a complex parameter's state is complex too (else: not same_layout)
            arrays = list(map(_real, arrays))
        if same_layout(*arrays):
            yield i, arrays
        else:
            rest.append(i)


def sgd_group(params, grads, bufs, momentum, rest):
    """``layout_group`` of an SGD group: yields ``(i, p, g, buf)`` (``buf`` None without momentum)."""
    for i, arrays in layout_group(rest, params, grads, bufs if momentum != 0 else None):
        yield (i, *arrays)


def adam_group(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, amsgrad, rest):
    """``layout_group`` of an Adam group: yields ``(i, p, g, m, v, vmax)`` (``vmax`` None without amsgrad)."""
    for i, arrays in layout_group(rest, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else None):
        yield (i, *arrays)


def reference_for(reference, rest, n, *args):
    """Run a group kernel's ``reference`` on the parameters ``rest`` (their indices) alone, as its compiled
    implementations do with the parameters they do not take: every list of ``n`` entries (one per parameter of
    the group) is cut to ``rest``, other arguments pass unchanged."""
    reference(*([a[i] for i in rest] if type(a) is list and len(a) == n else a for a in args))


def sgd_steps_reference(params, grads, bufs, fresh, lr, weight_decay, momentum, dampening, nesterov, maximize):
    """One SGD step of every parameter of a group (the NumPy reference of the ``sgd_steps`` kernel): arguments
    as in :func:`sgd_`, positional."""
    scratch = _Scratch(params)
    for i, (p, g) in enumerate(zip(params, grads)):
        buf, new = (_real(bufs[i]), fresh[i]) if momentum != 0 else (None, False)
        sgd_step_reference(_real(p), _real(g), buf, new, lr, weight_decay, momentum, dampening, nesterov, maximize,
                           scratch)


# The compiled group steps take the hyper-parameters to array scalars once per group and call one compiled
# pass per parameter (the per-parameter Python around it was half of a 200 x 1k-element AdamW step); parameters
# of another dtype or layout go to the reference.  One call over all parameters at once (a typed list or a
# tuple of arrays) was measured too: building the typed list costs ~4 us per array, a 200-array tuple
# compiles for 50 s (per length) and then saves nothing over 200 calls.
sgd_steps = Kernel("sgd_steps", sgd_steps_reference, numba="ember.kernels._numba_optim:sgd_steps",
                   cupy="ember.kernels._cupy_optim:sgd_steps",
                   accepts=lambda *args: True)


@_parallel_unless_compiled(sgd_steps)
def sgd_(params, grads, bufs, fresh, *, lr, weight_decay, momentum, dampening, nesterov, maximize):
    """One SGD step over a param group.

    Args:
        params, grads: lists of arrays; ``params`` are updated in place.
        bufs: list of momentum buffers (arrays), updated in place; empty when ``momentum == 0``.
        fresh: list of bools, True where the buffer is new (see :func:`sgd_step_reference`); empty when
            ``momentum == 0``.
        lr, weight_decay, momentum, dampening (float), nesterov, maximize (bool): hyper-parameters.
    """
    sgd_steps(params, grads, bufs, fresh, lr, weight_decay, momentum, dampening, nesterov, maximize)


def adam_step_reference(p, g, m, v, vmax, step, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize,
                        decoupled, scratch):
    """One Adam / AdamW step of one parameter (the NumPy reference of the ``adam_step`` kernel).

    Args:
        p, g, m, v: the parameter and its first and second moments (updated in place), and its gradient.
        vmax: the running maximum of ``v`` when ``amsgrad`` (updated in place), else ignored.
        step: the step count *after* incrementing (float).
        amsgrad, maximize, decoupled (bool: AdamW's decoupled weight decay); beta1, beta2, lr,
            weight_decay, eps (float): hyper-parameters.
        scratch: the group's ``_Scratch``.
    """
    xp = module_of_array(p)
    tmp = scratch.get(p)
    tmp2 = scratch.get(p, 1)
    d = _grad_with_adam_decay(g, p, lr, weight_decay, decoupled, maximize, tmp2)
    _lerp_(m, d, 1 - beta1, tmp)
    _ema_sq_(v, d, beta2, tmp)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2 ** 0.5
    if amsgrad:
        xp.maximum(vmax, v, out=vmax)
        xp.sqrt(vmax, out=tmp)
    else:
        xp.sqrt(v, out=tmp)
    tmp /= bias_correction2_sqrt
    tmp += eps
    xp.divide(m, tmp, out=tmp)
    tmp *= step_size
    p -= tmp


def adam_steps_reference(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad, beta1, beta2, lr,
                         weight_decay, eps, maximize, decoupled):
    """One Adam / AdamW step of every parameter of a group (the NumPy reference of the ``adam_steps`` kernel):
    arguments as in :func:`adam_`, positional."""
    scratch = _Scratch(params)
    for i, (p, g, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        vmax = _real(max_exp_avg_sqs[i]) if amsgrad else None
        adam_step_reference(_real(p), _real(g), _real(m), _real(v), vmax, steps[i], amsgrad, beta1, beta2, lr,
                            weight_decay, eps, maximize, decoupled, scratch)


adam_steps = Kernel("adam_steps", adam_steps_reference, numba="ember.kernels._numba_optim:adam_steps",
                    cupy="ember.kernels._cupy_optim:adam_steps",
                    accepts=lambda *args: True)


@_parallel_unless_compiled(adam_steps)
def adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, amsgrad, beta1, beta2,
          lr, weight_decay, eps, maximize, decoupled_weight_decay):
    """One Adam / AdamW step over a param group.

    Args:
        params, grads, exp_avgs, exp_avg_sqs: lists of arrays (params and the moments are updated
            in place).
        max_exp_avg_sqs: list of arrays when ``amsgrad`` else ignored.
        steps: list of floats, the step count of each parameter *after* incrementing.
        amsgrad, maximize, decoupled_weight_decay (bool); beta1, beta2, lr, weight_decay, eps
            (float): hyper-parameters.
    """
    adam_steps(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad, beta1, beta2, lr, weight_decay,
               eps, maximize, decoupled_weight_decay)


def _group_kernel(name, reference, module="_numba_optim_more"):
    """The kernel-layer contract of a group step whose NumPy reference is ``reference`` and whose Numba
    implementation is the function ``name`` of ``kernels/<module>.py`` (it sends the parameters it does not take
    to the reference itself)."""
    return Kernel(name, reference, numba=f"ember.kernels.{module}:{name}", accepts=lambda *args: True)


def adamax_steps_reference(params, grads, exp_avgs, exp_infs, steps, beta1, beta2, lr, weight_decay, eps, maximize):
    """One Adamax step of every parameter of a group (the NumPy reference of the ``adamax_steps`` kernel):
    arguments as in :func:`adamax_`, positional."""
    scratch = _Scratch(params)
    for i, (p, g, m, u) in enumerate(zip(params, grads, exp_avgs, exp_infs)):
        xp = module_of_array(p)
        p, g, m, u = _real(p), _real(g), _real(m), _real(u)
        tmp = scratch.get(p)
        tmp2 = scratch.get(p, 1)
        d = _grad_with_decay(g, p, weight_decay, maximize, tmp2)
        _lerp_(m, d, 1 - beta1, tmp)
        u *= beta2
        xp.abs(d, out=tmp)
        tmp += eps
        xp.maximum(u, tmp, out=u)
        clr = lr / (1 - beta1 ** steps[i])
        xp.divide(m, u, out=tmp)
        tmp *= clr
        p -= tmp


adamax_steps = _group_kernel("adamax_steps", adamax_steps_reference, "_numba_optim_adam_family")


@_parallel_unless_compiled(adamax_steps)
def adamax_(params, grads, exp_avgs, exp_infs, steps, *, beta1, beta2, lr, weight_decay, eps,
            maximize):
    """One Adamax step over a param group (arguments as in :func:`adam_`; ``exp_infs`` holds the
    exponentially weighted infinity norms)."""
    adamax_steps(params, grads, exp_avgs, exp_infs, steps, beta1, beta2, lr, weight_decay, eps, maximize)


def nadam_steps_reference(params, grads, exp_avgs, exp_avg_sqs, steps, mus, mu_products, mu_nexts, beta1, beta2, lr,
                          weight_decay, eps, maximize, decoupled):
    """One NAdam step of every parameter of a group (the NumPy reference of the ``nadam_steps`` kernel): arguments
    as in :func:`nadam_`, positional."""
    scratch = _Scratch(params)
    for i, (p, g, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        xp = module_of_array(p)
        p, g, m, v = _real(p), _real(g), _real(m), _real(v)
        tmp = scratch.get(p)
        tmp2 = scratch.get(p, 1)
        tmp3 = scratch.get(p, 2)
        step = steps[i]
        mu, mu_next, mu_product = mus[i], mu_nexts[i], mu_products[i]
        bias_correction2 = 1 - beta2 ** step
        d = _grad_with_adam_decay(g, p, lr, weight_decay, decoupled, maximize, tmp2)
        _lerp_(m, d, 1 - beta1, tmp)
        _ema_sq_(v, d, beta2, tmp)
        xp.divide(v, bias_correction2, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += eps
        mu_product_next = mu_product * mu_next
        xp.divide(d, tmp, out=tmp3)
        tmp3 *= (-lr * (1.0 - mu) / (1.0 - mu_product))
        p += tmp3
        xp.divide(m, tmp, out=tmp3)
        tmp3 *= (-lr * mu_next) / (1.0 - mu_product_next)
        p += tmp3


nadam_steps = _group_kernel("nadam_steps", nadam_steps_reference, "_numba_optim_adam_family")


@_parallel_unless_compiled(nadam_steps)
def nadam_(params, grads, exp_avgs, exp_avg_sqs, steps, mus, mu_products, mu_nexts, *, beta1, beta2,
           lr, weight_decay, eps, maximize, decoupled_weight_decay):
    """One NAdam step over a param group.

    ``mus``/``mu_nexts`` are the momentum coefficients of this and the next step and
    ``mu_products`` the running product including this step's ``mu`` (one float per parameter);
    the other arguments are as in :func:`adam_`.
    """
    nadam_steps(params, grads, exp_avgs, exp_avg_sqs, steps, mus, mu_products, mu_nexts, beta1, beta2, lr,
                weight_decay, eps, maximize, decoupled_weight_decay)


def radam_rectification(step, beta2):
    """RAdam's ``(rho_inf, rho_t)`` at ``step`` (Python floats): the update is rectified where ``rho_t > 5``."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf, rho_inf - 2 * step * (beta2 ** step) / (1 - beta2 ** step)


def radam_steps_reference(params, grads, exp_avgs, exp_avg_sqs, steps, beta1, beta2, lr, weight_decay, eps, maximize,
                          decoupled):
    """One RAdam step of every parameter of a group (the NumPy reference of the ``radam_steps`` kernel): arguments
    as in :func:`radam_`, positional."""
    scratch = _Scratch(params)
    for i, (p, g, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        xp = module_of_array(p)
        p, g, m, v = _real(p), _real(g), _real(m), _real(v)
        tmp = scratch.get(p)
        tmp2 = scratch.get(p, 1)
        step = steps[i]
        d = _grad_with_adam_decay(g, p, lr, weight_decay, decoupled, maximize, tmp2)
        _lerp_(m, d, 1 - beta1, tmp)
        _ema_sq_(v, d, beta2, tmp)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_inf, rho_t = radam_rectification(step, beta2)
        xp.divide(m, bias_correction1, out=tmp2)
        tmp2 *= lr
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            xp.sqrt(v, out=tmp)
            tmp += eps
            xp.divide(bias_correction2 ** 0.5, tmp, out=tmp)
            tmp2 *= tmp
            tmp2 *= rect
        p -= tmp2


radam_steps = _group_kernel("radam_steps", radam_steps_reference, "_numba_optim_adam_family")


@_parallel_unless_compiled(radam_steps)
def radam_(params, grads, exp_avgs, exp_avg_sqs, steps, *, beta1, beta2, lr, weight_decay, eps,
           maximize, decoupled_weight_decay):
    """One RAdam step over a param group (arguments as in :func:`adam_`)."""
    radam_steps(params, grads, exp_avgs, exp_avg_sqs, steps, beta1, beta2, lr, weight_decay, eps, maximize,
                decoupled_weight_decay)


def rmsprop_steps_reference(params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps, weight_decay,
                            momentum, centered, maximize):
    """One RMSprop step of every parameter of a group (the NumPy reference of the ``rmsprop_steps`` kernel):
    arguments as in :func:`rmsprop_`, positional."""
    scratch = _Scratch(params)
    for i, (p, g, sq) in enumerate(zip(params, grads, square_avgs)):
        xp = module_of_array(p)
        p, g, sq = _real(p), _real(g), _real(sq)
        tmp = scratch.get(p)
        tmp2 = scratch.get(p, 1)
        d = _grad_with_decay(g, p, weight_decay, maximize, tmp2)
        _ema_sq_(sq, d, alpha, tmp)
        if centered:
            ga = _real(grad_avgs[i])
            _lerp_(ga, d, 1 - alpha, tmp)
            xp.multiply(ga, -1, out=tmp)
            tmp *= ga
            tmp += sq
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(sq, out=tmp)
        tmp += eps
        if momentum > 0:
            buf = _real(momentum_buffers[i])
            buf *= momentum
            xp.divide(d, tmp, out=tmp)
            buf += tmp
            xp.multiply(buf, lr, out=tmp)
        else:
            xp.divide(d, tmp, out=tmp)
            tmp *= lr
        p -= tmp


rmsprop_steps = _group_kernel("rmsprop_steps", rmsprop_steps_reference)


@_parallel_unless_compiled(rmsprop_steps)
def rmsprop_(params, grads, square_avgs, grad_avgs, momentum_buffers, *, lr, alpha, eps,
             weight_decay, momentum, centered, maximize):
    """One RMSprop step over a param group.

    ``grad_avgs`` is used when ``centered``, ``momentum_buffers`` when ``momentum > 0``.
    """
    rmsprop_steps(params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps, weight_decay, momentum,
                  centered, maximize)


def adagrad_steps_reference(params, grads, state_sums, steps, lr, weight_decay, lr_decay, eps, maximize):
    """One Adagrad step of every parameter of a group (the NumPy reference of the ``adagrad_steps`` kernel):
    arguments as in :func:`adagrad_`, positional."""
    scratch = _Scratch(params)
    for i, (p, g, s) in enumerate(zip(params, grads, state_sums)):
        xp = module_of_array(p)
        p, g, s = _real(p), _real(g), _real(s)
        tmp = scratch.get(p)
        tmp2 = scratch.get(p, 1)
        d = _grad_with_decay(g, p, weight_decay, maximize, tmp2)
        clr = lr / (1 + (steps[i] - 1) * lr_decay)
        xp.multiply(d, d, out=tmp)
        s += tmp
        xp.sqrt(s, out=tmp)
        tmp += eps
        xp.divide(d, tmp, out=tmp)
        tmp *= clr
        p -= tmp


adagrad_steps = _group_kernel("adagrad_steps", adagrad_steps_reference)


@_parallel_unless_compiled(adagrad_steps)
def adagrad_(params, grads, state_sums, steps, *, lr, weight_decay, lr_decay, eps, maximize):
    """One Adagrad step over a param group (``steps``: step counts after incrementing)."""
    adagrad_steps(params, grads, state_sums, steps, lr, weight_decay, lr_decay, eps, maximize)


def adadelta_steps_reference(params, grads, square_avgs, acc_deltas, lr, rho, eps, weight_decay, maximize):
    """One Adadelta step of every parameter of a group (the NumPy reference of the ``adadelta_steps`` kernel):
    arguments as in :func:`adadelta_`, positional."""
    scratch = _Scratch(params)
    for p, g, sq, acc in zip(params, grads, square_avgs, acc_deltas):
        xp = module_of_array(p)
        p, g, sq, acc = _real(p), _real(g), _real(sq), _real(acc)
        tmp = scratch.get(p)
        tmp2 = scratch.get(p, 1)
        tmp3 = scratch.get(p, 2)
        d = _grad_with_decay(g, p, weight_decay, maximize, tmp2)
        _ema_sq_(sq, d, rho, tmp)
        xp.add(sq, eps, out=tmp)          # std
        xp.sqrt(tmp, out=tmp)
        xp.add(acc, eps, out=tmp3)        # delta
        xp.sqrt(tmp3, out=tmp3)
        tmp3 /= tmp
        tmp3 *= d
        _ema_sq_(acc, tmp3, rho, tmp)
        tmp3 *= lr
        p -= tmp3


adadelta_steps = _group_kernel("adadelta_steps", adadelta_steps_reference)


@_parallel_unless_compiled(adadelta_steps)
def adadelta_(params, grads, square_avgs, acc_deltas, *, lr, rho, eps, weight_decay, maximize):
    """One Adadelta step over a param group."""
    adadelta_steps(params, grads, square_avgs, acc_deltas, lr, rho, eps, weight_decay, maximize)


def asgd_steps_reference(params, grads, axs, etas, mus, lambd, weight_decay, maximize):
    """One ASGD step of every parameter of a group (the NumPy reference of the ``asgd_steps`` kernel): arguments as
    in :func:`asgd_`, positional."""
    scratch = _Scratch(params)
    for i, (p, g, ax) in enumerate(zip(params, grads, axs)):
        xp = module_of_array(p)
        p, g, ax = _real(p), _real(g), _real(ax)
        tmp = scratch.get(p)
        tmp2 = scratch.get(p, 1)
        d = _grad_with_decay(g, p, weight_decay, maximize, tmp2)
        eta = etas[i]
        p *= 1 - lambd * eta
        xp.multiply(d, eta, out=tmp)
        p -= tmp
        if mus[i] != 1:
            xp.subtract(p, ax, out=tmp)
            tmp *= mus[i]
            ax += tmp
        else:
            xp.copyto(ax, p)


asgd_steps = _group_kernel("asgd_steps", asgd_steps_reference)


@_parallel_unless_compiled(asgd_steps)
def asgd_(params, grads, axs, etas, mus, *, lambd, weight_decay, maximize):
    """One ASGD step over a param group.

    ``etas`` and ``mus`` are the per-parameter step size and averaging coefficient *before* this
    step (Python floats); the caller computes their next values.
    """
    asgd_steps(params, grads, axs, etas, mus, lambd, weight_decay, maximize)


def rprop_steps_reference(params, grads, prevs, step_sizes, etaminus, etaplus, step_size_min, step_size_max,
                          maximize):
    """One Rprop step of every parameter of a group (the NumPy reference of the ``rprop_steps`` kernel): arguments
    as in :func:`rprop_`, positional."""
    for p, g, prev, step_size in zip(params, grads, prevs, step_sizes):
        xp = module_of_array(p)
        p, g, prev, step_size = _real(p), _real(g), _real(prev), _real(step_size)
        if maximize:
            g = xp.negative(g)
        sign = xp.sign(g * prev)
        factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus, xp.where(sign == 0, 1.0, sign)))
        step_size *= factor.astype(step_size.dtype, copy=False)
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        g = xp.where(sign < 0, 0, g).astype(p.dtype, copy=False)
        upd = xp.sign(g)
        upd *= step_size
        p -= upd
        xp.copyto(prev, g)


rprop_steps = _group_kernel("rprop_steps", rprop_steps_reference)


@_parallel_unless_compiled(rprop_steps)
def rprop_(params, grads, prevs, step_sizes, *, etaminus, etaplus, step_size_min, step_size_max,
           maximize):
    """One Rprop step over a param group (``prevs``/``step_sizes`` updated in place)."""
    rprop_steps(params, grads, prevs, step_sizes, etaminus, etaplus, step_size_min, step_size_max, maximize)


def lerp_pairs_reference(starts, ends, weight):
    """The NumPy reference of the ``lerp_pairs`` kernel (see :func:`lerp_`)."""
    scratch = _Scratch(starts)
    for a, b in zip(starts, ends):
        a, b = _real(a), _real(b)
        _lerp_(a, b, weight, scratch.get(a))


lerp_pairs = _group_kernel("lerp_pairs", lerp_pairs_reference)


@_parallel_unless_compiled(lerp_pairs)
def lerp_(starts, ends, weight):
    """``start += weight * (end - start)`` for each pair (``torch._foreach_lerp_``), in place.

    Args:
        starts, ends: lists of arrays of matching shapes; ``starts`` are updated in place.
        weight (float): the interpolation weight.
    """
    lerp_pairs(starts, ends, weight)


# ----------------------------------------------------------------------------------------------
# automatic mixed precision


def div_(arrays, value):
    """Divide every array in place by the scalar ``value``."""
    for a in arrays:
        a = _real(a)
        a /= value


def amp_non_finite_check_and_unscale_(grads, inv_scale):
    """Multiply every gradient array by ``inv_scale`` in place.

    Returns True when any gradient held an inf or NaN before unscaling
    (``torch._amp_foreach_non_finite_check_and_unscale_``).
    """
    found = False
    for g in grads:
        xp = module_of_array(g)
        g = _real(g)
        if not found and g.size and not bool(xp.isfinite(g).all()):
            found = True
        g *= inv_scale
    return found


def amp_update_scale_(scale, growth_tracker, found_inf, growth_factor, backoff_factor,
                      growth_interval):
    """Update the 0-d ``scale`` (float32) and ``growth_tracker`` (int32) arrays in place.

    On overflow (``found_inf``) the scale is multiplied by ``backoff_factor`` and the tracker
    reset; otherwise the tracker counts successful steps and after ``growth_interval`` of them the
    scale grows by ``growth_factor`` (if the result stays finite).
    """
    if found_inf:
        scale[...] = float(scale) * backoff_factor
        growth_tracker[...] = 0
        return
    successful = int(growth_tracker) + 1
    if successful == growth_interval:
        new_scale = module_of_array(scale).float32(float(scale) * growth_factor)
        if math.isfinite(float(new_scale)):
            scale[...] = new_scale
        growth_tracker[...] = 0
    else:
        growth_tracker[...] = successful
