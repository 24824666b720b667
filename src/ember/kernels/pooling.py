"""Max pooling kernels: the max over every window with its argmax, and the adjoint of picking the argmax (the
backward's scatter).

``w`` is the window geometry (``ops/pool._Win``: ``kernel``, ``stride``, ``pad`` (left), ``hi`` (right padding
the last window needs), ``dilation``, ``in_sp``, ``out_sp`` over the last ``nd`` dims, and its slicing
helpers).  The argmax is the winning kernel offset (row-major over the kernel), the earliest one on ties, the
last NaN where a window holds NaN (so NaN wins, as in PyTorch); a window whose values all equal the padding
value reports its first element inside the input.
"""
import math

from .._device import module_of_array
from ._dispatch import Kernel


def _lowest(xp, dtype):
    if dtype.kind == "f":
        return -math.inf
    if dtype.kind == "b":
        return False
    return xp.iinfo(dtype).min


def max_windows_reference(x, w, need_idx):
    """Max over every window of x (..., *S): values (..., *out) and, if asked, the winning kernel offset
    (int8, or int32 for kernels of 128 offsets or more; None otherwise)."""
    xp = module_of_array(x)
    lowest = _lowest(xp, x.dtype)
    buf = w.pad_array(x, lowest)
    offs = w.offsets()
    if not need_idx:
        m = buf[w.slices(offs[0])].copy()
        for off in offs[1:]:
            xp.maximum(m, buf[w.slices(off)], out=m)
        return m, None
    itype = xp.int8 if len(offs) < 128 else xp.int32
    if x.dtype.kind == "f" and x.size and xp.isnan(x.max()):
        # NaN wins, as in PyTorch (the last NaN of the window): a sequential scan
        m = buf[w.slices(offs[0])].copy()
        idx = xp.zeros(m.shape, dtype=itype)
        for j, off in enumerate(offs[1:], 1):
            v = buf[w.slices(off)]
            upd = (v > m) | xp.isnan(v)
            xp.copyto(idx, j, where=upd)
            xp.copyto(m, v, where=upd)
    else:
        # pairwise tournament over the kernel offsets, earlier offset winning ties (PyTorch's first maximum)
        level = [(buf[w.slices(off)], j) for j, off in enumerate(offs)]
        while len(level) > 1:
            nxt = []
            for k in range(0, len(level) - 1, 2):
                (ma, ia), (mb, ib) = level[k], level[k + 1]
                later = mb > ma
                # idx = later ? ib : ia, with arithmetic (np.where is several times slower here)
                if isinstance(ia, int):
                    idx = later.view(xp.int8).astype(itype, copy=False)
                    if ib - ia != 1:
                        idx = idx * itype(ib - ia)
                    if ia:
                        idx = idx + itype(ia)
                else:
                    idx = ia + (ib - ia) * later
                nxt.append((xp.maximum(ma, mb), idx))
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        m, idx = level[0]
        if isinstance(idx, int):  # a 1-element kernel
            m, idx = m.copy(), xp.zeros(m.shape, dtype=itype)
    if w.is_padded:
        # a window whose values all equal the padding value picked a padded slot: PyTorch reports its first
        # element inside the input instead
        stuck = m == lowest
        if stuck.any():
            first = xp.zeros(w.out_sp, dtype=xp.int64)
            for a in range(w.nd):
                o = xp.arange(w.out_sp[a])
                start = o * w.stride[a] - w.pad[a]
                kk = xp.where(start < 0, (-start + w.dilation[a] - 1) // w.dilation[a], 0)
                shape = [1] * w.nd
                shape[a] = -1
                first = first * w.kernel[a] + kk.reshape(shape)
            xp.copyto(idx, xp.broadcast_to(first, idx.shape).astype(idx.dtype), where=stuck)
    return m, idx


def offset_scatter_reference(g, idx, w, dtype):
    """Adjoint of picking the offset ``idx`` in each window: g (..., *out) -> (..., *S)."""
    xp = module_of_array(g)
    shape = g.shape[:-w.nd] + w.padded
    disjoint = w.disjoint()
    tiled = disjoint and w.stride == tuple(d * (k - 1) + 1 for d, k in zip(w.dilation, w.kernel)) \
        and all(o * s == n for o, s, n in zip(w.out_sp, w.stride, w.padded))
    buf = xp.empty(shape, dtype=dtype) if tiled else xp.zeros(shape, dtype=dtype)
    for j, off in enumerate(w.offsets()):
        key = w.slices(off)
        if disjoint:
            xp.multiply(g, idx == j, out=buf[key])
        else:
            buf[key] += g * (idx == j)
    return w.crop(buf)


def _accepts(x, w, need_idx):
    """Compiled kernels: float32/float64 with elements, pooling over one or two dims."""
    return x.dtype.char in "fd" and x.size > 0 and w.nd <= 2


def _accepts_scatter(g, idx, w, dtype):
    return _accepts(g, w, True) and dtype.char in "fd"


_N = "ember.kernels._numba_pooling:"
max_windows = Kernel("max_windows", max_windows_reference, numba=_N + "max_windows", accepts=_accepts)
offset_scatter = Kernel("offset_scatter", offset_scatter_reference, numba=_N + "offset_scatter",
                        accepts=_accepts_scatter)
