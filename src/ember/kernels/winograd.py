"""Winograd F(4x4, 3x3) data transforms of ``ops/conv.py``: the input transform (6x6 tiles of the padded
input -> 36 frequencies) and its adjoint (the input gradient's overlap-add), the output transform (36
frequencies -> 4x4 output tiles, written into the NCHW output) and its adjoint (the output gradient's tiles ->
36 frequencies): the data passes of a 3x3 convolution's training step around its GEMMs; and the kernel transform
(3x3 kernels -> 36 frequencies) with its adjoint (the weight gradient from the frequencies').

Matrices (Lavin & Gray): ``BT`` (6x6) maps a tile ``d`` to ``BT d BT^T``; ``G`` (6x3) the kernel and ``AT``
(4x6) the frequencies back to a 4x4 output tile.  Layout: an input block ``x`` ``(n, C, H, W)``, zero-padded by
``lo`` at the top/left (and as needed at the bottom/right) to ``th x tw`` tiles of 4 outputs; ``Vt`` ``(36, T, C)``
with ``T = n * th * tw`` tiles in (image, tile row, tile column) order and frequency ``6 a + b`` (``a`` from the
tile rows, ``b`` from its columns); the output side has the same layout ``Mt`` ``(36, T, O)`` (channels last, so
the GEMMs are ``Vt @ U^T``, ``Mt @ U`` and ``Mt^T @ Vt``, and every transform runs over contiguous channels).
"""
from .._device import module_of_array
from ._dispatch import Kernel

_W_BT = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
         [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
_W_G = [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]
_W_AT = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]
_W_MATS = {}


def wino_mats(xp, dtype):
    """(BT, G, AT, GG): the 1-D input, kernel and output transforms and the 2-D kernel transform (36x9), as
    arrays of module ``xp``."""
    mats = _W_MATS.get((xp, dtype))
    if mats is None:
        bt, g, at = (xp.array(m, dtype=xp.float64) for m in (_W_BT, _W_G, _W_AT))
        mats = _W_MATS[(xp, dtype)] = tuple(m.astype(dtype) for m in (bt, g, at, xp.kron(g, g)))
    return mats


