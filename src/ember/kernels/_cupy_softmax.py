"""CuPy implementations of ``kernels/softmax.py``: one kernel per pass direction, a row read twice (max, then the
sum of exponentials) and written once.  A trailing softmax (``B == 1``) gives each row to a block; a softmax over
an inner dim gives each of the ``A * B`` strided rows to one thread (neighbouring threads, neighbouring ``b``)."""
import cupy

from ._cupy import CudaModule, row_threads, i64, flag

_SOURCE = r"""
// the row starting at x (elements x[i * B], i < n)
template <typename T, typename Team>
__device__ void fwd_row(const Team& team, const T* x, T* y, long long n, long long B, int log_) {
    T m = T(NEG_INF);
    for (long long i = team.start(); i < n; i += team.step()) m = fmax(m, x[i * B]);
    m = team.max(m);
    T s = 0;
    for (long long i = team.start(); i < n; i += team.step()) s += exp(x[i * B] - m);
    s = team.sum(s);
    if (log_) {
        T c = m + log(s);
        for (long long i = team.start(); i < n; i += team.step()) y[i * B] = x[i * B] - c;
    } else {
        for (long long i = team.start(); i < n; i += team.step()) y[i * B] = exp(x[i * B] - m) / s;
    }
}

template <typename T, typename Team>
__device__ void bwd_row(const Team& team, const T* g, const T* y, T* gx, long long n, long long B, int log_) {
    T s = 0;
    for (long long i = team.start(); i < n; i += team.step()) s += log_ ? g[i * B] : g[i * B] * y[i * B];
    s = team.sum(s);
    for (long long i = team.start(); i < n; i += team.step()) {
        long long j = i * B;
        gx[j] = log_ ? g[j] - exp(y[j]) * s : (g[j] - s) * y[j];
    }
}

// rows (a, b) of x (A, n, B): by block (blockIdx.x = a * B + b) or by thread
template <typename T>
__global__ void fwd_by_block(const T* x, T* y, long long n, long long B, int log_) {
    long long a = blockIdx.x / B, b = blockIdx.x - a * B, base = a * n * B + b;
    fwd_row(BlockTeam(), x + base, y + base, n, B, log_);
}

template <typename T>
__global__ void fwd_by_thread(const T* x, T* y, long long A, long long n, long long B, int log_) {
    long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (t >= A * B) return;
    long long a = t / B, b = t - a * B, base = a * n * B + b;
    fwd_row(ThreadTeam(), x + base, y + base, n, B, log_);
}

template <typename T>
__global__ void bwd_by_block(const T* g, const T* y, T* gx, long long n, long long B, int log_) {
    long long a = blockIdx.x / B, b = blockIdx.x - a * B, base = a * n * B + b;
    bwd_row(BlockTeam(), g + base, y + base, gx + base, n, B, log_);
}

template <typename T>
__global__ void bwd_by_thread(const T* g, const T* y, T* gx, long long A, long long n, long long B, int log_) {
    long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (t >= A * B) return;
    long long a = t / B, b = t - a * B, base = a * n * B + b;
    bwd_row(ThreadTeam(), g + base, y + base, gx + base, n, B, log_);
}
"""

_MODULE = CudaModule(_SOURCE, ("fwd_by_block", "fwd_by_thread", "bwd_by_block", "bwd_by_thread"))

_BY_THREAD_MIN_ROWS = 2048   # strided rows below this many leave the GPU idle one per thread: a block each


def _launch(kind, first, arrays, log):
    """Run the forward or backward (``kind``) over the rows of ``first`` ``(A, n, B)``."""
    A, n, B = first.shape
    if B > 1 and A * B >= _BY_THREAD_MIN_ROWS:
        fn = _MODULE.function(kind + "_by_thread", first.dtype)
        fn(((A * B + 255) // 256,), (256,), (*arrays, i64(A), i64(n), i64(B), flag(log)))
    else:
        fn = _MODULE.function(kind + "_by_block", first.dtype)
        fn((A * B,), (row_threads(n),), (*arrays, i64(n), i64(B), flag(log)))


def softmax_forward(x3, log):
    """See ``softmax.softmax_forward_reference``."""
    x = cupy.ascontiguousarray(x3)
    y = cupy.empty_like(x)
    _launch("fwd", x, (x, y), log)
    return y


def softmax_backward(g3, y3, log):
    """See ``softmax.softmax_backward_reference``."""
    y = cupy.ascontiguousarray(y3)
    g = cupy.ascontiguousarray(g3, dtype=y.dtype)
    gx = cupy.empty_like(y)
    _launch("bwd", y, (g, y, gx), log)
    return gx
