"""Numba drivers of ``ops/conv.py``'s batch blocks: a whole convolution (or both of its gradients) in one compiled
call, its blocks shared between the threads of Numba's OpenMP pool (``prange`` over ``nch`` chunks, each a
contiguous run of blocks), so that no Python runs between a block's data transform, its GEMMs and its scatter.

Each block goes through the compiled transforms of ``_numba_winograd`` / ``_numba_conv_im2col`` and the BLAS NumPy
links (``_numba_blas.gemm_t``: CBLAS, transposes as flags), with the chunk's scratch passed in preallocated
(``vbuf[ch]``, ...: the same memory for each of the chunk's blocks, still in cache from the previous one).  Weight
gradients are summed per chunk into ``gparts[ch]`` (BLAS's ``beta = 1`` from the chunk's second block on); the
caller adds the chunks' sums.

Blocks: ``starts`` (nblocks + 1,) int64, block ``b`` holding images ``starts[b]:starts[b + 1]``; chunk ``ch`` of
``nch`` runs blocks ``ch * nblocks // nch`` up to ``(ch + 1) * nblocks // nch``.
"""
from numba import prange

from ._numba import jit, pjit
from ._numba_blas import gemm, gemm_t
from ._numba_conv_im2col import _col2im, _col2im_rows, _col2im_scatter, _im2col, _im2col_gather, _im2col_rows
from ._numba_winograd import _input, _input_adjoint, _output, _output_adjoint


@jit
def _block_run(ch, nch, nblocks):
    """The blocks ``b0:b1`` of chunk ``ch``."""
    return ch * nblocks // nch, (ch + 1) * nblocks // nch


@jit
def _summing_run(ch, nch, nblocks, need_w, gparts):
    """``_block_run`` for a backward driver: a chunk without blocks (more chunks than blocks) has nothing to add
    into its weight-gradient sum ``gparts[ch]``, which it zeroes."""
    b0, b1 = _block_run(ch, nch, nblocks)
    if need_w and b0 == b1:
        gparts[ch] = 0.0
    return b0, b1


# ---------------------------------------------------------------------------------------- Winograd F(4x4, 3x3)

@jit
def _wino_frequencies(buf, per_image, i0, i1, width):
    """The part of ``buf`` (1-D) holding images ``i0:i1`` as (36, tiles, width), images laid out one after the
    other (``per_image`` tiles each)."""
    return buf[36 * i0 * per_image * width:36 * i1 * per_image * width].reshape(36, (i1 - i0) * per_image, width)


@jit
def _wino_scratch(buf, per_image, n, width):
    """The first ``n`` images' worth of the chunk's scratch ``buf`` (1-D) as (36, tiles, width)."""
    return buf[:36 * n * per_image * width].reshape(36, n * per_image, width)


@jit
def _wino_forward_block(address, ilp64, x, ut, bias, lo_h, lo_w, th, tw, v, m, out):
    """One block of ``wino_forward``: x (n, C, H, W) -> v (36, T, C) -> m = v @ ut (36, T, O) -> out (n, O, Ho,
    Wo) plus bias."""
    _input(x, lo_h, lo_w, th, tw, v.reshape(36, -1))
    for f in range(36):
        gemm(address, ilp64, v[f], ut[f], m[f], 0.0)
    _output(m.reshape(36, -1), th, tw, bias, out)


@pjit
def wino_forward(address, ilp64, x, ut, bias, lo_h, lo_w, th, tw, starts, kept, vbuf, mbuf, out, nch):
    """The Winograd convolution of ``x`` (N, C, H, W) into ``out`` (N, O, Ho, Wo): per block the input transform
    ``Vt`` (36, T, C) (written into ``kept`` (36 N th tw C,) when that is not empty, the weight gradient's to reuse,
    else into ``vbuf[ch]``), the 36 GEMMs ``Vt[f] @ ut[f]`` (``ut`` (36, C, O)) into ``mbuf[ch]`` and the output
    transform plus ``bias`` (O,)."""
    nb, per, C, O = starts.size - 1, th * tw, x.shape[1], ut.shape[2]
    for ch in prange(nch):
        b0, b1 = _block_run(ch, nch, nb)
        for b in range(b0, b1):
            i0, i1 = starts[b], starts[b + 1]
            if kept.size:
                v = _wino_frequencies(kept, per, i0, i1, C)
            else:
                v = _wino_scratch(vbuf[ch], per, i1 - i0, C)
            m = _wino_scratch(mbuf[ch], per, i1 - i0, O)
            _wino_forward_block(address, ilp64, x[i0:i1], ut, bias, lo_h, lo_w, th, tw, v, m, out[i0:i1])


