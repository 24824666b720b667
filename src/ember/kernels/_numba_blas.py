"""Matrix products called from compiled kernels through the BLAS NumPy itself links: its CBLAS ``sgemm`` /
``dgemm``, found by symbol in NumPy's extension module, so kernels need no SciPy (Numba binds ``np.dot`` inside
compiled code to SciPy's BLAS, and without SciPy it does not compile).

``gemm_address(dtype)`` finds the function once per process; kernels take its ``(address, ilp64)`` as arguments
and call ``gemm(address, ilp64, a, b, c, beta)``, so their machine code still goes to Numba's disk cache.
"""
import ctypes
import functools

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from numba import prange

from ._numba import inline, pjit

# CBLAS gemm names NumPy's BLAS may export, with whether its integers are 64-bit: the scipy-openblas64 of NumPy's
# wheels (2.x; 1.26), then a plain LP64 CBLAS
_GEMM_SYMBOLS = (("scipy_cblas_{}gemm64_", True), ("cblas_{}gemm64_", True), ("cblas_{}gemm", False))
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _numpy_blas_library():
    """NumPy's BLAS as a ctypes library: its core extension module, whose symbol lookup also searches the
    libraries it links."""
    try:
        from numpy._core import _multiarray_umath as core
    except ImportError:         # NumPy 1.x
        from numpy.core import _multiarray_umath as core
    return ctypes.CDLL(core.__file__)


@functools.lru_cache(maxsize=None)
def gemm_address(dtype, library=None):
    """``(address, ilp64)`` of the CBLAS ``sgemm`` / ``dgemm`` (float32 / float64 ``dtype``) that ``library`` (a
    ctypes library, NumPy's BLAS by default) exports, ``ilp64`` whether its integers are 64-bit; None when it
    exports none of the known names or ``dtype`` is neither."""
    kind = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}.get(np.dtype(dtype))
    if kind is None:
        return None
    try:
        library = library or _numpy_blas_library()
    except OSError:
        return None
    for name, ilp64 in _GEMM_SYMBOLS:
        fn = getattr(library, name.format(kind), None)
        if fn is not None:
            return ctypes.cast(fn, ctypes.c_void_p).value, ilp64
    return None