def tiles(out_sp):
    """The number of 4x4 output tiles ``(th, tw)`` covering an output of spatial size ``out_sp``."""
    return -(-out_sp[0] // 4), -(-out_sp[1] // 4)


def padded_channels_last(x, lo, th, tw):
    """x (n, C, H, W) -> (n, 4 th + 2, 4 tw + 2, C): zero-padded by ``lo`` at the top/left, channels last (so a
    tile's pixel is a contiguous run of channels), cut where the tiles end."""
    xp = module_of_array(x)
    n, c, h, w = x.shape
    ph, pw = th * 4 + 2, tw * 4 + 2
    buf = xp.zeros((n, ph, pw, c), dtype=x.dtype)
    buf[:, lo[0]:lo[0] + h, lo[1]:lo[1] + w, :] = x[:, :, :ph - lo[0], :pw - lo[1]].transpose(0, 2, 3, 1)
    return buf


def wino_input_reference(x, lo, th, tw):
    """x (n, C, H, W) -> Vt (36, n * th * tw, C): ``BT d BT^T`` of every 6x6 tile ``d`` (tiles 4 apart), as two
    small GEMMs over a strided view of the padded channels-last block."""
    xp = module_of_array(x)
    n, c = x.shape[:2]
    buf = padded_channels_last(x, lo, th, tw)
    s = buf.strides
    view = xp.lib.stride_tricks.as_strided(buf, (6, 6, n, th, tw, c), (s[1], s[2], s[0], 4 * s[1], 4 * s[2], s[3]),
                                           writeable=False)
    BT = wino_mats(xp, x.dtype)[0]
    rows = (BT @ view.reshape(6, -1)).reshape(6, 6, -1)  # B^T d: along the tile rows
    return xp.matmul(BT, rows).reshape(36, -1, c)        # (B^T d) B: along the tile columns


def wino_input_adjoint_reference(gVt, lo, th, tw, out):
    """The adjoint of ``wino_input``: gVt (36, n * th * tw, C) -> ``BT^T m BT`` of every tile, overlap-added (tiles
    overlap by 2) and cut to ``out`` (n, C, H, W), which it overwrites."""
    xp = module_of_array(gVt)
    n, c, h, w = out.shape
    BT = wino_mats(xp, gVt.dtype)[0]
    rows = (BT.T @ gVt.reshape(6, -1)).reshape(6, 6, -1)    # B m: along the tile rows
    gd = xp.matmul(BT.T, rows).reshape(6, 6, n, th, tw, c)  # (B m) B^T: along the tile columns
    buf = xp.zeros((n, th * 4 + 2, tw * 4 + 2, c), dtype=gVt.dtype)
    for u in range(6):
        for v in range(6):
            buf[:, u:u + 4 * th:4, v:v + 4 * tw:4, :] += gd[u, v]
    out[...] = buf[:, lo[0]:lo[0] + h, lo[1]:lo[1] + w, :].transpose(0, 3, 1, 2)


def wino_output_reference(mt, th, tw, bias, out):
    """Mt (36, n * th * tw, O) -> ``out`` (n, O, Ho, Wo), which it overwrites: ``AT m AT^T`` of every tile's 36
    frequencies, cut to ``Ho x Wo``, plus ``bias`` (O,) (or None)."""
    xp = module_of_array(mt)
    n, o, ho, wo = out.shape
    AT = wino_mats(xp, mt.dtype)[2]
    rows = (AT @ mt.reshape(6, -1)).reshape(4, 6, -1)           # (p, b, T * O): along the tile rows
    y = xp.matmul(rows.transpose(0, 2, 1), AT.T)                 # (p, T * O, q): along the tile columns
    y = y.reshape(4, n, th, tw, o, 4).transpose(1, 4, 2, 0, 3, 5).reshape(n, o, 4 * th, 4 * tw)[:, :, :ho, :wo]
    if bias is None:
        out[...] = y
    else:
        xp.add(y, bias.reshape(o, 1, 1), out=out)


def wino_output_adjoint_reference(y, th, tw):
    """The adjoint of ``wino_output`` (without the bias): y (n, O, Ho, Wo) -> Gt (36, n * th * tw, O), ``AT^T m AT``
    of every 4x4 tile (zero past the edges)."""
    xp = module_of_array(y)
    n, o, ho, wo = y.shape
    if (4 * th, 4 * tw) != (ho, wo):
        buf = xp.zeros((n, o, 4 * th, 4 * tw), dtype=y.dtype)
        buf[:, :, :ho, :wo] = y
        y = buf
    AT = wino_mats(xp, y.dtype)[2]
    tiles = y.reshape(n, o, th, 4, tw, 4).transpose(3, 5, 0, 2, 4, 1).reshape(4, -1)   # (p, q * T * O)
    rows = (AT.T @ tiles).reshape(6, 4, -1)                     # (a, q, T * O): along the tile rows
    return xp.matmul(AT.T, rows).reshape(36, -1, o)            # (a, b, T * O): along the tile columns


def wino_weight_reference(w):
    """The kernel transform: w (A, B, 3, 3) (any strides) -> U (36, A, B), ``G k G^T`` of every 3x3 kernel ``k``
    (frequency ``6 a + b``)."""
    xp = module_of_array(w)
    a, b = w.shape[:2]
    return (wino_mats(xp, w.dtype)[3] @ w.reshape(a * b, 9).T).reshape(36, a, b)


def wino_weight_adjoint_reference(gu):
    """The adjoint of ``wino_weight``: gU (36, A, B) -> (A, B, 3, 3), ``G^T m G`` of every kernel's 36 frequencies
    (the weight gradient from the frequency domain's)."""
    xp = module_of_array(gu)
    a, b = gu.shape[1:]
    return (wino_mats(xp, gu.dtype)[3].T @ gu.reshape(36, -1)).T.reshape(a, b, 3, 3)


_N = "ember.kernels._numba_winograd:"
wino_input = Kernel("wino_input", wino_input_reference, numba=_N + "wino_input")
wino_input_adjoint = Kernel("wino_input_adjoint", wino_input_adjoint_reference, numba=_N + "wino_input_adjoint")
wino_output = Kernel("wino_output", wino_output_reference, numba=_N + "wino_output")
wino_output_adjoint = Kernel("wino_output_adjoint", wino_output_adjoint_reference, numba=_N + "wino_output_adjoint")
wino_weight = Kernel("wino_weight", wino_weight_reference, numba=_N + "wino_weight")
wino_weight_adjoint = Kernel("wino_weight_adjoint", wino_weight_adjoint_reference, numba=_N + "wino_weight_adjoint")