@pjit
def wino_backward(address, ilp64, y, x, u, lo_h, lo_w, th, tw, starts, need_x, need_w, kept, vbuf, gbuf, gx, gparts,
                  nch):
    """Both adjoints of the Winograd convolution given its output gradient ``y`` (N, O, Ho, Wo), sharing each
    block's transformed ``Gt`` (36, T, O) (in ``gbuf[ch]``): with ``need_x`` the input gradient ``gx`` (N, C, H, W)
    from ``Gt[f] @ u[f]`` (``u`` (36, O, C)) through the input transform's adjoint, with ``need_w`` the chunk's sum
    ``gparts[ch]`` (36, O, C) of ``Gt[f]^T @ Vt[f]``, ``Vt`` the input transform of ``x`` (N, C, H, W) or, when
    ``kept`` is not empty, the forward's.  ``vbuf[ch]`` holds the block's ``Vt`` or its gradient."""
    nb, per, C, O = starts.size - 1, th * tw, x.shape[1], y.shape[1]
    for ch in prange(nch):
        b0, b1 = _summing_run(ch, nch, nb, need_w, gparts)
        for b in range(b0, b1):
            i0, i1 = starts[b], starts[b + 1]
            g = _wino_scratch(gbuf[ch], per, i1 - i0, O)
            v = _wino_scratch(vbuf[ch], per, i1 - i0, C)
            _output_adjoint(y[i0:i1], th, tw, g.reshape(36, -1))
            if need_x:
                for f in range(36):
                    gemm(address, ilp64, g[f], u[f], v[f], 0.0)
                _input_adjoint(v.reshape(36, -1), lo_h, lo_w, th, tw, gx[i0:i1])
            if need_w:
                if kept.size:
                    v = _wino_frequencies(kept, per, i0, i1, C)
                else:
                    _input(x[i0:i1], lo_h, lo_w, th, tw, v.reshape(36, -1))
                beta = 0.0 if b == b0 else 1.0
                for f in range(36):
                    gemm_t(address, ilp64, 1, 0, g[f], v[f], gparts[ch, f], beta)


# ---------------------------------------------------------------------------------------- im2col + GEMM
# ``geom`` (kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, pitch, rows, sparse): the kernel, stride, padding and dilation,
# the output size, col2im's row pitch (``conv_im2col.col_pitch``), whether the windows take ``rows_layout``'s fast
# path and whether they skip most pixels (``sparse_windows``: im2col reads the windows' pixels where they are);
# ``wm`` (groups, O/groups, K) the weight, ``cols`` (n, groups * K, Ho * Wo) per block

@jit
def _im2col_block(x, geom, cols, adjoint):
    """im2col of the block ``x`` (n, C, H, W) into ``cols`` (n, C kh kw, Ho Wo), or with ``adjoint`` col2im of
    ``cols`` (n, C kh kw, Ho pitch) into ``x``, which it overwrites."""
    kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, pitch, rows, sparse = geom
    if adjoint and sparse:
        _col2im_scatter(cols, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, pitch, x)
    elif adjoint and rows:
        _col2im_rows(cols, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, x)
    elif adjoint:
        _col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, ho, pitch, x)
    elif sparse:
        _im2col_gather(x, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, cols)
    elif rows:
        _im2col_rows(x, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, cols)
    else:
        _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, pitch, cols)


@jit
def _kept_cols(kept, i0, i1, rows, P):
    """The part of ``kept`` (1-D) holding images ``i0:i1``'s im2col matrices, as (i1 - i0, rows, P)."""
    return kept[i0 * rows * P:i1 * rows * P].reshape(i1 - i0, rows, P)


