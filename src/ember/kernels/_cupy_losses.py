"""CuPy implementations of ``kernels/losses.py``: the forward gives each row of logits to a block (its max, then
its sum of exponentials and, with label smoothing, the class-weighted sums in one more read); the backward is one
elementwise pass over ``(M, C)``."""
import cupy

from ._cupy import CudaModule, row_threads, launch_flat, i64, flag

_SOURCE = r"""
template <typename T>
__global__ void fwd(const T* x, const long long* target, const T* pick, const T* spread, const T* cw, int smooth,
                    long long C, T* loss, T* lse) {
    long long i = blockIdx.x;
    const T* xi = x + i * C;
    T m = T(NEG_INF);
    for (long long c = threadIdx.x; c < C; c += blockDim.x) m = fmax(m, xi[c]);
    m = block_max(m);
    T s = 0, wx = 0, ws = 0;   // sum of exp(x - m); with smoothing sum cw * x and sum cw
    for (long long c = threadIdx.x; c < C; c += blockDim.x) {
        s += exp(xi[c] - m);
        if (smooth) {
            wx += cw[c] * xi[c];
            ws += cw[c];
        }
    }
    s = block_sum(s);
    if (smooth) {
        wx = block_sum(wx);
        ws = block_sum(ws);
    }
    if (threadIdx.x == 0) {
        T l = m + log(s);
        T v = pick[i] * (l - xi[target[i]]);
        if (smooth) v += spread[i] * (ws * l - wx);
        lse[i] = l;
        loss[i] = pick[i] != T(0) || (smooth && spread[i] != T(0)) ? v : T(0);   // an ignored row: 0, not nan
    }
}

// wsum: sum(cw), one element
template <typename T>
__global__ void bwd(const T* x, const T* lse, const long long* target, const T* scale, const T* pick, const T* spread,
                    const T* cw, const T* wsum, int smooth, long long M, long long C, T* g) {
    GRID_LOOP(j, M * C) {
        long long i = j / C, c = j - i * C;
        T s = scale[i], p = pick[i];
        T v = exp(x[j] - lse[i]) * (smooth ? s * (p + spread[i] * wsum[0]) : s * p);
        if (smooth) v -= s * spread[i] * cw[c];
        if (c == target[i]) v -= s * p;
        g[j] = v;
    }
}
"""

_MODULE = CudaModule(_SOURCE, ("fwd", "bwd"))


def _prepared(x2, target, pick, spread, cw):
    """Contiguous kernel arguments; without smoothing ``spread`` and ``cw`` are ``x`` (never read: the flag is 0)."""
    x = cupy.ascontiguousarray(x2)
    dt = x.dtype
    smooth = spread is not None
    return (x, cupy.ascontiguousarray(target, dtype=cupy.int64), cupy.ascontiguousarray(pick, dtype=dt),
            cupy.ascontiguousarray(spread, dtype=dt) if smooth else x,
            cupy.ascontiguousarray(cw, dtype=dt) if smooth else x, smooth)


def cross_entropy_forward(x2, target, pick, spread, cw):
    """See ``losses.cross_entropy_forward_reference``."""
    x, t, p, s, w, smooth = _prepared(x2, target, pick, spread, cw)
    M, C = x.shape
    loss = cupy.empty(M, x.dtype)
    lse = cupy.empty(M, x.dtype)
    _MODULE.function("fwd", x.dtype)((M,), (row_threads(C),), (x, t, p, s, w, flag(smooth), i64(C), loss, lse))
    return loss, lse


def cross_entropy_backward(x2, lse, target, scale, pick, spread, cw):
    """See ``losses.cross_entropy_backward_reference``."""
    x, t, p, s, w, smooth = _prepared(x2, target, pick, spread, cw)
    M, C = x.shape
    g = cupy.empty_like(x)
    wsum = w.sum().reshape(1) if smooth else x
    launch_flat(_MODULE.function("bwd", x.dtype), x.size,
                (x, cupy.ascontiguousarray(lse, dtype=x.dtype), t, cupy.ascontiguousarray(scale, dtype=x.dtype), p, s,
                 w, wsum, flag(smooth), i64(M), i64(C), g))
    return g
