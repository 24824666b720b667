"""CuPy implementations of the group optimizer steps of ``ops/optim_kernels.py`` (``sgd_steps``, ``adam_steps``).

One elementwise pass per parameter, reading and writing the parameter and its state once, in place.  As in the
Numba steps (``kernels/_numba_optim.py``) the arithmetic follows the reference's order with every scalar rounded
to the array's dtype first, and compiles with ``--fmad=false`` (no multiply-add contraction; CUDA's division
and square root are IEEE-rounded by default), so each result is the reference's up to nothing but its own
operations' rounding.  Parameters of another dtype or layout go to the reference.
"""
from ._cupy import CudaModule, launch_flat, i64, flag
from ..ops.optim_kernels import sgd_group, adam_group, sgd_steps_reference, adam_steps_reference, reference_for

_SOURCE = r"""
template <typename T>
__global__ void sgd(T* p, const T* g, T* buf, long long n, int fresh, T lr, T wd, T momentum, T damp1, int nesterov,
                    int maximize, int has_wd, int has_momentum, int has_damp) {
    GRID_LOOP(i, n) {
        T gi = g[i], d;
        if (has_wd) {
            d = p[i] * wd;
            d = maximize ? d - gi : d + gi;
        } else {
            d = maximize ? -gi : gi;
        }
        if (has_momentum) {
            T b = fresh ? d : has_damp ? buf[i] * momentum + d * damp1 : buf[i] * momentum + d;
            buf[i] = b;
            d = nesterov ? d + b * momentum : b;
        }
        p[i] = p[i] - d * lr;
    }
}

template <typename T>
__global__ void adam(T* p, const T* g, T* m, T* v, T* vmax, long long n, int amsgrad, int maximize, int decay_in_grad,
                     T wd, T shrink, int do_shrink, T w, int small, T one_minus_w, T beta2, T one_minus_beta2,
                     T bc2_sqrt, T eps, T step_size) {
    GRID_LOOP(i, n) {
        T gi = g[i], pi = p[i], d;
        if (do_shrink) pi = pi * shrink;        // AdamW: p *= 1 - lr * weight_decay before the update
        if (decay_in_grad) {                    // Adam's L2 penalty: d = p * wd + g
            d = pi * wd;
            d = maximize ? d - gi : d + gi;
        } else {
            d = maximize ? -gi : gi;
        }
        T t = d - m[i];                         // m = lerp(m, d, w), PyTorch's two-branch form
        T mi = small ? m[i] + t * w : d - t * one_minus_w;
        m[i] = mi;
        T vi = v[i] * beta2 + d * one_minus_beta2 * d;
        v[i] = vi;
        T s;
        if (amsgrad) {
            T vm = vmax[i];
            if (vi > vm || vi != vi) vm = vi;   // NumPy's maximum: NaN propagates from either side
            vmax[i] = vm;
            s = sqrt(vm);
        } else {
            s = sqrt(vi);
        }
        s = s / bc2_sqrt + eps;
        p[i] = pi - mi / s * step_size;
    }
}
"""

_MODULE = CudaModule(_SOURCE, ("sgd", "adam"), options=("--fmad=false",))


def sgd_steps(params, grads, bufs, fresh, lr, weight_decay, momentum, dampening, nesterov, maximize):
    """CuPy ``sgd_steps`` (see ``ops.optim_kernels.sgd_steps_reference``)."""
    rest = []
    for i, p, g, buf in sgd_group(params, grads, bufs, momentum, rest):
        t = p.dtype.type
        launch_flat(_MODULE.function("sgd", p.dtype), p.size,
                    (p, g, p if buf is None else buf, i64(p.size), flag(momentum != 0 and fresh[i]), t(lr),
                     t(weight_decay), t(momentum), t(1 - dampening), flag(nesterov), flag(maximize),
                     flag(weight_decay != 0), flag(momentum != 0), flag(dampening != 0)))
    if rest:
        reference_for(sgd_steps_reference, rest, len(params), params, grads, bufs, fresh, lr, weight_decay, momentum,
                      dampening, nesterov, maximize)


def adam_steps(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad, beta1, beta2, lr, weight_decay,
               eps, maximize, decoupled):
    """CuPy ``adam_steps`` (see ``ops.optim_kernels.adam_steps_reference``)."""
    rest = []
    for i, p, g, m, v, vmax in adam_group(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, amsgrad, rest):
        t = p.dtype.type
        w = 1 - beta1
        step = steps[i]
        launch_flat(_MODULE.function("adam", p.dtype), p.size,
                    (p, g, m, v, p if vmax is None else vmax, i64(p.size), flag(amsgrad), flag(maximize),
                     flag(weight_decay != 0 and not decoupled), t(weight_decay), t(1 - lr * weight_decay),
                     flag(weight_decay != 0 and decoupled), t(w), flag(abs(w) < 0.5), t(1.0 - w), t(beta2),
                     t(1 - beta2), t((1 - beta2 ** step) ** 0.5), t(eps), t(lr / (1 - beta1 ** step))))
    if rest:
        reference_for(adam_steps_reference, rest, len(params), params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
                      steps, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize, decoupled)
