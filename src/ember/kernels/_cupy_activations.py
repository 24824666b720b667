"""CuPy implementations of ``kernels/activations.py``: GELU forward and backward in one elementwise pass.

The exact form uses CUDA's ``normcdf``/``normcdff`` (accurate to a few ulp, its left tail relatively too); the
tanh form is computed in double whatever the input's precision, as the Numba kernel does."""
import cupy

from ._cupy import CudaModule, launch_flat, i64, flag
from .activations import SQRT_2_OVER_PI, INV_SQRT_2PI, TANH_CUBIC

_SOURCE = rf"""
__device__ float cdf(float a) {{ return normcdff(a); }}
__device__ double cdf(double a) {{ return normcdf(a); }}
__device__ float pdf(float a) {{ return expf(a * a * -0.5f) * {INV_SQRT_2PI!r}f; }}
__device__ double pdf(double a) {{ return exp(a * a * -0.5) * {INV_SQRT_2PI!r}; }}
__device__ double tanh_u(double a) {{ return tanh({SQRT_2_OVER_PI!r} * (a + {TANH_CUBIC!r} * a * a * a)); }}

template <typename T>
__global__ void fwd(const T* a, T* y, long long n, int tanh_form) {{
    GRID_LOOP(i, n) {{
        T x = a[i];
        if (tanh_form) {{
            double xd = x;
            y[i] = T(0.5 * xd * (tanh_u(xd) + 1.0));
        }} else {{
            y[i] = x * cdf(x);
        }}
    }}
}}

template <typename T>
__global__ void bwd(const T* g, const T* a, T* gx, long long n, int tanh_form) {{
    GRID_LOOP(i, n) {{
        T x = a[i];
        if (tanh_form) {{
            double xd = x, th = tanh_u(xd), du = {SQRT_2_OVER_PI!r} * (1.0 + {3 * TANH_CUBIC!r} * xd * xd);
            gx[i] = T(g[i] * (0.5 * (th + 1.0) + 0.5 * xd * (1.0 - th * th) * du));
        }} else {{
            gx[i] = g[i] * (cdf(x) + x * pdf(x));
        }}
    }}
}}
"""

_MODULE = CudaModule(_SOURCE, ("fwd", "bwd"))


def gelu_forward(a, approximate):
    """See ``activations.gelu_forward_reference``."""
    x = cupy.ascontiguousarray(a)
    y = cupy.empty_like(x)
    launch_flat(_MODULE.function("fwd", x.dtype), x.size, (x, y, i64(x.size), flag(approximate == "tanh")))
    return y


def gelu_backward(g, a, approximate):
    """See ``activations.gelu_backward_reference``."""
    x = cupy.ascontiguousarray(a)
    gg = cupy.ascontiguousarray(g, dtype=x.dtype)
    gx = cupy.empty_like(x)
    launch_flat(_MODULE.function("bwd", x.dtype), x.size, (gg, x, gx, i64(x.size), flag(approximate == "tanh")))
    return gx
