"""CuPy implementations of the row-statistics kernels of ``kernels/norms.py`` (layer, group, instance and RMS
norm): one block per row ``(K, S)``, its statistics summed in double; the affine gradients as per-chunk partial
sums over the rows of each channel (one thread per channel and chunk), added up afterwards."""
import cupy

from ._cupy import CudaModule, row_threads, i64, flag

_SOURCE = r"""
template <typename T>
__global__ void fwd(const T* x, const T* w, const T* b, int has_w, int has_b, long long K, long long S,
                    long long groups, double eps, int center, T* y, T* mean, T* rstd) {
    long long r = blockIdx.x, L = K * S, base = (r % groups) * K;
    const T* xr = x + r * L;
    double m = 0, v = 0;
    if (center) {
        for (long long j = threadIdx.x; j < L; j += blockDim.x) m += xr[j];
        m = block_sum(m) / L;
    }
    for (long long j = threadIdx.x; j < L; j += blockDim.x) {
        double d = xr[j] - m;
        v += d * d;
    }
    v = block_sum(v) / L;
    T mr = T(m), rr = T(1.0 / sqrt(v + eps));   // the row's statistics in the input's precision from here on
    if (threadIdx.x == 0) {
        mean[r] = mr;
        rstd[r] = rr;
    }
    for (long long j = threadIdx.x; j < L; j += blockDim.x) {
        long long k = base + j / S;
        T sc = has_w ? rr * w[k] : rr;
        y[r * L + j] = (xr[j] - mr) * sc + (has_b ? b[k] : T(0));
    }
}

template <typename T>
__global__ void bwd(const T* g, const T* x, const T* mean, const T* rstd, const T* w, int has_w, long long K,
                    long long S, long long groups, int center, T* gx) {
    long long r = blockIdx.x, L = K * S, base = (r % groups) * K;
    const T* gr = g + r * L;
    const T* xr = x + r * L;
    T m = mean[r], rs = rstd[r];
    double a = 0, bx = 0;   // sums of dxhat and of dxhat * xhat over the row
    for (long long j = threadIdx.x; j < L; j += blockDim.x) {
        T d = has_w ? gr[j] * w[base + j / S] : gr[j];
        a += d;
        bx += d * ((xr[j] - m) * rs);
    }
    a = block_sum(a);
    bx = block_sum(bx);
    T ca = center ? T(a / L) : T(0), cb = T(bx / L);
    for (long long j = threadIdx.x; j < L; j += blockDim.x) {
        T d = has_w ? gr[j] * w[base + j / S] : gr[j];
        gx[r * L + j] = (d - ca - (xr[j] - m) * rs * cb) * rs;
    }
}

// partial sums of g * xhat and g of channel c = blockIdx.x * blockDim.x + threadIdx.x over rows n * groups + c / K,
// n in this chunk (blockIdx.y); into gw[chunk, c], gb[chunk, c]
template <typename T>
__global__ void affine(const T* g, const T* x, const T* mean, const T* rstd, long long n_rows, long long K,
                       long long S, long long groups, long long chunk, double* gw, double* gb) {
    long long C = groups * K, c = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (c >= C) return;
    long long gi = c / K, k = c - gi * K, n0 = blockIdx.y * chunk, n1 = min(n0 + chunk, n_rows);
    double sw = 0, sb = 0;
    for (long long n = n0; n < n1; n++) {
        long long r = n * groups + gi, at = (r * K + k) * S;
        T m = mean[r], rs = rstd[r];
        for (long long s = 0; s < S; s++) {
            T gv = g[at + s];
            sb += gv;
            sw += gv * ((x[at + s] - m) * rs);
        }
    }
    gw[blockIdx.y * C + c] = sw;
    gb[blockIdx.y * C + c] = sb;
}
"""

_MODULE = CudaModule(_SOURCE, ("fwd", "bwd", "affine"))


def _affine_array(v, x):
    """``v`` as a flat contiguous array of ``x``'s dtype, or ``x`` itself for None (never read: the flag is 0)."""
    return x if v is None else cupy.ascontiguousarray(v, dtype=x.dtype).reshape(-1)


def row_norm_forward(x3, groups, weight, bias, eps, center):
    """See ``norms.row_norm_forward_reference``."""
    x = cupy.ascontiguousarray(x3)
    R, K, S = x.shape
    y = cupy.empty_like(x)
    mean = cupy.empty(R, x.dtype)
    rstd = cupy.empty(R, x.dtype)
    _MODULE.function("fwd", x.dtype)(
        (R,), (row_threads(K * S),),
        (x, _affine_array(weight, x), _affine_array(bias, x), flag(weight is not None), flag(bias is not None),
         i64(K), i64(S), i64(groups), cupy.float64(eps), flag(center), y, mean, rstd))
    return y, mean, rstd


def row_norm_backward(g3, x3, mean, rstd, groups, weight, center, need_affine):
    """See ``norms.row_norm_backward_reference``."""
    x = cupy.ascontiguousarray(x3)
    g = cupy.ascontiguousarray(g3, dtype=x.dtype)
    mean = cupy.ascontiguousarray(mean, dtype=x.dtype)
    rstd = cupy.ascontiguousarray(rstd, dtype=x.dtype)
    R, K, S = x.shape
    gx = cupy.empty_like(x)
    _MODULE.function("bwd", x.dtype)(
        (R,), (row_threads(K * S),),
        (g, x, mean, rstd, _affine_array(weight, x), flag(weight is not None), i64(K), i64(S), i64(groups),
         flag(center), gx))
    if not need_affine:
        return gx, None, None
    C, n_rows = groups * K, R // groups
    nch = min(n_rows, 65535, -(-(1 << 17) // C))   # about 128k threads in all
    chunk = -(-n_rows // nch)
    nch = -(-n_rows // chunk)
    gw = cupy.empty((nch, C))
    gb = cupy.empty((nch, C))
    _MODULE.function("affine", x.dtype)(((C + 127) // 128, nch), (128,),
                                        (g, x, mean, rstd, i64(n_rows), i64(K), i64(S), i64(groups), i64(chunk),
                                         gw, gb))
    return gx, gw.sum(axis=0).astype(x.dtype), gb.sum(axis=0).astype(x.dtype)
