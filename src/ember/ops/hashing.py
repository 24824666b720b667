"""``hash_tensor``: a 64-bit fingerprint of a tensor's elements, whole or along dims."""
from .. import _dtype
from ._common import _make, array_module, dtype_name, norm_dims, op, write_out
from .reduction import check_empty_reduction

_XOR_REDUCTION = 0   # the only mode PyTorch defines


def _check_int_dims(dim):
    """PyTorch's TypeError for a ``dim`` that is neither an int nor a sequence of ints (bools included)."""
    items = dim if isinstance(dim, (list, tuple)) else (dim,)
    if isinstance(dim, bool) or not all(isinstance(d, int) and not isinstance(d, bool) for d in items):
        raise TypeError(f"hash_tensor(): argument 'dim' must be tuple of ints, not {type(dim).__name__}")


@op
def hash_tensor(input, dim=(), *, keepdim=False, mode=0, out=None):
    """A uint64 hash of ``input``'s elements over ``dim`` (an int, a sequence of ints, or None / () for all).

    Mode 0, the only one, widens each element to its 64-bit type (floating types to float64, bool and signed
    or 8-bit integers to int64), takes those 64 bits as an unsigned integer and XORs them over the reduced
    dims.  ``keepdim`` keeps the reduced dims with size 1.  Complex and uint16/32/64 inputs are not supported,
    as in PyTorch.  Returns a uint64 tensor (never differentiable).
    """
    if dim is not None:
        _check_int_dims(dim)
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise TypeError(f"hash_tensor(): argument 'mode' must be int, not {type(mode).__name__}")
    arr = input._data
    check_empty_reduction(arr, dim, "hash_tensor")
    dims = norm_dims(dim, arr.ndim)
    if mode != _XOR_REDUCTION:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    dt = input.dtype
    if dt.is_complex or dt in _dtype._LIMITED:
        raise NotImplementedError(f"\"xor_sum_cpu\" not implemented for '{dtype_name(dt)}'")
    wide = arr.astype("float64" if dt.is_floating_point else "int64").view("uint64")
    res = _make(array_module(input).bitwise_xor.reduce(wide, axis=dims, keepdims=keepdim))
    if out is None:
        return res
    if out.dtype is not _dtype.uint64:
        raise RuntimeError(f"Expected result to be of dtype uint64, but got {dtype_name(out.dtype)}")
    return write_out(out, res)
