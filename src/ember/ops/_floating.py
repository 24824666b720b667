"""The floating-point input check the nn kernels share (PyTorch names its kernel in the message)."""
from ._common import dtype_name


def is_floating(t):
    """Whether tensor ``t`` holds floating or complex numbers (bfloat16 included)."""
    dt = t._data.dtype
    return dt.kind in "fc" or dt.name == "bfloat16"


def require_floating(t, kernel):
    """Raise PyTorch's NotImplementedError, naming ``kernel``, when ``t`` is not floating."""
    if not is_floating(t):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_name(t.dtype)}'")
