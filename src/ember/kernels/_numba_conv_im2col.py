"""Numba CPU implementation of ``kernels/conv_im2col.py``'s im2col and col2im for two spatial dims.

Both go through a plane per image and channel split by stride phase, where a kernel offset's window positions
are rows of one phase.  In ``rows_layout`` (the output as wide as a phase of the input: "same" padding, any
stride) the planes hold the unpadded phases with the output's row pitch, so each offset's windows are a single
run of one plane, one loop (zero rows above and below stand for the padding; the few positions that wrap into a
neighbouring row lie on the left/right padding: im2col zeroes them after the copy, col2im in ``cols`` before the
sum), and ``cols`` needs no pitch of its own.  Otherwise the planes are zero-padded with the row pitch
``col_pitch``: im2col copies one Wo-long run per output row out of them, col2im (whose ``cols`` come with that
pitch) still adds each offset as one run.  Rows of Wo are too short for LLVM's vector loop, so Numba's cost per
run dominates there.  For stride 2 the planes are filled from, and given back through, one long even/odd split
of the whole channel, which vectorises, where a split per input row of 8-16 pixels does not."""
import numpy as np

from ._numba import jit
from .conv_im2col import col_pitch, rows_layout


@jit
def _deinterleave(src, even, odd):
    """even[m], odd[m] = src[2 m], src[2 m + 1]: one long loop, which LLVM vectorises."""
    for m in range(even.size):
        even[m] = src[2 * m]
        odd[m] = src[2 * m + 1]


@jit
def _interleave(even, odd, dst):
    """dst[2 m], dst[2 m + 1] = even[m], odd[m]: one long loop, which LLVM vectorises."""
    for m in range(even.size):
        dst[2 * m] = even[m]
        dst[2 * m + 1] = odd[m]


