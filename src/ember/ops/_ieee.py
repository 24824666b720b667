"""IEEE results without NumPy's floating-point warnings: PyTorch computes inf and nan quietly (exp overflow,
0/0, log(0), sqrt(-1), float16 overflow), so ops compute those inside these contexts.

``ignore_fp_errors(t)`` in ``_common`` is the tensor form; ``ignore_array_fp_errors`` takes a bare array.
"""
from ._common import backend_of


def ignore_array_fp_errors(a):
    """``ignore_fp_errors`` for a bare array: no floating-point warnings from ``a``'s array module inside."""
    return backend_of(a).errstate(all="ignore")


def retry_quietly(a, fn, *args):
    """``fn(*args)`` inside ``ignore_array_fp_errors(a)`` (``a`` an operand's array).

    The hottest ops (arithmetic, casts, products) first compute without NumPy's errstate, which costs more than
    the op itself on small tensors; NumPy only warns when an inf or nan appears, and when a warning filter has
    turned that warning into an exception they compute again here, quietly, for PyTorch's IEEE result."""
    with ignore_array_fp_errors(a):
        return fn(*args)


def cast(a, dtype):
    """``a.astype(dtype)`` (no copy when it already has it) with C's results and no warning: beyond a float
    type's range gives inf, NaN or inf into an integer type whatever the cast gives, as PyTorch's casts."""
    try:
        return a.astype(dtype, copy=False)
    except RuntimeWarning:   # only when a warning filter turned NumPy's warning into an error
        return retry_quietly(a, a.astype, dtype)
