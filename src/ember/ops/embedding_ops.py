"""Embedding lookups: ``embedding`` (rows of a weight matrix by index), ``embedding_renorm_`` and the bag
reductions ``embedding_bag`` builds from them."""
import math

from .. import _dtype
from ..kernels import embedding as _ke
from ._device_check import same_device_args
from .sparse_tensor import segment_ids
from ._common import array_module, module_of_array, Node, record, function, _make, GradMode


class EmbeddingBackward0(Node):
    """Gradient of embedding: the output gradient rows added into a zero weight gradient (the
    ``kernels/embedding.py`` kernel; composed from differentiable ops under ``create_graph``)."""

    def backward(self, grad):
        from .creation import zeros
        flat = self.indices.reshape(-1)
        D = self.weight_shape[1]
        if not self.sparse and not GradMode.enabled:
            pad = -1 if self.padding_idx is None else self.padding_idx
            return (_make(_ke.embedding_backward(grad._data.reshape(flat.size, D), flat, self.weight_shape[0], pad,
                                                 self.scale_grad_by_freq)),)
        g2 = grad.reshape(-1, D)
        coef = None
        if self.padding_idx is not None:
            coef = (flat != self.padding_idx)
        if self.scale_grad_by_freq:
            counts = module_of_array(flat).bincount(flat, minlength=self.weight_shape[0])[flat]
            c = 1.0 / counts
            coef = c if coef is None else coef * c
        if coef is not None:
            g2 = g2 * _make(coef.astype(g2._data.dtype).reshape(-1, 1))
        if self.sparse:   # a hybrid COO gradient: one entry per looked-up row except padding, uncoalesced
            from .sparse_tensor import make_coo
            keep = slice(None) if self.padding_idx is None else flat != self.padding_idx
            return (make_coo(flat[keep][None], g2._data[keep], self.weight_shape, flat.size < 2),)
        gw = zeros(self.weight_shape, dtype=grad.dtype, device=grad.device)
        return (gw.index_add(0, _make(flat), g2),)


