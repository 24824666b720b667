"""CuPy implementation of ``kernels/dropout.py``: the masked input and the mask in one elementwise pass."""
import cupy

from ._cupy import CudaModule, launch_flat, i64

_SOURCE = r"""
template <typename T>
__global__ void apply(const T* x, const bool* keep, T scale, long long n, T* y, T* mask) {
    GRID_LOOP(i, n) {
        T m = keep[i] ? scale : T(0);
        mask[i] = m;
        y[i] = x[i] * m;
    }
}
"""

_MODULE = CudaModule(_SOURCE, ("apply",))


def dropout_forward(x, keep, scale):
    """See ``dropout.dropout_forward_reference``."""
    xf = cupy.ascontiguousarray(x)
    kf = cupy.ascontiguousarray(keep, dtype=cupy.bool_)
    y = cupy.empty_like(xf)
    mask = cupy.empty_like(xf)
    launch_flat(_MODULE.function("apply", xf.dtype), xf.size, (xf, kf, xf.dtype.type(scale), i64(xf.size), y, mask))
    return y, mask
