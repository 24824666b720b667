"""What every CuPy kernel module (``kernels/_cupy_*.py``) shares: CUDA modules compiled on first use, launch
sizes, and the CUDA reductions their row kernels are written with.

Importing this module imports CuPy but touches no device: a ``CudaModule`` compiles (NVRTC, for the current
device) when one of its functions is first asked for, which happens on the first call with a CuPy array.

CUDA helpers in ``REDUCE`` (prepended to every module's source):

* ``NEG_INF``: -infinity (a double; NVRTC has no ``INFINITY``).
* ``GRID_LOOP(i, n)``: ``for`` each ``i < n`` of an elementwise kernel (a grid-stride loop, see ``launch_flat``).
* ``block_sum(v)`` / ``block_max(v)``: the sum / NaN-ignoring max of ``v`` over the threads of a block, returned
  to every thread (every thread of the block must call it; ``blockDim.x`` a multiple of 32).
* ``BlockTeam`` / ``ThreadTeam``: who walks one row.  A row kernel loops ``for (i = team.start(); i < n; i +=
  team.step())`` and combines with ``team.sum(v)`` / ``team.max(v)``; ``BlockTeam`` spreads a row over a block
  (a contiguous row), ``ThreadTeam`` gives a row to one thread (rows that are columns of a strided layout,
  where neighbouring threads then read neighbouring addresses).
"""
import functools

import cupy
import numpy as np

REDUCE = r"""
#define NEG_INF (-__longlong_as_double(0x7ff0000000000000LL))
#define GRID_LOOP(i, n) \
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
         i += (long long)gridDim.x * blockDim.x)
template <typename T> __device__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    return v;
}
template <typename T> __device__ T warp_max(T v) {
    for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_down_sync(0xffffffffu, v, o));
    return v;
}
template <typename T> __device__ T block_sum(T v) {
    __shared__ T part[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();   // an earlier call's readers of part[0] are done
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = warp_sum(lane < warps ? part[lane] : T(0));
        if (lane == 0) part[0] = v;
    }
    __syncthreads();
    return part[0];
}
template <typename T> __device__ T block_max(T v) {
    __shared__ T part[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = warp_max(lane < warps ? part[lane] : T(NEG_INF));
        if (lane == 0) part[0] = v;
    }
    __syncthreads();
    return part[0];
}
struct BlockTeam {
    __device__ long long start() const { return threadIdx.x; }
    __device__ long long step() const { return blockDim.x; }
    template <typename T> __device__ T sum(T v) const { return block_sum(v); }
    template <typename T> __device__ T max(T v) const { return block_max(v); }
};
struct ThreadTeam {
    __device__ long long start() const { return 0; }
    __device__ long long step() const { return 1; }
    template <typename T> __device__ T sum(T v) const { return v; }
    template <typename T> __device__ T max(T v) const { return v; }
};
"""

_CTYPE = {"f": "float", "d": "double"}


class CudaModule:
    """CUDA C++ source whose ``template <typename T>`` kernels are instantiated for float and double.

    Args:
        source: the kernels (``REDUCE`` is prepended).
        kernels: the names of the templated kernels in it.
        options: extra NVRTC options (``("--fmad=false",)`` for bit-exact arithmetic).
    """

    def __init__(self, source, kernels, options=()):
        self.source = REDUCE + source
        self.names = tuple(f"{k}<{t}>" for k in kernels for t in _CTYPE.values())
        self.options = ("-std=c++17",) + tuple(options)

    @functools.cached_property
    def _module(self):
        return cupy.RawModule(code=self.source, options=self.options, name_expressions=self.names)

    def function(self, kernel, dtype):
        """The compiled ``kernel<T>`` for arrays of ``dtype`` (float32 or float64)."""
        return self._module.get_function(f"{kernel}<{_CTYPE[dtype.char]}>")


def row_threads(n):
    """Threads of a block that walks a row of ``n`` elements: a power of two from 32 to 512."""
    return int(min(512, max(32, 1 << (int(n) - 1).bit_length())))


def launch_flat(fn, n, args, threads=256):
    """Run an elementwise kernel ``fn`` whose grid-stride loop covers ``n`` elements."""
    blocks = int(min(max(1, -(-n // threads)), 65536))
    fn((blocks,), (threads,), args)


def i64(v):
    """An integer kernel argument (``long long``)."""
    return np.int64(v)


def flag(v):
    """A boolean kernel argument (``int``)."""
    return np.int32(bool(v))