@pjit
def im2col_forward(address, ilp64, x, wm, bias, geom, starts, kept, cbuf, out, nch):
    """The convolution of ``x`` (N, C, H, W) into ``out`` (N, O, Ho Wo): per block im2col into ``cbuf[ch]`` (or,
    when ``kept`` is not empty, into its part of ``kept`` (N groups K Ho Wo,), the weight gradient's to reuse),
    then ``wm[g] @ cols`` per image and group, plus ``bias`` (O,) unless that is empty."""
    nb, (G, Og, K), P = starts.size - 1, wm.shape, out.shape[2]
    for ch in prange(nch):
        b0, b1 = _block_run(ch, nch, nb)
        for b in range(b0, b1):
            i0, i1 = starts[b], starts[b + 1]
            if kept.size:
                cols = _kept_cols(kept, i0, i1, G * K, P)
            else:
                cols = cbuf[ch, :(i1 - i0) * G * K * P].reshape(i1 - i0, G * K, P)
            _im2col_block(x[i0:i1], geom, cols, False)
            for i in range(i1 - i0):
                for gi in range(G):
                    res = out[i0 + i, gi * Og:(gi + 1) * Og]
                    gemm(address, ilp64, wm[gi], cols[i, gi * K:(gi + 1) * K], res, 0.0)
                    if bias.size:
                        for o in range(Og):
                            bo, row = bias[gi * Og + o], res[o]
                            for p in range(P):
                                row[p] += bo


@jit
def _pitched(y, pitch, yb):
    """``yb`` (n, O, Ho pitch): the rows of ``y`` (n, O, Ho, Wo) zero-padded to ``pitch``."""
    n, O, ho, wo = y.shape
    for i in range(n):
        for o in range(O):
            for r in range(ho):
                src, dst = y[i, o, r], yb[i, o, r * pitch:(r + 1) * pitch]
                for p in range(wo):
                    dst[p] = src[p]
                for p in range(wo, pitch):
                    dst[p] = 0


@jit
def _zero_pitch_padding(cols, wo, pitch):
    """Zero the columns ``wo:pitch`` of each row of ``Ho`` of ``cols`` (n, K, Ho pitch)."""
    n, K, P = cols.shape
    for i in range(n):
        for k in range(K):
            for r in range(P // pitch):
                cols[i, k, r * pitch + wo:(r + 1) * pitch] = 0


@pjit
def im2col_backward(address, ilp64, y, x, wm, geom, starts, need_x, need_w, junk, kept, ybuf, cbuf, gx, gparts,
                    nch):
    """Both adjoints of the im2col convolution given its output gradient ``y`` (N, O, Ho, Wo): with ``need_x`` the
    input gradient ``gx`` (N, C, H, W), col2im of ``wm[g]^T @ y`` per image and group (``y``'s rows padded to the
    pitch in ``ybuf[ch]`` where it is wider than Wo; ``junk``: zero the products' padding columns, which are not
    zero where ``wm`` is not finite), with ``need_w`` the chunk's sum ``gparts[ch]`` (groups, K, O/groups) of
    ``cols @ y^T``, ``cols`` the im2col of ``x`` (N, C, H, W) or, when ``kept`` is not empty, the forward's.
    ``cbuf[ch]`` holds a block's matrices."""
    nb, (G, Og, K) = starts.size - 1, wm.shape
    ho, wo, pitch = geom[8], geom[9], geom[10]
    for ch in prange(nch):
        b0, b1 = _summing_run(ch, nch, nb, need_w, gparts)
        for b in range(b0, b1):
            i0, i1 = starts[b], starts[b + 1]
            n = i1 - i0
            if need_x:
                if pitch > wo:
                    yb = ybuf[ch, :n * G * Og * ho * pitch].reshape(n, G * Og, ho * pitch)
                    _pitched(y[i0:i1], pitch, yb)
                else:
                    yb = y[i0:i1].reshape(n, G * Og, ho * wo)
                gcols = cbuf[ch, :n * G * K * ho * pitch].reshape(n, G * K, ho * pitch)
                for i in range(n):
                    for gi in range(G):
                        gemm_t(address, ilp64, 1, 0, wm[gi], yb[i, gi * Og:(gi + 1) * Og],
                               gcols[i, gi * K:(gi + 1) * K], 0.0)
                if junk:
                    _zero_pitch_padding(gcols, wo, pitch)
                _im2col_block(gx[i0:i1], geom, gcols, True)
            if need_w:
                if kept.size:
                    cols = _kept_cols(kept, i0, i1, G * K, ho * wo)
                else:
                    cols = cbuf[ch, :n * G * K * ho * wo].reshape(n, G * K, ho * wo)
                    _im2col_block(x[i0:i1], geom, cols, False)
                y2 = y[i0:i1].reshape(n, G * Og, ho * wo)
                for i in range(n):
                    beta = 0.0 if b == b0 and i == 0 else 1.0
                    for gi in range(G):
                        gemm_t(address, ilp64, 0, 1, cols[i, gi * K:(gi + 1) * K], y2[i, gi * Og:(gi + 1) * Og],
                               gparts[ch, gi], beta)