@function
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` ``(num, dim)`` picked by the integer tensor ``indices``; shape ``indices.shape + (dim,)``.

    ``padding_idx`` (negative: none) gets no gradient; ``scale_grad_by_freq`` divides each row's
    gradient by how often its index occurs.
    """
    ia = indices._data
    if ia.dtype.kind != "i" and (ia.dtype.kind != "u" or ia.dtype.itemsize != 8) or ia.dtype.itemsize < 4:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {indices.type()} instead (while checking arguments for embedding)")
    same_device_args("_index_select", "self", weight, "index", indices)   # PyTorch selects the rows so
    wa = weight._data
    if wa.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if ia.size and (ia.min() < 0 or ia.max() >= wa.shape[0]):
        raise IndexError("index out of range in self")
    res = _make(wa[ia])
    node = record(res, EmbeddingBackward0, (weight,))
    if node is not None:
        node.indices, node.weight_shape = ia.astype("int64", copy=False), wa.shape
        node.padding_idx = padding_idx if padding_idx is not None and padding_idx >= 0 else None
        node.scale_grad_by_freq = scale_grad_by_freq
        node.sparse = sparse
    return res


@function
def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rescale in place the rows of ``weight`` named in ``indices`` whose ``norm_type``-norm exceeds ``max_norm``;
    returns ``weight``."""
    wa = weight._data
    xp = array_module(weight)
    rows = xp.unique(indices._data.reshape(-1))
    sub = wa[rows]
    if norm_type == math.inf:
        norms = xp.abs(sub).max(axis=1)
    else:
        norms = (xp.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    wa[rows] = (sub * scale[:, None]).astype(wa.dtype)
    weight._version[0] += 1
    return weight


_BAG_MODES = ("sum", "mean", "max")


@function
def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Bags of embedding rows reduced by ``mode`` (0 sum, 1 mean, 2 max), composed from differentiable ops
    (``torch.embedding_bag``; ``nn.functional.embedding_bag`` checks its arguments and calls it).

    Args:
        weight: ``(num, D)``.  indices: 1-D indices of all bags.  offsets: 1-D start of each bag in ``indices``
            (with ``include_last_offset`` the last entry is the end).
        per_sample_weights: 1-D weights of the rows (sum mode), or None.  padding_idx: an index to skip, or None.
        sparse: the gradient of ``weight`` is a COO tensor of the rows used.

    Returns ``(output, offset2bag, bag_size, max_indices)`` as PyTorch's CPU kernel: output ``(B, D)`` (zeros for
    an empty bag); the int64 bookkeeping PyTorch's backward uses: the bag of each index (empty in sum mode
    of float32/16 rows without ``padding_idx``), the rows per bag without padding (zeros in sum mode, one per offset), and the
    weight row each max came from ``(B, D)`` (max mode; else ``bag_size`` again).
    """
    from .creation import zeros
    mode_name = _BAG_MODES[mode]
    xp = array_module(indices)
    idx = indices._data.astype(xp.int64, copy=False)
    off = offsets._data.astype(xp.int64, copy=False)
    n = idx.size
    _check_offsets(xp, off, n)
    if include_last_offset:
        starts, ends = off[:-1], off[1:]
    else:
        starts = off
        ends = xp.append(off[1:], n)
    B = starts.size
    lengths = ends - starts
    bag_of_index = segment_ids(xp, lengths)
    first = xp.cumsum(lengths) - lengths   # where each bag's run begins among the gathered positions
    positions = xp.arange(bag_of_index.size) - first[bag_of_index] + starts[bag_of_index]
    keep = xp.ones(positions.size, dtype=bool) if padding_idx is None else idx[positions] != padding_idx
    positions, bag_id = positions[keep], bag_of_index[keep]
    D = weight.shape[1]
    rows = embedding(weight, _make(idx[positions]), -1 if padding_idx is None else padding_idx, scale_grad_by_freq,
                     sparse)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights[_make(positions)].unsqueeze(1)
    counts = xp.bincount(bag_id, minlength=B)
    # PyTorch's CPU kernel for sums of float32/16 rows leaves the bag of each index empty (without padding_idx)
    low = weight.dtype in (_dtype.float32, _dtype.float16, _dtype.bfloat16)
    offset2bag = xp.zeros(0, xp.int64) if mode_name == "sum" and low and padding_idx is None else bag_of_index
    # (its no-grad float32 sums with include_last_offset give one more zero bag size: bookkeeping nobody reads)
    bag_size = counts.astype(xp.int64) if mode_name != "sum" else xp.zeros(B, xp.int64)
    if mode_name == "max":
        out, max_indices = _bag_max(rows, positions, bag_id, idx, B, D, counts, weight)
    else:
        out = zeros((B, D), dtype=weight.dtype, device=weight.device).index_add(0, _make(bag_id), rows)
        if mode_name == "mean":
            scale = xp.where(counts > 0, 1.0 / xp.maximum(counts, 1), 0.0).astype(out._data.dtype)
            out = out * _make(scale[:, None])
        max_indices = bag_size.copy()
    return out, _make(offset2bag), _make(bag_size), _make(max_indices)


def _check_offsets(xp, off, n):
    """PyTorch's checks of embedding_bag's offsets: the first is 0, none passes the input's end, and (clearer
    than PyTorch's internal assertion) they never decrease."""
    if not off.size:
        return
    first, last = int(off[0]), int(off[-1])
    if first != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {first}")
    if last > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of {last}")
    steps = xp.diff(off)
    if steps.size and bool((steps < 0).any()):
        k = int(xp.argmax(steps < 0)) + 1
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, but offsets[{k}] = {int(off[k])} follows "
                           f"offsets[{k - 1}] = {int(off[k - 1])}")


def _bag_max(rows, positions, bag_id, idx, B, D, counts, weight):
    """Max mode of ``embedding_bag``: per bag and column the largest row value (the first row attaining it gets
    the gradient), and the weight row it came from (0 for an empty bag)."""
    from .creation import zeros
    xp = array_module(rows)
    if positions.size == 0:
        return zeros((B, D), dtype=weight.dtype, device=weight.device), xp.zeros((B, D), xp.int64)
    ra = rows._data
    best = xp.full((B, D), -math.inf, dtype=ra.dtype)
    xp.maximum.at(best, bag_id, ra)
    hit = ra == best[bag_id]
    order = xp.where(hit, xp.arange(positions.size)[:, None], positions.size)
    first = xp.full((B, D), positions.size, dtype=xp.int64)
    xp.minimum.at(first, bag_id, order)
    empty = counts == 0
    first[empty] = 0
    picked = rows.gather(0, _make(first))
    max_rows = idx[positions][first]
    max_rows[empty] = 0
    if empty.any():
        picked = picked * _make((~empty).astype(ra.dtype)[:, None])
    return picked, max_rows
