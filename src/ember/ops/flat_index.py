"""Indices and coordinates: ``unravel_index`` (flat indices to coordinates) and ``nonzero_static``."""
from ._common import array_module, Tensor, op, function, _make


@function
def unravel_index(indices, shape):
    """The coordinates that flat ``indices`` (an integer tensor) address in a row-major tensor of ``shape``:
    a tuple with one integer tensor per dim.  Indices wrap around modulo each dim, as in PyTorch, so
    negative indices count from the end."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a tensor, but got {type(indices)}")
    if indices.dtype.is_floating_point or indices.dtype.is_complex or indices.dtype.name == "bool":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    xp = array_module(indices)
    idx = indices._data.astype("int64")
    out, step = [], 1
    for size in reversed(shape):
        out.append(_make(xp.mod(xp.floor_divide(idx, step), size) if size else idx * 0))
        step *= size
    return tuple(reversed(out))


@op
def nonzero_static(input, *, size, fill_value=-1):
    """The indices of the non-zero elements (like ``nonzero``) as exactly ``size`` rows: cut, or padded with
    ``fill_value``."""
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    xp = array_module(input)
    idx = xp.stack(xp.nonzero(input._data), axis=1) if input.dim() else xp.zeros((int(bool(input._data)), 0),
                                                                                   dtype="int64")
    out = xp.full((size, max(input.dim(), 1) if input.dim() else 0), fill_value, dtype="int64")
    m = min(size, idx.shape[0])
    out[:m] = idx[:m]
    return _make(out)
