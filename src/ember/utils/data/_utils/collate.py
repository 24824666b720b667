"""Turning lists of samples into batches: ``default_collate`` and ``default_convert``.

``default_collate`` walks the structure of the first sample (mapping, namedtuple,
tuple, list ...) and merges the samples leaf by leaf.  Which function merges a
leaf is decided by ``default_collate_fn_map`` (type -> function), which users may
extend, exactly as in PyTorch.

Result dtypes follow PyTorch: Python ``float`` -> float64, ``int`` -> int64,
``bool`` -> bool, NumPy arrays and scalars keep their dtype, strings and bytes
stay lists.  Same-shape NumPy arrays are merged with a single ``np.stack`` (the
hot path of every image pipeline) instead of one tensor per sample.
"""
import collections
import copy
import re

import numpy as np

import ember as _ember

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map",
           "default_collate_err_msg_format", "collate_tensor_fn", "collate_numpy_array_fn",
           "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn", "collate_str_fn"]

# dtype kinds that cannot become tensors: bytes (S, a), unicode (U) and objects (O)
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


def _tensor_type():
    return _ember.Tensor


class _CollateShapeError(RuntimeError):
    """A stack of unequal shapes; remembers which field of the samples it was in."""

    def __init__(self, base, path=()):
        self.base = base
        self.path = list(path)
        super().__init__(self._text())

    def _text(self):
        if not self.path:
            return self.base
        return f"{self.base} (while collating field {''.join(self.path)} of the samples)"

    def prepend(self, key):
        """Record that the failure happened inside field ``key`` of an outer structure."""
        self.path.insert(0, key)
        self.args = (self._text(),)
        return self


def _fmt_shape(shape):
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _check_same_shape(shapes):
    first = shapes[0]
    for i, s in enumerate(shapes):
        if s != first:
            raise _CollateShapeError(
                f"stack expects each tensor to be equal size, but got {_fmt_shape(first)} at entry 0 "
                f"and {_fmt_shape(s)} at entry {i}")


# --------------------------------------------------------------------------------------------
# default_convert
# --------------------------------------------------------------------------------------------

def default_convert(data):
    """Convert every NumPy array inside ``data`` into a tensor, keeping the structure.

    Used by ``DataLoader`` when automatic batching is off (``batch_size=None``).
    Tensors are returned as they are; NumPy arrays and NumPy scalars become
    tensors sharing memory where possible (string and object arrays are left
    alone); mappings, namedtuples and sequences are converted element by
    element (a plain tuple becomes a list, as in PyTorch); anything else is
    returned unchanged.

    Args:
        data: one sample (or any nested structure).

    Example::

        >>> default_convert(np.array([0, 1]))
        tensor([0, 1])
        >>> default_convert((np.array(0), "a"))
        [tensor(0), 'a']
    """
    elem_type = type(data)
    if isinstance(data, _tensor_type()):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return _ember.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:  # the mapping type cannot be rebuilt this way
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


# --------------------------------------------------------------------------------------------
# collate
# --------------------------------------------------------------------------------------------

def _key_text(key):
    return f"[{key!r}]"


