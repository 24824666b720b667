"""Variable-length sequences for recurrent layers: PackedSequence and the pack / pad helpers.

A packed sequence stores a batch of sequences of different lengths without padding: the
rows of ``data`` are ordered by time step, and ``batch_sizes[t]`` says how many sequences are
still running at step ``t`` (sequences sorted by decreasing length).  Every conversion here
is one gather (``index_select``) over a precomputed index, so it is differentiable and costs
one op whatever the batch.
"""
from collections import namedtuple
from collections.abc import Iterable

from ... import _dtype
from ..._tensor import Tensor
from ...ops.creation import tensor as _tensor, full as _full
from ...ops.joining import cat as _cat

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

PackedSequence_ = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def bind(optional, fn):
    if optional is None:
        return None
    return fn(optional)


class PackedSequence(PackedSequence_):
    """Holds the data and list of ``batch_sizes`` of a packed sequence (a named tuple).

    Build it with :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand.

    Attributes:
        data (Tensor): the packed rows, ``(sum(lengths), *)``.
        batch_sizes (Tensor): int64, the number of sequences active at each time step.
        sorted_indices (Tensor, optional): the order the sequences were sorted into.
        unsorted_indices (Tensor, optional): the inverse permutation of ``sorted_indices``.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data[0], data[1]
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """A PackedSequence whose ``data`` is ``data.to(*args, **kwargs)`` (self when nothing changes)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cuda(self, *args, **kwargs):
        return self.to("cuda", *args, **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to("cpu", *args, **kwargs)

    def pin_memory(self):
        return self

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    def long(self):
        return self.to(dtype=_dtype.int64)

    def int(self):
        return self.to(dtype=_dtype.int32)

    def short(self):
        return self.to(dtype=_dtype.int16)

    def char(self):
        return self.to(dtype=_dtype.int8)

    def byte(self):
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The inverse of a permutation tensor (None stays None)."""
    if permutation is None:
        return None
    perm = permutation.tolist()
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return _tensor(inv, dtype=permutation.dtype)


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        return [int(v) for v in lengths.reshape(-1).tolist()]
    return [int(v) for v in lengths]


def _batch_sizes(lengths):
    """``batch_sizes`` of sorted (decreasing) ``lengths``: how many are longer than t, for each t."""
    out, b = [], len(lengths)
    for t in range(lengths[0]):
        while b and lengths[b - 1] <= t:
            b -= 1
        out.append(b)
    return out


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch of variable-length sequences.

    Args:
        input (Tensor): ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``.
        lengths (Tensor or list of int): the length of each sequence (on the CPU, int64).
        batch_first (bool): whether ``input`` is batch-major.
        enforce_sorted (bool): require ``lengths`` in decreasing order; when False the
            sequences are sorted here and the permutation is kept in the result.

    Returns a :class:`PackedSequence`.
    """
    lens = _lengths_list(lengths)
    T, B = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    sorted_indices = None
    order = list(range(len(lens)))
    if not enforce_sorted:
        order = sorted(order, key=lambda i: -lens[i])
        lens = [lens[i] for i in order]
        sorted_indices = _tensor(order, dtype=_dtype.int64)
    if len(lens) != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} "
                           f"(batch_size={B})")
    for a, b in zip(lens, lens[1:]):
        if b > a:
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
    if lens and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if lens and lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: the longest length ({lens[0]}) is larger than the padded "
                           f"sequence length ({T})")
    bsz = _batch_sizes(lens)
    if batch_first:
        idx = [order[b] * T + t for t, n in enumerate(bsz) for b in range(n)]
    else:
        idx = [t * B + order[b] for t, n in enumerate(bsz) for b in range(n)]
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _tensor(idx, dtype=_dtype.int64))
    return PackedSequence(data, _tensor(bsz, dtype=_dtype.int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: returns ``(padded, lengths)``.

    ``padded`` is ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``), in the batch order the
    sequences had before packing; ``lengths`` is an int64 tensor.  ``total_length`` pads
    to at least that many steps.
    """
    bsz = [int(b) for b in sequence.batch_sizes.tolist()]
    T = len(bsz)
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {T}")
        T = total_length
    data = sequence.data
    B = bsz[0] if bsz else 0
    N = data.shape[0]
    lengths = [sum(1 for n in bsz if n > b) for b in range(B)]
    unsorted = sequence.unsorted_indices
    cols = unsorted.tolist() if unsorted is not None else list(range(B))
    offsets, o = [], 0
    for n in bsz:
        offsets.append(o)
        o += n
    src = []   # for each output cell, the packed row (or N: the padding row)
    if batch_first:
        for j in cols:
            src.extend(offsets[t] + j if t < len(bsz) and j < bsz[t] else N for t in range(T))
    else:
        for t in range(T):
            src.extend(offsets[t] + j if t < len(bsz) and j < bsz[t] else N for j in cols)
    trail = tuple(data.shape[1:])
    if any(s == N for s in src):
        pad = _full((1,) + trail, padding_value, dtype=data.dtype)
        data = _cat([data, pad])
    out = data.index_select(0, _tensor(src, dtype=_dtype.int64))
    out = out.reshape(((B, T) if batch_first else (T, B)) + trail)
    lens = _tensor([lengths[j] for j in cols], dtype=_dtype.int64)
    return out, lens


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack a list of ``(L_i, *)`` tensors into one padded ``(T, B, *)`` tensor (``(B, T, *)``
    with ``batch_first``), padding with ``padding_value`` on the ``padding_side``."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    trail = tuple(sequences[0].shape[1:])
    for s in sequences[1:]:
        st = tuple(s.shape[1:])
        if st != trail:
            if len(st) != len(trail):
                raise RuntimeError(f"The expanded size of the tensor ({trail}) must match the existing size ({st})")
            for d, (a, b) in enumerate(zip(trail, st)):
                if a != b:
                    raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                                       f"non-singleton dimension {d + 1}")
    lens = [s.shape[0] for s in sequences]
    T, B = max(lens), len(sequences)
    N = sum(lens)
    starts, o = [], 0
    for n in lens:
        starts.append(o)
        o += n

    def row(b, t):
        k = t - (T - lens[b]) if padding_side == "left" else t
        return starts[b] + k if 0 <= k < lens[b] else N

    if batch_first:
        src = [row(b, t) for b in range(B) for t in range(T)]
    else:
        src = [row(b, t) for t in range(T) for b in range(B)]
    dt = sequences[0].dtype
    parts = [s if s.dtype is dt else s.to(dt) for s in sequences]
    if N < T * B:
        parts.append(_full((1,) + trail, padding_value, dtype=dt))
    data = _cat(parts) if len(parts) > 1 else parts[0]
    out = data.index_select(0, _tensor(src, dtype=_dtype.int64))
    return out.reshape(((B, T) if batch_first else (T, B)) + trail)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of tensors of the given ``lengths``."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lens = _lengths_list(lengths)
    if len(lens) != padded_sequences.shape[0]:
        raise ValueError(f"zip() argument 2 is {'shorter' if len(lens) < padded_sequences.shape[0] else 'longer'} "
                         "than argument 1")
    return [padded_sequences[b, :n] for b, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length tensors ``(L_i, *)`` (sorted by decreasing length unless
    ``enforce_sorted=False``)."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Undo :func:`pack_sequence`: a list of tensors in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