@jit
def _rows_buffers(a, sh, sw, ph, dh, kh, Ho, Wo):
    """For ``_im2col_rows`` / ``_col2im_rows`` on images like ``a``: the zero rows above the input's in a plane,
    the zeroed planes (sh, sw, rows * Wo) and the even/odd split of a channel (empty unless stride 2 and even
    width)."""
    H, W = a.shape[2], a.shape[3]
    Hq = (H + sh - 1) // sh
    top = max(0, -((0 - ph) // sh)) + 1
    bottom = max(0, Ho + (dh * (kh - 1) - ph) // sh - Hq) + 1
    half = H * W // 2 if sw == 2 and W % 2 == 0 else 0
    return top, np.zeros((sh, sw, (top + Hq + bottom) * Wo), a.dtype), np.empty((2, half), a.dtype)


@jit
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Jn, cols):
    n, C, H, W = x.shape
    Yn = max(Ho + dh * (kh - 1) // sh, (H - 1 + ph) // sh + 1)
    planes = np.zeros((sh, sw, Yn * Jn), x.dtype)   # the padding stays zero: only input pixels are written
    half = H * W // 2 if sw == 2 and W % 2 == 0 else 0
    split = np.empty((2, half), x.dtype)
    for img in range(n):
        for c in range(C):
            xc = x[img, c]
            if half:
                _deinterleave(xc.reshape(-1), split[0], split[1])
                for y in range(H):
                    Y, py = divmod(y + ph, sh)
                    for p in range(2):   # input column 2 u + p is padded column 2 (u + J) + px
                        J, px = divmod(p + pw, 2)
                        src = split[p, y * (W // 2):(y + 1) * (W // 2)]
                        dst = planes[py, px, Y * Jn + J:Y * Jn + J + W // 2]
                        for u in range(W // 2):
                            dst[u] = src[u]
            elif sw == 1:
                for y in range(H):
                    Y, py = divmod(y + ph, sh)
                    src = xc[y]
                    dst = planes[py, 0, Y * Jn + pw:Y * Jn + pw + W]
                    for u in range(W):
                        dst[u] = src[u]
            else:
                for y in range(H):
                    Y, py = divmod(y + ph, sh)
                    for u in range(W):
                        J, px = divmod(u + pw, sw)
                        planes[py, px, Y * Jn + J] = xc[y, u]
            for ky in range(kh):
                py, y0 = (ky * dh) % sh, (ky * dh) // sh
                for kx in range(kw):
                    px, x0 = (kx * dw) % sw, (kx * dw) // sw
                    plane = planes[py, px]
                    row = cols[img, (c * kh + ky) * kw + kx]
                    for oy in range(Ho):
                        src = plane[(oy + y0) * Jn + x0:(oy + y0) * Jn + x0 + Wo]
                        dst = row[oy * Wo:(oy + 1) * Wo]
                        for u in range(Wo):
                            dst[u] = src[u]


@jit
def _im2col_gather(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, cols):
    # each window position's pixel read where it is (zero outside the input): for ``sparse_windows``, which the
    # phase planes would copy whole.  Unsigned indices: with Numba's negative-index wraparound in it the strided
    # read ran 2.2x slower (1x1 / stride 2 on 32x16x32x32, one thread: 179 -> 83 us; NumPy's strided copy 99 us)
    n, C, H, W = x.shape
    step = np.uint64(sw)
    for img in range(n):
        for c in range(C):
            src = x[img, c].reshape(H * W)
            for ky in range(kh):
                for kx in range(kw):
                    dst = cols[img, (c * kh + ky) * kw + kx]
                    x0 = kx * dw - pw       # input column of output column 0, then every sw
                    u0 = min(Wo, max(0, (sw - 1 - x0) // sw))
                    u1 = max(u0, min(Wo, (W - 1 - x0) // sw + 1))
                    for oy in range(Ho):
                        y = oy * sh + ky * dh - ph
                        o = oy * Wo
                        inside = 0 <= y < H
                        for u in range(u0 if inside else Wo):
                            dst[o + u] = 0
                        if inside:
                            s0, d0 = np.uint64(y * W + x0 + u0 * sw), np.uint64(o + u0)
                            for u in range(np.uint64(u1 - u0)):
                                dst[d0 + u] = src[s0 + u * step]
                            for u in range(u1, Wo):
                                dst[o + u] = 0


@jit
def _col2im_scatter(cols, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Jn, out):
    # the adjoint of _im2col_gather (``cols`` with row pitch Jn): each window position's value added where its
    # pixel is, into the zeroed image, for ``sparse_windows``, whose phase planes would be summed and copied whole
    # (1x1 / stride 2 on 32x16x32x32, one thread: 151 -> 87 us)
    n, C, H, W = out.shape
    step = np.uint64(sw)
    for img in range(n):
        for c in range(C):
            dst = out[img, c].reshape(H * W)
            for m in range(H * W):
                dst[m] = 0
            for ky in range(kh):
                for kx in range(kw):
                    src = cols[img, (c * kh + ky) * kw + kx]
                    x0 = kx * dw - pw
                    u0 = min(Wo, max(0, (sw - 1 - x0) // sw))
                    u1 = max(u0, min(Wo, (W - 1 - x0) // sw + 1))
                    for oy in range(Ho):
                        y = oy * sh + ky * dh - ph
                        if 0 <= y < H:
                            d0, s0 = np.uint64(y * W + x0 + u0 * sw), np.uint64(oy * Jn + u0)
                            for u in range(np.uint64(u1 - u0)):
                                dst[d0 + u * step] += src[s0 + u]


@jit
def _zero_wrapped(run, Ho, Wo, sx):
    """Zero the positions of an offset's run (Ho rows of Wo) shifted by ``sx`` columns that wrap into a
    neighbouring row: the first -sx or the last sx of each row."""
    for oy in range(Ho):
        for u in range(max(0, -sx)):
            run[oy * Wo + u] = 0
        for u in range(Wo - max(0, sx), Wo):
            run[oy * Wo + u] = 0


@jit
def _im2col_rows(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, cols):
    # Wo == ceil(W / sw): a phase plane of the unpadded input (pixel (Y sh + py, J sw + px) at [py, px, Y, J]) has
    # the row pitch of the output, so each kernel offset's window is one run of it, shifted by whole rows and a
    # few columns; zero rows above and below absorb the vertical padding, the columns that wrap into a
    # neighbouring row are zeroed after the copy
    n, C, H, W = x.shape
    top, planes, split = _rows_buffers(x, sh, sw, ph, dh, kh, Ho, Wo)
    half, P = split.shape[1], Ho * Wo
    for img in range(n):
        for c in range(C):
            xc = x[img, c]
            if sh == 1 and sw == 1:
                src, dst = xc.reshape(-1), planes[0, 0, top * Wo:(top + H) * Wo]
                for m in range(H * W):
                    dst[m] = src[m]
            elif half:
                _deinterleave(xc.reshape(-1), split[0], split[1])
                for y in range(H):
                    Y, py = divmod(y, sh)
                    for px in range(2):
                        src = split[px, y * Wo:(y + 1) * Wo]
                        dst = planes[py, px, (top + Y) * Wo:(top + Y + 1) * Wo]
                        for u in range(Wo):
                            dst[u] = src[u]
            else:
                for y in range(H):
                    Y, py = divmod(y, sh)
                    for u in range(W):
                        J, px = divmod(u, sw)
                        planes[py, px, (top + Y) * Wo + J] = xc[y, u]
            for ky in range(kh):
                sy, py = divmod(ky * dh - ph, sh)
                for kx in range(kw):
                    sx, px = divmod(kx * dw - pw, sw)
                    base = (top + sy) * Wo + sx
                    src = planes[py, px, base:base + P]
                    dst = cols[img, (c * kh + ky) * kw + kx]
                    for m in range(P):
                        dst[m] = src[m]
                    _zero_wrapped(dst, Ho, Wo, sx)


@jit
def _col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Jn, out):
    n, C, H, W = out.shape
    Pn = Ho * Jn
    Yn = max(Ho + dh * (kh - 1) // sh, (H - 1 + ph) // sh + 1)
    acc = np.empty((sh, sw, (Yn + 1) * Jn), out.dtype)
    half = H * W // 2 if sw == 2 and W % 2 == 0 else 0
    split = np.empty((2, half), out.dtype)
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
            if half:   # the channel's even and odd columns, then one long interleaving loop
                for y in range(H):
                    Y, py = divmod(y + ph, sh)
                    for p in range(2):
                        J, px = divmod(p + pw, 2)
                        src = acc[py, px, Y * Jn + J:Y * Jn + J + W // 2]
                        dst = split[p, y * (W // 2):(y + 1) * (W // 2)]
                        for u in range(W // 2):
                            dst[u] = src[u]
                _interleave(split[0], split[1], out[img, c].reshape(-1))
                continue
            for y in range(H):
                Y, py = divmod(y + ph, sh)
                row = out[img, c, y]
                if sw == 1:
                    src = acc[py, 0, Y * Jn + pw:Y * Jn + pw + W]
                    for x in range(W):
                        row[x] = src[x]
                else:
                    for px in range(sw):
                        src = acc[py, px, Y * Jn:(Y + 1) * Jn]
                        for J in range((pw - px + sw - 1) // sw, (W - 1 + pw - px) // sw + 1):
                            row[J * sw + px - pw] = src[J]


@jit
def _col2im_rows(cols, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, out):
    # the adjoint of _im2col_rows: each offset's window adds as one run into planes of the unpadded phases at the
    # output's row pitch; its positions that wrap into a neighbouring row (windows over the left/right padding)
    # are zeroed in ``cols`` first
    n, C, H, W = out.shape
    top, acc, split = _rows_buffers(out, sh, sw, ph, dh, kh, Ho, Wo)
    half, P = split.shape[1], Ho * Wo
    for img in range(n):
        for c in range(C):
            acc[:] = 0
            for ky in range(kh):
                sy, py = divmod(ky * dh - ph, sh)
                for kx in range(kw):
                    sx, px = divmod(kx * dw - pw, sw)
                    src = cols[img, (c * kh + ky) * kw + kx]
                    _zero_wrapped(src, Ho, Wo, sx)
                    base = (top + sy) * Wo + sx
                    dst = acc[py, px, base:base + P]
                    for m in range(P):
                        dst[m] += src[m]
            oc = out[img, c]
            if sh == 1 and sw == 1:
                src, dst = acc[0, 0, top * Wo:(top + H) * Wo], oc.reshape(-1)
                for m in range(H * W):
                    dst[m] = src[m]
            elif half:
                for y in range(H):
                    Y, py = divmod(y, sh)
                    for px in range(2):
                        src = acc[py, px, (top + Y) * Wo:(top + Y + 1) * Wo]
                        dst = split[px, y * Wo:(y + 1) * Wo]
                        for u in range(Wo):
                            dst[u] = src[u]
                _interleave(split[0], split[1], oc.reshape(-1))
            else:
                for y in range(H):
                    Y, py = divmod(y, sh)
                    for u in range(W):
                        J, px = divmod(u, sw)
                        oc[y, u] = acc[py, px, (top + Y) * Wo + J]


def im2col(x, g, out=None):
    """See ``conv_im2col.im2col_reference``."""
    n, ho, wo = x.shape[0], g.out_sp[0], g.out_sp[1]
    cols = np.empty((n, g.groups, g.C // g.groups * g.kernel[0] * g.kernel[1], ho * wo), x.dtype) if out is None \
        else out
    x = np.ascontiguousarray(x)
    if rows_layout(g):
        _im2col_rows(x, *(g.kernel + g.stride + g.lo + g.dilation), ho, wo, cols.reshape(n, -1, ho * wo))
    else:
        _im2col(x, *(g.kernel + g.stride + g.lo + g.dilation), ho, wo, col_pitch(g), cols.reshape(n, -1, ho * wo))
    return cols


def col2im(cols, g, out):
    """See ``conv_im2col.col2im_reference``; in ``rows_layout`` it zeroes the entries of ``cols`` that fall on the
    padding (which the sum leaves out)."""
    c3 = np.ascontiguousarray(cols).reshape(cols.shape[0], -1, cols.shape[-1])
    if rows_layout(g):
        _col2im_rows(c3, *(g.kernel + g.stride + g.lo + g.dilation), g.out_sp[0], g.out_sp[1], out)
    else:
        _col2im(c3, *(g.kernel + g.stride + g.lo + g.dilation), g.out_sp[0], col_pitch(g), out)
