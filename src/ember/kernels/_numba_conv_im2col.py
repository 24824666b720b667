"""Numba CPU implementation of ``kernels/conv_im2col.py``'s col2im for two spatial dims.

Per image and channel the gradient accumulates in a zero-padded plane split by stride phase (padded pixel
``(Y sh + py, J sw + px)`` at ``[py, px, Y, J]``) with the row pitch of ``cols`` (``col_pitch``): a kernel
offset's positions then land on one contiguous run of one phase, a single long loop (rows of Wo are too short
for LLVM's vector loop); one pass moves the phases into the NCHW rows, interleaving them for stride 2.
(im2col stays the reference's one strided copy: a loop per output row was slower.)"""
import numpy as np

from ._numba import jit
from .conv_im2col import col_pitch


@jit
def _col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Jn, out):
    n, C, H, W = out.shape
    Pn = Ho * Jn
    Yn = max(Ho + dh * (kh - 1) // sh, (H - 1 + ph) // sh + 1)
    acc = np.empty((sh, sw, (Yn + 1) * Jn), out.dtype)
    for img in range(n):
        for c in range(C):
            acc[:] = 0
            for ky in range(kh):
                py, y0 = (ky * dh) % sh, (ky * dh) // sh
                for kx in range(kw):
                    px, x0 = (kx * dw) % sw, (kx * dw) // sw
                    src = cols[img, (c * kh + ky) * kw + kx]
                    dst = acc[py, px, y0 * Jn + x0:y0 * Jn + x0 + Pn]
                    for m in range(Pn):
                        dst[m] += src[m]
            for y in range(H):
                Y, py = divmod(y + ph, sh)
                row = out[img, c, y]
                if sw == 1:
                    src = acc[py, 0, Y * Jn + pw:Y * Jn + pw + W]
                    for x in range(W):
                        row[x] = src[x]
                elif sw == 2:   # even columns 2 u from phase pw % 2 at u + pw // 2, odd ones from the other phase
                    se = acc[py, pw % 2, Y * Jn + pw // 2:]
                    so = acc[py, (pw + 1) % 2, Y * Jn + (pw + 1) // 2:]
                    for u in range(W // 2):
                        row[2 * u] = se[u]
                        row[2 * u + 1] = so[u]
                    if W % 2:
                        row[W - 1] = se[W // 2]
                else:
                    for px in range(sw):
                        src = acc[py, px, Y * Jn:(Y + 1) * Jn]
                        for J in range((pw - px + sw - 1) // sw, (W - 1 + pw - px) // sw + 1):
                            row[J * sw + px - pw] = src[J]


def col2im(cols, g, out):
    """See ``conv_im2col.col2im_reference``."""
    c3 = np.ascontiguousarray(cols).reshape(cols.shape[0], -1, cols.shape[-1])
    _col2im(c3, *(g.kernel + g.stride + g.lo + g.dilation), g.out_sp[0], col_pitch(g), out)
