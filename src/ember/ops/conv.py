"""Convolutions: conv1d/2d/3d, conv_transpose1d/2d/3d and convolution.

Layout.  The input ``x`` is (N, C, *S) and the weight ``w`` is (O, C/g, *k).  The general kernel is
im2col + GEMM: im2col (a ``kernels/conv_im2col`` kernel, like its adjoint col2im) copies the (padded) input's
windows into ``cols`` (n, g, C/g * prod(k), P) — per image, channel-and-offset rows and position columns — and
the convolution is one GEMM per image and group, ``w (g, O/g, K) @ cols``, whose result is the NCHW output
itself (and the output gradient feeds the backward's GEMMs as it is).

The 3x3 / stride 1 / float32 case (most of a CNN's work) goes through Winograd F(4x4, 3x3) instead:
6x6 input tiles and the 3x3 kernels are mapped to 36 frequencies where the convolution is 36
independent (tiles x C) @ (C x O) GEMMs — 4x fewer multiplications than im2col; the data transforms
(Lavin & Gray's matrices) are the kernels of ``kernels/winograd.py``, channels last.

Both kernels run over the batch in blocks of a few images, so that each block's im2col matrix or
Winograd tiles (a few MB) stay in cache between the copy, the GEMM and the scatter; within a block
everything is vectorised over images, channels and positions.  With Numba (NumPy float arrays, two spatial
dims, or one as a height of 1: ``_as_2d``) one compiled driver per call (``kernels/_numba_conv_blocks.py``) runs
all the blocks, shared between the threads of Numba's OpenMP pool; otherwise (the NumPy references, CuPy arrays,
3-D convolutions) the blocks run as Python code on the block threads (``_run_blocks``).

Three bilinear primitives close the family under differentiation (``_Geom`` fixes every shape):

    F(x, w) -> y    the convolution (cross-correlation)
    T(y, w) -> x    its adjoint in x: the transposed convolution (gradient of F wrt its input)
    G(x, y) -> w    its adjoint in w: the weight gradient

    dF = (T(g, w), G(x, g))    dT = (F(g, w), G(g, y))    dG = (T(y, g), F(x, g))

The forward keeps its Winograd tiles (and im2col matrices of a moderate size) for the weight gradient.

First-order backward (grad mode off) runs fused kernels that share, per block, the transposed output
gradient (or its Winograd transform) between the input and the weight gradient; under
``create_graph`` the gradients are built from the primitives as ember ops, so derivatives of any
order exist.
"""
import math
import numbers
import threading

from .. import _threads as _ember_threads
from .._dtype import cpp_name
from ..kernels import winograd as _kw
from ..kernels._dispatch import numba_enabled
from ..kernels.conv_im2col import im2col as _im2col, col2im as _col2im_into, col_pitch as _col_pitch, \
    rows_layout, sparse_windows
from ..kernels.winograd import tiles as _tiles

from ._common import Node, record, function, GradMode, _make, Autocast, autocast_args, module_of_array
from ._record import grad_needed
from . import _block_threads as _threads

_BLOCK_BYTES = 1 << 20  # target size of one block's largest intermediate (about an L2 cache)
_KEEP_INPUTS = True     # keep the forward's Winograd inputs / im2col matrices for the weight gradient
_KEEP_MAX_GROWTH = 3    # ... where they are at most this many times the input's size
_KEEP_ANY_BYTES = 16 << 20  # ... or this small (memory for speed)
_MIN_PARALLEL_BYTES = 512 << 10  # below this much block data a convolution runs on one thread
_SCRATCH_MAX_BYTES = 16 << 20    # larger block intermediates are allocated each time rather than held per thread
_scratch = threading.local()