def collate(batch, *, collate_fn_map=None):
    """Merge a list of samples into a batch, dispatching leaves through ``collate_fn_map``.

    The type of ``batch[0]`` decides what happens.  If that type (or, failing
    that, a base class of it, in the map's insertion order) is a key of
    ``collate_fn_map``, its function is called as ``fn(batch, collate_fn_map=...)``.
    Otherwise mappings are collated per key, namedtuples per field, and other
    sequences position by position (all samples must then have the same length).

    Args:
        batch (list): the samples of one batch.
        collate_fn_map (dict, optional): element type (or tuple of types) -> collate function.

    Raises:
        TypeError: for element types nothing knows how to merge.
        RuntimeError: when sequences in the batch differ in length, or tensors/arrays in shape.
    """
    elem = batch[0]
    elem_type = type(elem)

    if collate_fn_map is not None:
        fn = collate_fn_map.get(elem_type)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        def merged():
            """Collate each key, naming the key in a shape error."""
            out = {}
            for key in elem:
                try:
                    out[key] = collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                except _CollateShapeError as e:
                    raise e.prepend(_key_text(key))
            return out
        values = merged()
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(values)
                return clone
            return elem_type(values)
        except TypeError:
            return values

    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        fields = []
        for name, samples in zip(elem._fields, zip(*batch)):
            try:
                fields.append(collate(samples, collate_fn_map=collate_fn_map))
            except _CollateShapeError as e:
                raise e.prepend(f".{name}")
        return elem_type(*fields)

    if isinstance(elem, collections.abc.Sequence) and not isinstance(elem, (str, bytes)):
        elem_size = len(elem)
        for other in batch:
            if len(other) != elem_size:
                raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        fields = []
        for i, samples in enumerate(transposed):
            try:
                fields.append(collate(samples, collate_fn_map=collate_fn_map))
            except _CollateShapeError as e:
                raise e.prepend(f"[{i}]")
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list for tuples (backwards compatibility)
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, value in enumerate(fields):
                    clone[i] = value
                return clone
            return elem_type(fields)
        except TypeError:
            return fields

    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stack a batch of tensors along a new first dimension (shapes must match)."""
    _check_same_shape([tuple(t.shape) for t in batch])
    return _ember.stack(list(batch), 0)


def _stack_arrays(arrays):
    """``np.stack(arrays)`` for same-shape, same-dtype arrays, in one C call."""
    first = arrays[0]
    if first.ndim == 0:
        return np.array(arrays, dtype=first.dtype)
    return np.concatenate(arrays, axis=0).reshape((len(arrays),) + first.shape)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Stack a batch of NumPy arrays into one tensor of the arrays' dtype.

    Arrays of one shape and dtype are merged with a single NumPy call; mixed
    dtypes go through tensors so that PyTorch's type promotion decides the result.
    """
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    shape, dtype = elem.shape, elem.dtype
    for b in batch:
        if type(b) is not np.ndarray or b.dtype != dtype:
            break
        if b.shape != shape:
            _check_same_shape([getattr(x, "shape", ()) for x in batch])
    else:
        return _ember.from_numpy(_stack_arrays(batch))
    return collate([_ember.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """Turn a batch of NumPy scalars into a 1-D tensor (dtype from PyTorch's promotion)."""
    first = type(batch[0])
    for b in batch:
        if type(b) is not first:
            return _ember.as_tensor(list(batch))
    return _ember.from_numpy(np.array(batch, dtype=batch[0].dtype))


def _all_of_type(batch, cls):
    for b in batch:
        if type(b) is not cls:
            return False
    return True


def collate_float_fn(batch, *, collate_fn_map=None):
    """Turn a batch of Python floats into a float64 tensor."""
    if _all_of_type(batch, float):
        return _ember.from_numpy(np.array(batch, dtype=np.float64))
    return _ember.tensor(list(batch), dtype=_ember.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Turn a batch of Python ints (or bools) into a tensor: int64 (bool for all-bool batches)."""
    first = type(batch[0])
    if (first is int or first is bool) and _all_of_type(batch, first):
        try:
            return _ember.from_numpy(np.array(batch, dtype=np.int64 if first is int else np.bool_))
        except OverflowError:
            pass  # let ember.tensor raise PyTorch's error
    return _ember.tensor(list(batch))


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes are not merged: the batch stays a list."""
    return batch


class _LazyTensorKeyMap(dict):
    """``default_collate_fn_map``: a plain dict whose first key is ``ember.Tensor``.

    ``ember.Tensor`` may not exist yet while ember itself is being imported, so
    the tensor entry is inserted on first use (keeping it first, as in PyTorch).
    """

    _ready = False

    def _fill(self):
        if not self._ready:
            rest = list(dict.items(self))
            dict.clear(self)
            dict.__setitem__(self, _tensor_type(), collate_tensor_fn)
            for k, v in rest:
                dict.__setitem__(self, k, v)
            self._ready = True


def _make_default_map():
    m = _LazyTensorKeyMap()
    dict.__setitem__(m, np.ndarray, collate_numpy_array_fn)
    dict.__setitem__(m, (np.bool_, np.number, np.object_), collate_numpy_scalar_fn)
    dict.__setitem__(m, float, collate_float_fn)
    dict.__setitem__(m, int, collate_int_fn)
    dict.__setitem__(m, str, collate_str_fn)
    dict.__setitem__(m, bytes, collate_str_fn)
    return m


default_collate_fn_map = _make_default_map()
try:
    default_collate_fn_map._fill()
except AttributeError:  # ember.Tensor not defined yet (ember is still importing)
    pass


def default_collate(batch):
    """Merge a list of samples into a batch of tensors with a new leading batch dimension.

    This is the ``collate_fn`` ``DataLoader`` uses when batching is on.  Per
    element type of the samples:

    * tensor -> stacked tensor
    * NumPy array -> stacked tensor of the array's dtype; NumPy scalar -> 1-D tensor
    * ``float`` -> float64 tensor; ``int`` -> int64 tensor; ``bool`` -> bool tensor
    * ``str`` / ``bytes`` -> unchanged list
    * ``Mapping[K, V]`` -> same mapping type with each value collated
    * namedtuple -> same namedtuple with each field collated
    * other sequences -> collated position by position (tuples become lists)

    Args:
        batch (list): the samples of one batch.

    Raises:
        RuntimeError: when samples disagree in shape (the message names the
            shapes and the field of the samples) or in sequence length.
        TypeError: for element types that cannot be collated.

    Example::

        >>> default_collate([(0, 1.0), (2, 3.0)])
        [tensor([0, 2]), tensor([1., 3.], dtype=torch.float64)]
    """
    if not default_collate_fn_map._ready:
        default_collate_fn_map._fill()
    try:
        return collate(batch, collate_fn_map=default_collate_fn_map)
    except _CollateShapeError as e:
        raise RuntimeError(str(e)) from None
