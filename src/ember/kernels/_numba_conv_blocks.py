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
from ._numba_winograd import _input, _input_adjoint, _output, _output_adjoint


@jit
def _block_run(ch, nch, nblocks):
    """The blocks ``b0:b1`` of chunk ``ch``."""
    return ch * nblocks // nch, (ch + 1) * nblocks // nch


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
            _input(x[i0:i1], lo_h, lo_w, th, tw, v.reshape(36, -1))
            for f in range(36):
                gemm(address, ilp64, v[f], ut[f], m[f], 0.0)
            _output(m.reshape(36, -1), th, tw, bias, out[i0:i1])


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
        b0, b1 = _block_run(ch, nch, nb)
        if need_w and b0 == b1:
            gparts[ch] = 0.0
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