class _Geom:
    """Everything that fixes the shapes of one convolution: sizes, stride, padding, dilation, groups."""

    __slots__ = ("nd", "stride", "lo", "hi", "dilation", "groups", "kernel", "in_sp", "out_sp", "C", "O")

    def __init__(self, nd, stride, lo, hi, dilation, groups, kernel, in_sp, out_sp, C, O):
        self.nd, self.stride, self.lo, self.hi, self.dilation = nd, stride, lo, hi, dilation
        self.groups, self.kernel, self.in_sp, self.out_sp, self.C, self.O = groups, kernel, in_sp, out_sp, C, O

    @property
    def padded(self):
        return tuple(s + a + b for s, a, b in zip(self.in_sp, self.lo, self.hi))

    @property
    def w_shape(self):
        return (self.O, self.C // self.groups) + self.kernel


def _blocks(n, per_image_bytes):
    """Slices of the batch, each holding about ``_BLOCK_BYTES`` of the largest per-image intermediate (less when
    that leaves too few blocks to share between the block threads).  Their sizes differ by one image at most and,
    when the block threads share them, their count is a multiple of the threads', so that ``_run_blocks`` (or a
    compiled driver's chunks) gives each thread the same work (5 blocks of 7, 7, 7, 7, 4 images split 25 / 7
    between two threads)."""
    target = _BLOCK_BYTES
    nt = _threads.block_threads()
    total = n * per_image_bytes
    parallel = nt > 1 and total >= _MIN_PARALLEL_BYTES
    if parallel:
        target = min(target, total // (2 * nt))
    k = max(1, min(n, target // max(per_image_bytes, 1)))
    count = -(-n // k)
    if count == 0:
        return []
    if parallel and count >= 2 * nt:
        count = min(n, -(-count // nt) * nt)
    size, extra = divmod(n, count)
    starts = [i * size + min(i, extra) for i in range(count + 1)]
    return [slice(a, b) for a, b in zip(starts, starts[1:])]


def _block_chunks(nblocks):
    """How many threads share ``nblocks`` batch blocks: the block threads' count when there are at least two blocks
    for each and the cores are not found busy, else 1."""
    nt = _threads.block_threads()
    return 1 if nt <= 1 or nblocks < 2 * nt or not _threads.parallel_ok() else nt


def _compiled(a):
    """``(drivers, blas)`` where the compiled block drivers run for the array ``a``: the module
    ``kernels/_numba_conv_blocks`` and the CBLAS ``gemm_address`` of ``a``'s dtype (a NumPy float32/float64 array,
    Numba on, NumPy's BLAS exporting a CBLAS gemm); None elsewhere (the blocks then run as Python code)."""
    if type(a).__module__ != "numpy" or a.dtype.char not in "fd" or not numba_enabled():
        return None
    from ..kernels import _numba_conv_blocks as drivers
    from ..kernels._numba_blas import gemm_address
    blas = gemm_address(a.dtype)
    return None if blas is None else (drivers, blas)


def _driver_chunks(nblocks):
    """``_block_chunks`` for a compiled driver, at most Numba's thread count so that each chunk has a thread, and
    whether or not the cores are busy: the chunks' weight-gradient sums add in chunk order, so the count must not
    follow the load (a busy machine runs the same chunks one after another, ``kernels._numba.Parallel``)."""
    from ..kernels._numba import threads
    nt = min(_threads.block_threads(), threads())
    return 1 if nt <= 1 or nblocks < 2 * nt else nt


def _starts(xp, blocks):
    """The first image of each block and the end of the last, (len(blocks) + 1,) int64 (a driver's ``starts``)."""
    return xp.array([b.start for b in blocks] + [blocks[-1].stop], dtype=xp.int64)


def _scratch_empty(xp, slot, shape, dtype):
    """An uninitialised ``shape`` array for an intermediate that dies within one block (an im2col matrix, a GEMM
    result between two passes), reused by this thread for ``slot``, so that it is still in cache from the
    previous block and costs no fresh pages."""
    size = math.prod(shape)
    if size * dtype.itemsize > _SCRATCH_MAX_BYTES:
        return xp.empty(shape, dtype=dtype)
    bufs = _scratch.__dict__.setdefault("bufs", {})
    key = (xp.__name__, slot, dtype.char)
    buf = bufs.get(key)
    if buf is None or buf.size < size:
        buf = bufs[key] = xp.empty(size, dtype=dtype)
    return buf[:size].reshape(shape)


def _cols_shape(n, g):
    return (n, g.groups, g.C // g.groups * math.prod(g.kernel), math.prod(g.out_sp))


def _im2col_scratch(x, g):
    """im2col of the block ``x`` into this thread's scratch matrix."""
    xp = module_of_array(x)
    return _im2col(x, g, _scratch_empty(xp, "cols", _cols_shape(x.shape[0], g), x.dtype))


# ---------------------------------------------------------------------------------------- im2col kernels
# (each works on one block of images)

def _per_image(a, g):
    """(n, c, *sp) -> (n, groups, c/groups, P): a view of a contiguous ``a`` (a copy of another)."""
    return a.reshape(a.shape[0], g.groups, -1, math.prod(a.shape[2:]))


def _gemm_into(wm, cols, g, out, bias=None):
    """``wm (groups, O/groups, K) @ cols (n, groups, K, P)``, one GEMM per image and group, written into the
    contiguous ``out`` (n, O, *out), plus ``bias`` (O,)."""
    xp = module_of_array(out)
    res = _per_image(out, g)
    xp.matmul(wm, cols, out=res)
    if bias is not None:
        res += bias.reshape(g.groups, -1, 1)


def _gemm_weight(y, cols, g):
    """The weight gradient's share of a block: ``sum_n y (n, groups, O/groups, P) @ cols^T`` -> (groups, O/groups,
    K), computed transposed (``cols @ y^T``: 10-25% faster with OpenBLAS on these shapes)."""
    xp = module_of_array(cols)
    return xp.matmul(cols, _per_image(y, g).swapaxes(-1, -2)).sum(axis=0).swapaxes(-1, -2)


# ---------------------------------------------------------------------------------------- Winograd F(4x4, 3x3)

def _wino_ok(g, dtype):
    """Whether the convolution ``g`` on ``dtype`` goes through Winograd (float64 keeps exact im2col)."""
    return (dtype == "float32" and g.nd == 2 and g.kernel == (3, 3) and g.stride == (1, 1)
            and g.dilation == (1, 1) and g.groups == 1 and g.C >= 8 and g.O >= 8
            and min(g.out_sp) >= 4 and max(g.lo + g.hi) <= 2)


def _keep_inputs(x, g):
    """Whether the forward keeps what it made of x (Winograd tiles: 36/16 of x's size and more; im2col matrices:
    prod(kernel) / prod(stride) of it) for the weight gradient, rather than the backward making it again: Winograd
    tiles always, im2col matrices at most ``_KEEP_MAX_GROWTH`` times x's size or ``_KEEP_ANY_BYTES`` in all.  The
    blocks of the compiled im2col kernel run as Python code write their matrices into per-thread scratch and run
    it again."""
    n, dtype = x.shape[0], x.dtype
    if not _KEEP_INPUTS:
        return False
    if _wino_ok(g, dtype):
        return True
    if not _im2col_compiled(x, g) and _im2col.accepts(x, g) and _im2col.implementation(x) is not _im2col.reference:
        return False
    cols = g.C * math.prod(g.kernel) * math.prod(g.out_sp)
    return cols <= _KEEP_MAX_GROWTH * g.C * math.prod(g.in_sp) or n * cols * dtype.itemsize <= _KEEP_ANY_BYTES


def _wino_block_bytes(g, itemsize):
    th, tw = _tiles(g.out_sp)
    return 36 * max(g.C, g.O) * th * tw * itemsize


def _wino_input(x, g):
    """x (n, C, H, W), zero-padded by lo / hi -> Vt (36, n * th * tw, C) over the 4x4 output tiles (the
    ``kernels/winograd.py`` input transform)."""
    return _kw.wino_input(x, g.lo, *_tiles(g.out_sp))


def _wino_weight(w):
    """w (O, C, 3, 3) -> U (36, O, C)."""
    return _kw.wino_weight(w)


def _wino_weight_t(w):
    """U^T (36, C, O), contiguous (the forward GEMMs ``Vt @ U^T`` ran 1.4-1.6x slower on a transposed view of U):
    the kernel transform of w's (C, O) transpose, not a transposing copy of U."""
    return _kw.wino_weight(w.transpose(1, 0, 2, 3))


def _wino_output_into(Mt, g, out, bias):
    """Mt (36, n * th * tw, O) -> ``out`` (n, O, Ho, Wo) (plus bias)."""
    _kw.wino_output(Mt, *_tiles(g.out_sp), bias, out)


def _wino_grad_out(y, g):
    """The adjoint of the output transform applied to y (n, O, Ho, Wo): Gt (36, n * th * tw, O)."""
    return _kw.wino_output_adjoint(y, *_tiles(g.out_sp))


def _wino_input_adjoint_into(gVt, g, out):
    """Adjoint of ``_wino_input``: gVt (36, n * th * tw, C) -> overlap-add of the 6x6 tiles -> ``out`` (n, C, H, W)."""
    _kw.wino_input_adjoint(gVt, g.lo, *_tiles(g.out_sp), out)


def _wino_forward_compiled(drivers, blas, x, w, g, bias, keep, out):
    """``_k_F``'s Winograd convolution in one compiled call (``drivers.wino_forward``) into ``out``; ``keep``
    receives the blocks' ``starts`` and the input transforms of all of them (one array)."""
    xp = module_of_array(x)
    n, (th, tw) = x.shape[0], _tiles(g.out_sp)
    blocks = _blocks(n, _wino_block_bytes(g, x.itemsize))
    nch = _driver_chunks(len(blocks))
    most = 36 * max(b.stop - b.start for b in blocks) * th * tw   # tile frequencies of the largest block
    starts = _starts(xp, blocks)
    kept = xp.empty(36 * n * th * tw * g.C if keep is not None else 0, x.dtype)
    vbuf = _scratch_empty(xp, "wino_v", (nch, most * g.C if keep is None else 0), x.dtype)
    mbuf = _scratch_empty(xp, "wino_m", (nch, most * g.O), x.dtype)
    b = xp.zeros(g.O, x.dtype) if bias is None else xp.ascontiguousarray(bias, dtype=x.dtype)
    drivers.wino_forward(*blas, xp.ascontiguousarray(x), _wino_weight_t(w), b, g.lo[0], g.lo[1], th, tw, starts,
                         kept, vbuf, mbuf, out, nch)
    if keep is not None:
        keep.extend((starts, kept))
    return out


def _wino_backward_compiled(drivers, blas, y, x, w, g, need_x, need_w, kept):
    """``_k_TG``'s Winograd gradients in one compiled call (``drivers.wino_backward``); ``kept`` is what
    ``_wino_forward_compiled`` kept (or empty)."""
    xp = module_of_array(y)
    n, (th, tw), dt = y.shape[0], _tiles(g.out_sp), y.dtype
    if kept:
        starts, kbuf = kept
    else:
        starts, kbuf = _starts(xp, _blocks(n, _wino_block_bytes(g, y.itemsize))), xp.empty(0, dt)
    nch = _driver_chunks(starts.size - 1)
    most = 36 * int((starts[1:] - starts[:-1]).max()) * th * tw
    vbuf = _scratch_empty(xp, "wino_v", (nch, most * g.C), dt)
    gbuf = _scratch_empty(xp, "wino_g", (nch, most * g.O), dt)
    gx = xp.empty(((n if need_x else 0), g.C) + g.in_sp, dt)
    u = _wino_weight(w) if need_x else xp.empty((36, 0, 0), dt)
    x = xp.ascontiguousarray(x) if need_w and not kept else xp.empty((0, g.C) + g.in_sp, dt)
    gparts = xp.empty((nch, 36) + ((g.O, g.C) if need_w else (0, 0)), dt)
    drivers.wino_backward(*blas, xp.ascontiguousarray(y), x, u, g.lo[0], g.lo[1], th, tw, starts, need_x, need_w,
                          kbuf, vbuf, gbuf, gx, gparts, nch)
    gw = _kw.wino_weight_adjoint(gparts.sum(axis=0) if nch > 1 else gparts[0]) if need_w else None
    return (gx if need_x else None), gw


def _im2col_compiled(a, g):
    """``_compiled(a)`` for an im2col convolution ``g`` (two spatial dims), else None."""
    return _compiled(a) if g.nd == 2 else None


def _im2col_block_bytes(g, itemsize):
    return (g.C * math.prod(g.kernel) + g.O) * math.prod(g.out_sp) * itemsize


def _im2col_geom(g):
    """A driver's ``geom``: kernel, stride, padding, dilation, output size, col2im's pitch and two layout flags."""
    return g.kernel + g.stride + g.lo + g.dilation + g.out_sp + (_col_pitch(g), int(rows_layout(g)),
                                                                  int(sparse_windows(g)))


def _im2col_forward_compiled(drivers, blas, x, w, g, bias, keep, out):
    """``_k_F``'s im2col convolution in one compiled call (``drivers.im2col_forward``) into ``out``; ``keep``
    receives the blocks' ``starts`` and the im2col matrices of all of them (one array)."""
    xp = module_of_array(x)
    n, P, KP = x.shape[0], math.prod(g.out_sp), g.C * math.prod(g.kernel) * math.prod(g.out_sp)
    blocks = _blocks(n, _im2col_block_bytes(g, x.itemsize))
    nch = _driver_chunks(len(blocks))
    most = max(b.stop - b.start for b in blocks)
    starts = _starts(xp, blocks)
    kept = xp.empty(n * KP if keep is not None else 0, x.dtype)
    cbuf = _scratch_empty(xp, "cols", (nch, most * KP if keep is None else 0), x.dtype)
    b = xp.empty(0, x.dtype) if bias is None else xp.ascontiguousarray(bias, dtype=x.dtype)
    wm = xp.ascontiguousarray(w).reshape(g.groups, g.O // g.groups, -1)
    drivers.im2col_forward(*blas, xp.ascontiguousarray(x), wm, b, _im2col_geom(g), starts, kept, cbuf,
                           out.reshape(n, g.O, P), nch)
    if keep is not None:
        keep.extend((starts, kept))
    return out


def _im2col_backward_compiled(drivers, blas, y, x, w, g, need_x, need_w, junk, kept):
    """``_k_TG``'s im2col gradients in one compiled call (``drivers.im2col_backward``); ``kept`` is what
    ``_im2col_forward_compiled`` kept (or empty)."""
    xp = module_of_array(y)
    n, dt, ho, pitch = y.shape[0], y.dtype, g.out_sp[0], _col_pitch(g)
    if kept:
        starts, kbuf = kept
    else:
        starts, kbuf = _starts(xp, _blocks(n, _im2col_block_bytes(g, y.itemsize))), xp.empty(0, dt)
    nch = _driver_chunks(starts.size - 1)
    most = int((starts[1:] - starts[:-1]).max())
    K = g.C // g.groups * math.prod(g.kernel)
    wide = need_x and pitch > g.out_sp[-1]
    ybuf = _scratch_empty(xp, "y", (nch, most * g.O * ho * pitch if wide else 0), dt)
    cbuf = _scratch_empty(xp, "cols", (nch, most * g.groups * K * ho * pitch if need_x or not kept else 0), dt)
    gx = xp.empty(((n if need_x else 0), g.C) + g.in_sp, dt)
    x = xp.ascontiguousarray(x) if need_w and not kept else xp.empty((0, g.C) + g.in_sp, dt)
    gparts = xp.empty((nch, g.groups) + ((K, g.O // g.groups) if need_w else (0, 0)), dt)
    wm = xp.ascontiguousarray(w).reshape(g.groups, g.O // g.groups, K) if need_x else \
        xp.empty((g.groups, g.O // g.groups, K), dt)   # its shape only
    drivers.im2col_backward(*blas, xp.ascontiguousarray(y), x, wm, _im2col_geom(g), starts, need_x, need_w, junk,
                            kbuf, ybuf, cbuf, gx, gparts, nch)
    gw = (gparts.sum(axis=0) if nch > 1 else gparts[0]).transpose(0, 2, 1).reshape(g.w_shape) if need_w else None
    return (gx if need_x else None), gw


# ---------------------------------------------------------------------------------------- the three products

def _run_blocks(fn, blocks, summed=False):
    """``[fn(i, b) for i, b in enumerate(blocks)]``; with several threads allowed and enough blocks, the blocks
    are split between that many Python threads (NumPy releases the GIL in its loops and GEMMs).

    ``summed``: the blocks' results are shares of one sum (arrays fresh from each block, or None): each thread adds
    its own blocks' into the first of them as they come, and the list holds one partial sum per thread, so that
    the additions left for the caller (``_sum``) are one fewer than the threads, not than the blocks.
    """
    nt = _block_chunks(len(blocks))
    if nt == 1:
        if summed:
            return [_sum(fn(i, b) for i, b in enumerate(blocks))]
        return [fn(i, b) for i, b in enumerate(blocks)]
    groups = [list(range(k, len(blocks), nt)) for k in range(nt)]

    def work(idx):
        if summed:
            return [(idx[0], _sum(fn(i, blocks[i]) for i in idx))]
        return [(i, fn(i, blocks[i])) for i in idx]

    with _threads.timed_parallel(nt):
        done = sum(_threads.run_split(work, [(idx,) for idx in groups]), [])
    done.sort(key=lambda r: r[0])
    return [r for _, r in done]


def _one_blas_thread(kernel):
    """Run ``kernel`` with BLAS on one thread: its GEMMs are per cache-sized block, too small for BLAS's own
    threads to pay (and an idle OpenBLAS worker spins, taking a core from the block threads).  Nothing to do
    once ember holds BLAS to one thread for good (``_threads.pinned``)."""
    def wrapper(*args, **kwargs):
        if _ember_threads.pinned[0] is not None or _threads.block_threads() <= 1:
            return kernel(*args, **kwargs)
        with _threads.blas_single():
            return kernel(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__ = kernel.__name__, kernel.__doc__
    return wrapper


def _sum(parts):
    """The sum of the arrays in ``parts`` (None where all are None), added into the first: each is fresh from a
    block, owned by the caller."""
    out = None
    for p in parts:
        if p is not None:
            if out is None:
                out = p
            else:
                out += p
    return out


def _as_2d(g):
    """A 1-D convolution's geometry as the 2-D one of height 1 (the compiled drivers are 2-D; the arrays gain a
    height axis of 1 as views)."""
    return _Geom(2, (1,) + g.stride, (0,) + g.lo, (0,) + g.hi, (1,) + g.dilation, g.groups, (1,) + g.kernel,
                 (1,) + g.in_sp, (1,) + g.out_sp, g.C, g.O)


def _through_2d(g, a):
    """Whether a 1-D convolution on ``a`` runs as a 2-D one of height 1: where the compiled drivers take it (the
    Python blocks would split it over Python threads beside Numba's pool)."""
    return g.nd == 1 and a.shape[0] > 0 and _compiled(a) is not None


@_one_blas_thread
def _k_F(x, w, g, bias=None, keep=None):
    """Convolution: x (N, C, *S), w (O, C/g, *k) -> (N, O, *out).

    ``keep``, a list, receives the per-block Winograd inputs or im2col matrices for the weight gradient to reuse
    (from a compiled driver: the blocks' starts and one array of all the blocks' Winograd inputs).
    """
    if _through_2d(g, x):
        return _k_F(x[:, :, None], w[:, :, None], _as_2d(g), bias, keep)[:, :, 0]
    xp = module_of_array(x)
    n = x.shape[0]
    out = xp.empty((n, g.O) + g.out_sp, dtype=x.dtype)
    if _wino_ok(g, x.dtype):
        compiled = _compiled(x)
        if compiled and n:
            return _wino_forward_compiled(*compiled, x, w, g, bias, keep, out)
        UT = _wino_weight_t(w)

        def block(i, b):
            Vt = _wino_input(x[b], g)
            _wino_output_into(xp.matmul(Vt, UT), g, out[b], bias)
            return Vt

        Vs = _run_blocks(block, _blocks(n, _wino_block_bytes(g, x.itemsize)))
        if keep is not None:
            keep.extend(Vs)
        return out
    compiled = _im2col_compiled(x, g)
    if compiled and n:
        return _im2col_forward_compiled(*compiled, x, w, g, bias, keep, out)
    wm = w.reshape(g.groups, g.O // g.groups, -1)

    def block(i, b):
        cols = _im2col(x[b], g) if keep is not None else _im2col_scratch(x[b], g)
        _gemm_into(wm, cols, g, out[b], bias)
        return cols if keep is not None else None

    cols = _run_blocks(block, _blocks(n, _im2col_block_bytes(g, x.itemsize)))
    if keep is not None:
        keep.extend(cols)
    return out


def _k_T(y, w, g, bias=None):
    """Transposed convolution (adjoint of F in x): y (N, O, *out), w -> (N, C, *S)."""
    out = _k_TG(y, None, w, g, True, False)[0]
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * g.nd)
    return out


def _k_G(x, y, g):
    """Weight gradient (adjoint of F in w): x (N, C, *S), y (N, O, *out) -> (O, C/g, *k)."""
    return _k_TG(y, x, None, g, False, True)[1]


@_one_blas_thread
def _k_TG(y, x, w, g, need_x, need_w, kept=None):
    """Both adjoints of F at once — T(y, w) and G(x, y) — sharing each block's transformed y.

    ``kept`` may hold the Winograd inputs or im2col matrices of x that the forward computed (what ``_k_F`` put in
    its ``keep``).
    """
    if _through_2d(g, y):
        gx, gw = _k_TG(y[:, :, None], None if x is None else x[:, :, None], None if w is None else w[:, :, None],
                       _as_2d(g), need_x, need_w, kept)
        return (None if gx is None else gx[:, :, 0]), (None if gw is None else gw[:, :, 0])
    xp = module_of_array(y)
    n = y.shape[0]
    gx = xp.empty((n, g.C) + g.in_sp, dtype=y.dtype) if need_x else None
    if n == 0:  # a 0-size batch has no blocks: the weight gradient is zero
        return gx, (xp.zeros(g.w_shape, dtype=y.dtype) if need_w else None)
    if _wino_ok(g, y.dtype):
        compiled = _compiled(y)
        if compiled:
            return _wino_backward_compiled(*compiled, y, x, w, g, need_x, need_w, kept)
        U = _wino_weight(w) if need_x else None

        def block(i, b):
            Gt = _wino_grad_out(y[b], g)
            if need_x:
                _wino_input_adjoint_into(xp.matmul(Gt, U), g, gx[b])
            if need_w:
                Vt = kept[i] if kept else _wino_input(x[b], g)
                return xp.matmul(Gt.transpose(0, 2, 1), Vt)  # this block's share of gU (36, O, C)
            return None

        gU = _sum(_run_blocks(block, _blocks(n, _wino_block_bytes(g, y.itemsize)), summed=True))
        gw = _kw.wino_weight_adjoint(gU) if need_w else None
        return gx, gw
    pitch, wo = _col_pitch(g), g.out_sp[-1]
    # the padding columns of the pitched gradient give 0 * w: not zero where w is not finite
    junk = need_x and pitch > wo and not bool(xp.isfinite(w).all())
    compiled = _im2col_compiled(y, g)
    if compiled:
        return _im2col_backward_compiled(*compiled, y, x, w, g, need_x, need_w, junk, kept)
    wmT = w.reshape(g.groups, g.O // g.groups, -1).transpose(0, 2, 1) if need_x else None

    def block(i, b):
        if need_x:
            yb = y[b]
            if pitch > wo:
                yb = _scratch_empty(xp, "y", yb.shape[:-1] + (pitch,), yb.dtype)
                yb[..., wo:] = 0
                yb[..., :wo] = y[b]
            yi = _per_image(yb, g)
            cols = xp.matmul(wmT, yi, out=_scratch_empty(xp, "gcols", yi.shape[:2] + wmT.shape[1:2] + yi.shape[3:],
                                                         yi.dtype))
            if junk:
                cols.reshape(cols.shape[:-1] + (-1, pitch))[..., wo:] = 0
            _col2im_into(cols, g, gx[b])
        return _gemm_weight(y[b], kept[i] if kept else _im2col_scratch(x[b], g), g) if need_w else None

    blocks = _blocks(n, _im2col_block_bytes(g, y.itemsize))
    gw = _sum(_run_blocks(block, blocks, summed=True))
    return gx, (gw.reshape(g.w_shape) if need_w else None)


@_one_blas_thread
def _k_FG(z, y, w, g, need_z, need_w):
    """The gradients of a transposed convolution y -> T(y, w) given dz: F(dz, w) and G(dz, y), sharing blocks."""
    if _im2col_compiled(z, g):   # the compiled drivers, one after the other (F keeps dz's Winograd inputs for G)
        kept = [] if need_z and need_w and _wino_ok(g, z.dtype) else None
        gz = _k_F(z, w, g, None, kept) if need_z else None
        gw = _k_TG(y, z, None, g, False, True, kept)[1] if need_w else None
        return gz, gw
    xp = module_of_array(z)
    n = z.shape[0]
    gy = xp.empty((n, g.O) + g.out_sp, dtype=z.dtype) if need_z else None
    if n == 0:  # a 0-size batch has no blocks: the weight gradient is zero
        return gy, (xp.zeros(g.w_shape, dtype=z.dtype) if need_w else None)
    if _wino_ok(g, z.dtype):
        UT = _wino_weight_t(w) if need_z else None

        def block(i, b):
            Vt = _wino_input(z[b], g)
            if need_z:
                _wino_output_into(xp.matmul(Vt, UT), g, gy[b], None)
            return xp.matmul(_wino_grad_out(y[b], g).transpose(0, 2, 1), Vt) if need_w else None

        gU = _sum(_run_blocks(block, _blocks(n, _wino_block_bytes(g, z.itemsize)), summed=True))
        gw = _kw.wino_weight_adjoint(gU) if need_w else None
        return gy, gw
    wm = w.reshape(g.groups, g.O // g.groups, -1) if need_z else None

    def block(i, b):
        cols = _im2col_scratch(z[b], g)
        if need_z:
            _gemm_into(wm, cols, g, gy[b])
        return _gemm_weight(y[b], cols, g) if need_w else None

    blocks = _blocks(n, _im2col_block_bytes(g, z.itemsize))
    gw = _sum(_run_blocks(block, blocks, summed=True))
    return gy, (gw.reshape(g.w_shape) if need_w else None)


# ---------------------------------------------------------------------------------------- autograd

class ConvolutionBackwardBackward0(Node):
    """Node of a primitive F / T / G used inside a differentiable (create_graph) backward."""

    def backward(self, grad):
        a, b = self.saved_tensors
        kind, g = self.kind, self.geom
        need_a, need_b = self._edges[0] is not None, self._edges[1] is not None
        if kind == "F":      # a = x, b = w
            return (_prim("T", grad, b, g) if need_a else None), (_prim("G", a, grad, g) if need_b else None)
        if kind == "T":      # a = y, b = w
            return (_prim("F", grad, b, g) if need_a else None), (_prim("G", grad, a, g) if need_b else None)
        # kind == "G": a = x, b = y
        return (_prim("T", b, grad, g) if need_a else None), (_prim("F", a, grad, g) if need_b else None)


def _prim(kind, a, b, g):
    """Primitive ``kind`` of (a, b) as an ember op that records its own graph."""
    ad, bd = a._data, b._data
    if kind == "F":
        res = _k_F(ad, bd, g)
    elif kind == "T":
        res = _k_T(ad, bd, g)
    else:
        res = _k_G(ad, bd, g)
    out = _make(res)
    record(out, ConvolutionBackwardBackward0, (a, b), (a, b), kind=kind, geom=g)
    return out


class ConvolutionBackward0(Node):
    """Gradient of a convolution (``transposed=False``: F) or a transposed convolution (T), with bias."""

    kept = None  # the forward's Winograd inputs or im2col matrices (per batch block), reused once by the weight gradient

    def backward(self, grad):
        x, w = self.saved_tensors
        g = self.geom
        e = self._edges
        need_x, need_w, need_b = e[0] is not None, e[1] is not None, len(e) > 2 and e[2] is not None
        sum_dims = (0,) + tuple(range(2, 2 + g.nd))
        if GradMode.enabled:  # create_graph: gradients as differentiable ember ops
            if not self.transposed:
                gx = _prim("T", grad, w, g) if need_x else None
                gw = _prim("G", x, grad, g) if need_w else None
            else:
                gx = _prim("F", grad, w, g) if need_x else None
                gw = _prim("G", grad, x, g) if need_w else None
        else:
            gd = grad._data
            if not self.transposed:
                kept, self.kept = self.kept, None
                gx, gw = _k_TG(gd, x._data, w._data, g, need_x, need_w, kept)
            else:
                gx, gw = _k_FG(gd, x._data, w._data, g, need_x, need_w)
            gx = _make(gx) if gx is not None else None
            gw = _make(gw) if gw is not None else None
        gb = None
        if need_b:
            gb = grad.sum(sum_dims) if GradMode.enabled else _make(grad._data.sum(axis=sum_dims))
        return gx, gw, gb


# ---------------------------------------------------------------------------------------- argument checks

def _tuple(value, nd, name):
    if isinstance(value, numbers.Integral):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    if len(value) == 1 and nd != 1:
        return value * nd
    if len(value) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} values to match the "
                           f"convolution dimensions, but got {name}={list(value)}")
    return value


def _sizes(shape):
    return " x ".join(str(s) for s in shape)


def _check_common(input, weight, bias, nd, fname, transposed, groups):
    xd, wd = input._data, weight._data
    if xd.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got input "
                           f"of size: {list(xd.shape)}")
    if wd.ndim != nd + 2:
        raise RuntimeError(f"expected stride to be a single integer value or a list of {wd.ndim - 2} values to match "
                           f"the convolution dimensions, but got stride={[1] * nd}")
    if xd.dtype != wd.dtype or type(xd) is not type(wd):
        # PyTorch's CPU backend (oneDNN) adds a clause its accelerator backends leave out
        raise RuntimeError(f"Input type ({input._type_name()}) and weight type ({weight._type_name()}) should be "
                           "the same" + (" or input should be a MKLDNN tensor and weight is a dense tensor"
                                         if input.device.type == "cpu" else ""))
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if wd.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(wd.shape)}] instead")
    if bias is not None:
        if type(bias._data) is not type(xd):
            raise RuntimeError(f"Input type ({input._type_name()}) and bias type ({bias._type_name()}) should be the "
                               "same")
        out_ch = wd.shape[1] * groups if transposed else wd.shape[0]
        if bias._data.ndim != 1 or bias._data.shape[0] != out_ch:
            raise RuntimeError(f"Given weight of size {list(wd.shape)}, expected bias to be 1-dimensional with "
                               f"{out_ch} elements, but got bias of size {list(bias._data.shape)} instead")
        if bias._data.dtype != xd.dtype:
            raise RuntimeError(f"Input type ({cpp_name(input.dtype)}) and bias type ({cpp_name(bias.dtype)}) should be "
                               "the same")


def _positive(values, what):
    if any(v <= 0 for v in values):
        raise RuntimeError(f"non-positive {what} is not supported")


# ---------------------------------------------------------------------------------------- the ops

def _conv(input, weight, bias, stride, padding, dilation, groups, nd):
    fname = f"conv{nd}d"
    if Autocast.cpu_dtype is not None:
        input, weight, bias = autocast_args(input, weight, bias)
    _check_common(input, weight, bias, nd, fname, False, groups)
    if input._data.ndim == nd + 1:  # unbatched: through a batch of one
        return _conv(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, nd).squeeze(0)
    xd, wd = input._data, weight._data
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    _positive(stride, "stride")
    _positive(dilation, "dilation")
    kernel = tuple(wd.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            lo = tuple(t // 2 for t in total)
            hi = tuple(t - a for t, a in zip(total, lo))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        lo = hi = _tuple(padding, nd, "padding")
        if any(p < 0 for p in lo):
            raise RuntimeError("negative padding is not supported")
    n, c = xd.shape[:2]
    if c != wd.shape[1] * groups:
        shape = list(xd.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {list(wd.shape)}, expected input{shape} to have "
                           f"{wd.shape[1] * groups} channels, but got {c} channels instead")
    in_sp = tuple(xd.shape[2:])
    padded = tuple(s + a + b for s, a, b in zip(in_sp, lo, hi))
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_sizes(padded)}). Kernel size: "
                           f"({_sizes(eff)}). Kernel size can't be greater than actual input size")
    out_sp = tuple((p - e) // t + 1 for p, e, t in zip(padded, eff, stride))
    g = _Geom(nd, stride, lo, hi, dilation, groups, kernel, in_sp, out_sp, c, wd.shape[0])
    need = grad_needed((input, weight, bias))
    keep = [] if need and weight._requires_grad and _keep_inputs(xd, g) else None
    out = _make(_k_F(xd, wd, g, None if bias is None else bias._data, keep))
    record(out, ConvolutionBackward0, (input, weight, bias), (input, weight), geom=g, transposed=False, kept=keep)
    return out


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    fname = f"conv_transpose{nd}d"
    if Autocast.cpu_dtype is not None:
        input, weight, bias = autocast_args(input, weight, bias)
    if isinstance(padding, str):
        raise TypeError(f"{fname}(): argument 'padding' must be tuple of ints, not str")
    _check_common(input, weight, bias, nd, fname, True, groups)
    if input._data.ndim == nd + 1:  # unbatched: through a batch of one
        return _conv_transpose(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation,
                               nd).squeeze(0)
    xd, wd = input._data, weight._data
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    pad = _tuple(padding, nd, "padding")
    opad = _tuple(output_padding, nd, "output_padding")
    _positive(stride, "stride")
    _positive(dilation, "dilation")
    if any(p < 0 for p in pad):
        raise RuntimeError("negative padding is not supported")
    if any(o >= s and o >= d for o, s, d in zip(opad, stride, dilation)):
        names = ("height", "width") if nd < 3 else ("depth", "height", "width")
        shown = ((0,) + opad, (1,) + stride, (1,) + dilation) if nd == 1 else (opad, stride, dilation)
        parts = [f"{what}_{n}: {v}" for what, vals in zip(("output_padding", "stride", "dilation"), shown)
                 for n, v in zip(names, vals)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           + " ".join(parts))
    n, o = xd.shape[:2]
    if o != wd.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(wd.shape)}, expected input{list(xd.shape)} to "
                           f"have {wd.shape[0]} channels, but got {o} channels instead")
    kernel = tuple(wd.shape[2:])
    out_sp = tuple(xd.shape[2:])
    in_sp = tuple((m - 1) * t - 2 * p + d * (k - 1) + op + 1
                  for m, t, p, d, k, op in zip(out_sp, stride, pad, dilation, kernel, opad))
    if any(s <= 0 for s in in_sp):
        raise RuntimeError(f"Given input size per channel: ({_sizes(out_sp)}). Calculated output size per channel: "
                           f"({_sizes(in_sp)}). Output size is too small")
    g = _Geom(nd, stride, pad, pad, dilation, groups, kernel, in_sp, out_sp, wd.shape[1] * groups, o)
    out = _make(_k_T(xd, wd, g, None if bias is None else bias._data))
    record(out, ConvolutionBackward0, (input, weight, bias), (input, weight), geom=g, transposed=True)
    return out


@function
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of (N, C, L) (or unbatched (C, L)) with weight (O, C/groups, k)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


@function
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of (N, C, H, W) (or unbatched (C, H, W)) with weight (O, C/groups, kH, kW).

    ``padding`` is an int, a tuple, ``'valid'`` (none) or ``'same'`` (output size = input size).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


@function
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of (N, C, D, H, W) (or unbatched) with weight (O, C/groups, kD, kH, kW)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


@function
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d); weight is (C_in, C_out/groups, k)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


@function
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d); weight is (C_in, C_out/groups, kH, kW)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


@function
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution (the gradient of conv3d); weight is (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


@function
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """ATen's generic convolution: conv or transposed conv of any spatial rank (from the weight's rank)."""
    nd = weight._data.ndim - 2
    if transposed:
        return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd)
    return _conv(input, weight, bias, stride, padding, dilation, groups, nd)


@function
def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution over (time, batch, channels): input (T, B, C), weight (k, C, O), bias (O) -> (T', B, O)."""
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1).contiguous()
