"""im2col and its adjoint col2im (a kernel), the data passes of ``ops/conv.py``'s GEMM convolution.

``g`` is the convolution's geometry (``ops/conv._Geom``: ``nd``, ``stride``, ``lo``/``hi`` padding, ``dilation``,
``groups``, ``kernel``, ``in_sp``, ``out_sp``, ``C``).  Layout: an input block ``x`` ``(n, C, *S)``; ``cols``
``(n, groups, C/groups * prod(kernel), P)``: per image, rows in (channel, kernel offset) order and columns over
the ``P`` output positions, zero where a window reaches into the padding.  Per image, so that the GEMM
``w (groups, O/groups, K) @ cols`` is the NCHW output itself, and the output gradient needs no transposing
either.

col2im takes its ``cols`` with the output positions in rows of ``col_pitch(g)`` (>= Wo; the columns past Wo are
zero): the backward's GEMM runs on an output gradient padded to that pitch, so that every kernel offset's
positions are one contiguous run of the compiled kernel's stride-phase-split gradient plane.
"""
import itertools
import math

from .._device import module_of_array
from ._dispatch import Kernel


def _pad(x, g):
    """``x`` (n, C, *S) zero-padded by (lo, hi) on every spatial dim."""
    xp = module_of_array(x)
    if not any(g.lo) and not any(g.hi):
        return x
    buf = xp.zeros(x.shape[:2] + g.padded, dtype=x.dtype)
    buf[(slice(None), slice(None)) + tuple(slice(a, a + s) for a, s in zip(g.lo, g.in_sp))] = x
    return buf


def im2col_reference(x, g, out=None):
    """(n, C, *S) -> cols (n, groups, C/groups * prod(k), P) (written into ``out`` when given): one copy of a
    strided view."""
    xp = module_of_array(x)
    xp_ = _pad(x, g)
    st = xp_.strides
    ssp = st[2:]
    shape = x.shape[:2] + g.kernel + g.out_sp
    strides = (st[:2] + tuple(d * s for d, s in zip(g.dilation, ssp)) + tuple(t * s for t, s in zip(g.stride, ssp)))
    view = xp.lib.stride_tricks.as_strided(xp_, shape, strides, writeable=False)
    if out is None:
        return view.reshape(x.shape[0], g.groups, -1, math.prod(g.out_sp))
    out.reshape(shape)[...] = view
    return out


def rows_layout(g):
    """Whether a two-dim convolution's output is as wide as a stride phase of its input (Wo = ceil(W / sw): "same"
    padding, any stride) and every kernel column lies within Wo phase columns of the output's: a kernel offset's
    window positions are then one run of a stride-phase plane of the unpadded input at the output's row pitch
    (the compiled kernels' fast layout)."""
    if g.nd != 2:
        return False
    wo, sw, pw = g.out_sp[1], g.stride[1], g.lo[1]
    reach = max(abs(k * g.dilation[1] - pw) // sw + 1 for k in (0, g.kernel[1] - 1))
    return wo == -(-g.in_sp[1] // sw) and reach < wo


def col_pitch(g):
    """The row pitch of col2im's output positions: with two spatial dims outside ``rows_layout``, Wo plus the
    columns a kernel offset reaches past it in strides, and at least the columns of the input's last stride
    phase; Wo otherwise."""
    wo = g.out_sp[-1]
    if g.nd != 2 or rows_layout(g):
        return wo
    return max(wo + g.dilation[1] * (g.kernel[1] - 1) // g.stride[1], (g.in_sp[1] - 1 + g.lo[1]) // g.stride[1] + 1)


def col2im_reference(cols, g, out):
    """The adjoint of ``im2col``: cols (n, groups, K, P) (positions in rows of ``col_pitch(g)``) summed into the
    windows -> ``out`` (n, C, *S), which it overwrites."""
    xp = module_of_array(out)
    n = out.shape[0]
    buf = xp.zeros((n, g.C) + g.padded, dtype=out.dtype)
    cols = cols.reshape((n, g.C) + g.kernel + g.out_sp[:-1] + (col_pitch(g),))[..., :g.out_sp[-1]]
    full = (slice(None), slice(None))
    for off in itertools.product(*[range(k) for k in g.kernel]):
        key = full + tuple(slice(o * d, o * d + t * (m - 1) + 1, t)
                           for o, d, t, m in zip(off, g.dilation, g.stride, g.out_sp))
        buf[key] += cols[full + off]
    out[...] = buf[full + tuple(slice(a, a + s) for a, s in zip(g.lo, g.in_sp))]


def sparse_windows(g):
    """Whether the windows together skip most input pixels (a 1x1 / stride-2 window reads a quarter of them), which
    a copy of the whole input into phase planes (the compiled im2col) would still all move."""
    return math.prod(g.kernel) < math.prod(g.stride)


def _accepts_im2col(x, g, out=None):
    """The compiled im2col: float32/float64 with elements, two spatial dims, windows that together cover about
    every input pixel (the strided copy reads only those of ``sparse_windows``)."""
    return x.dtype.char in "fd" and x.size > 0 and g.nd == 2 and not sparse_windows(g)


def _accepts_col2im(cols, g, out):
    """The compiled col2im: float32/float64 with elements, two spatial dims."""
    return cols.dtype.char in "fd" and cols.size > 0 and g.nd == 2


im2col = Kernel("im2col", im2col_reference, numba="ember.kernels._numba_conv_im2col:im2col", accepts=_accepts_im2col)
col2im = Kernel("col2im", col2im_reference, numba="ember.kernels._numba_conv_im2col:col2im", accepts=_accepts_col2im)