def _cblas_gemm_intrinsic(int_bits):
    """An intrinsic ``(address, ta, tb, a, b, c, beta)``: ``c = op(a) @ op(b) + beta c`` by the CBLAS gemm at
    ``address`` with ``int_bits``-bit integers, ``op(x)`` being ``x.T`` where the flag ``ta`` / ``tb`` is set, for
    2-D arrays of one float dtype whose rows are contiguous (leading dimensions from their row strides).  The
    address is an argument, so the compiled code caches (a ctypes function would not)."""
    @intrinsic
    def gemm(typingctx, address, ta, tb, a, b, c, beta):
        if not all(isinstance(x, types.Array) and x.ndim == 2 and x.dtype == a.dtype for x in (a, b, c)):
            return None

        def codegen(context, builder, signature, args):
            fty, ity = context.get_value_type(a.dtype), ir.IntType(int_bits)
            fp, i32 = fty.as_pointer(), ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, ity, ity, ity, fty, fp, ity, fp, ity, fty, fp, ity])
            fn = builder.inttoptr(args[0], fnty.as_pointer())
            arrays = [context.make_array(t)(context, builder, v) for t, v in zip(signature.args[3:6], args[3:6])]
            shapes = [cgutils.unpack_tuple(builder, x.shape, 2) for x in arrays]
            size = ir.Constant(ir.IntType(64), a.dtype.bitwidth // 8)
            lead = [builder.trunc(builder.sdiv(cgutils.unpack_tuple(builder, x.strides, 2)[0], size), ity)
                    for x in arrays]
            zero = ir.Constant(ir.IntType(64), 0)
            ta_set = builder.icmp_signed("!=", context.cast(builder, args[1], signature.args[1], types.int64), zero)
            tb_set = builder.icmp_signed("!=", context.cast(builder, args[2], signature.args[2], types.int64), zero)
            m = builder.select(ta_set, shapes[0][1], shapes[0][0])
            k = builder.select(ta_set, shapes[0][0], shapes[0][1])
            n = builder.select(tb_set, shapes[1][0], shapes[1][1])
            m, k, n = (builder.trunc(v, ity) for v in (m, k, n))
            enum = lambda v: ir.Constant(i32, v)
            trans = [builder.select(t, enum(_TRANS), enum(_NO_TRANS)) for t in (ta_set, tb_set)]
            (A, B, C) = [x.data for x in arrays]
            builder.call(fn, [enum(_ROW_MAJOR), trans[0], trans[1], m, n, k, ir.Constant(fty, 1.0), A,
                              lead[0], B, lead[1], context.cast(builder, args[6], signature.args[6], a.dtype), C,
                              lead[2]])
            return context.get_dummy_value()
        return types.void(address, ta, tb, a, b, c, beta), codegen
    return gemm


_gemm64, _gemm32 = _cblas_gemm_intrinsic(64), _cblas_gemm_intrinsic(32)


@inline
def gemm_t(address, ilp64, ta, tb, a, b, c, beta):
    """``c = op(a) @ op(b) + beta c`` through ``gemm_address``'s BLAS, ``op(x)`` being ``x.T`` where the flag
    ``ta`` / ``tb`` is set (rows of each stored operand contiguous).  An empty ``c`` is left alone, and an empty
    inner dimension gives ``beta c`` without calling BLAS (which rejects a leading dimension of 0)."""
    if c.shape[0] == 0 or c.shape[1] == 0:
        return
    if a.shape[0] == 0 or a.shape[1] == 0:
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                c[i, j] = c[i, j] * beta if beta != 0 else 0
    elif ilp64:
        _gemm64(address, ta, tb, a, b, c, beta)
    else:
        _gemm32(address, ta, tb, a, b, c, beta)


@inline
def gemm(address, ilp64, a, b, c, beta):
    """``c = a @ b + beta c`` through ``gemm_address``'s BLAS (rows of each operand contiguous)."""
    gemm_t(address, ilp64, 0, 0, a, b, c, beta)


@pjit
def split_gemm(address, ilp64, ta, tb, a, b, c, by_rows, nch):
    """``c = op(a) @ op(b)`` (see ``gemm_t``) in ``nch`` parts run at once: bands of ``c``'s rows when
    ``by_rows``, else bands of its columns."""
    for ch in prange(nch):
        if by_rows:
            r0, r1 = ch * c.shape[0] // nch, (ch + 1) * c.shape[0] // nch
            if ta:
                gemm_t(address, ilp64, ta, tb, a[:, r0:r1], b, c[r0:r1], 0.0)
            else:
                gemm_t(address, ilp64, ta, tb, a[r0:r1], b, c[r0:r1], 0.0)
        else:
            c0, c1 = ch * c.shape[1] // nch, (ch + 1) * c.shape[1] // nch
            if tb:
                gemm_t(address, ilp64, ta, tb, a, b[c0:c1], c[:, c0:c1], 0.0)
            else:
                gemm_t(address, ilp64, ta, tb, a, b[:, c0:c1], c[:, c0:c1], 0.0)


@pjit
def split_batched_gemm(address, ilp64, ta, tb, a, b, c, nch):
    """``c[i] = op(a[i]) @ op(b[i])`` for every ``i`` of the leading dimension (3-D arrays, see ``gemm_t``), the
    batch shared among ``nch`` parts run at once."""
    for ch in prange(nch):
        for i in range(ch * c.shape[0] // nch, (ch + 1) * c.shape[0] // nch):
            gemm_t(address, ilp64, ta, tb, a[i], b[i], c[i], 0.0)


def _stored(x):
    """``(y, t)``: ``x`` (2-D, or a stack of matrices) as an array ``y`` whose matrices' rows are contiguous, ``t``
    whether ``x`` is ``y`` with its last two axes swapped; None when neither way has contiguous rows."""
    item = x.itemsize
    if x.strides[-1] == item and x.strides[-2] >= max(1, x.shape[-1]) * item:
        return x, 0
    if x.strides[-2] == item and x.strides[-1] >= max(1, x.shape[-2]) * item:
        return x.swapaxes(-1, -2), 1
    return None


def _stack(x):
    """``x``'s stored form (``_stored``) as a 3-D view, or None (a stack of more dims that does not fold)."""
    s = _stored(x)
    if s is None or s[0].ndim == 3:
        return s
    y = s[0]
    if not y.flags.c_contiguous:
        return None
    return y.reshape(-1, *y.shape[-2:]), s[1]


def split_product(a, b, nch):
    """``a @ b`` on ``nch`` threads for float32/float64 arrays of one dtype: 2-D by ``split_gemm``; a stack of
    matrices by a 2-D matrix, the stack folded into rows where it is contiguous; two stacks of one batch shape by
    ``split_batched_gemm``.  None where the operands' layouts, shapes or dtype do not suit BLAS."""
    blas = gemm_address(a.dtype)
    if blas is None or b.dtype != a.dtype:
        return None
    if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:
        r = split_product(a.reshape(-1, a.shape[-1]), b, nch)
        return None if r is None else r.reshape(*a.shape[:-1], b.shape[1])
    if a.ndim == 2 == b.ndim:
        sa, sb = _stored(a), _stored(b)
        if sa is None or sb is None:
            return None
        c = np.empty((a.shape[0], b.shape[1]), a.dtype)
        split_gemm(*blas, sa[1], sb[1], sa[0], sb[0], c, a.shape[0] >= b.shape[1], nch)
        return c
    if a.ndim < 3 or a.shape[:-2] != b.shape[:-2]:
        return None
    sa, sb = _stack(a), _stack(b)
    if sa is None or sb is None:
        return None
    c = np.empty(a.shape[:-1] + b.shape[-1:], a.dtype)
    split_batched_gemm(*blas, sa[1], sb[1], sa[0], sb[0], c.reshape(-1, *c.shape[-2:]), nch)
    return c
