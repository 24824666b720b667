"""Numba CPU implementation of ``kernels/conv_im2col.py``'s col2im for two spatial dims: each row of ``cols`` (one
channel and kernel offset of an image) is added into the output one output row at a time, the columns whose
window reaches into the padding left out per kernel offset, so no zero-filled padded buffer exists.
(im2col stays the reference's one strided copy: a loop per output row was slower.)"""
import numpy as np

from ._numba import jit


@jit
def _valid(x0, s, n_in, n_out):
    """The output positions ``o`` (a range) whose input position ``x0 + o * s`` lies in ``[0, n_in)``."""
    lo = 0 if x0 >= 0 else (-x0 + s - 1) // s
    hi = min(n_out, (n_in - 1 - x0) // s + 1) if n_in - 1 - x0 >= 0 else 0
    return lo, max(lo, hi)


@jit
def _col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out):
    n, C, H, W = out.shape
    out[...] = 0
    for img in range(n):
        for c in range(C):
            for ky in range(kh):
                for kx in range(kw):
                    r = (c * kh + ky) * kw + kx
                    x0 = kx * dw - pw
                    lo, hi = _valid(x0, sw, W, Wo)
                    for oy in range(Ho):
                        iy = oy * sh - ph + ky * dh
                        if iy < 0 or iy >= H:
                            continue
                        for ox in range(lo, hi):
                            out[img, c, iy, x0 + ox * sw] += cols[img, r, oy * Wo + ox]


def col2im(cols, g, out):
    """See ``conv_im2col.col2im_reference``."""
    c3 = np.ascontiguousarray(cols).reshape(cols.shape[0], -1, cols.shape[-1])
    _col2im(c3, *(g.kernel + g.stride + g.lo + g.dilation + g.out_sp), out)
