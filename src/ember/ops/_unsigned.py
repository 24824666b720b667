"""uint16 / uint32 / uint64 are limited-support dtypes in PyTorch 2.13: most kernels are not built for them.

Ops whose PyTorch kernel lacks these dtypes call ``refuse_wide_unsigned`` with the kernel's name, so ember
raises the same NotImplementedError instead of computing.  The test is one dtype-attribute comparison.
"""
from .. import _dtype
from ._common import dtype_name


def refuse_wide_unsigned(kernel, dt):
    """Raise PyTorch's ``"<kernel>" not implemented for 'UInt16'`` when ``dt`` (the NumPy dtype the kernel would
    run in) is uint16, uint32 or uint64; return None otherwise."""
    if dt.kind == "u" and dt.itemsize > 1:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_name(_dtype.from_numpy_dtype(dt))}'")
