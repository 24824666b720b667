"""Autocast: run selected ops in a lower-precision dtype inside a context.

ember keeps PyTorch's autocast *state* per device type -- whether autocast is on and in which
dtype -- and the ``autocast`` context manager / decorator that sets it.  The ops that PyTorch's
CPU autocast runs in lower precision (matmul, mm, bmm, addmm, baddbmm, linear and the
convolutions) consult :func:`autocast_cast_dtype` and cast their floating inputs (other than
float64) to that dtype, on the CPU and on CUDA (where bfloat16 is a GEMM compute type over float32
storage: CuPy has no bfloat16 arrays).  On devices ember does not have (``'cuda'`` without a GPU...)
autocast warns and stays disabled, as PyTorch does on a machine without them.
"""
import collections.abc
import functools
import warnings

import ember

__all__ = [
    "autocast", "autocast_decorator", "is_autocast_available", "custom_fwd", "custom_bwd",
    "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype", "set_autocast_dtype",
    "autocast_cast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
    "autocast_increment_nesting", "autocast_decrement_nesting", "clear_autocast_cache",
    "is_autocast_cpu_enabled", "set_autocast_cpu_enabled", "get_autocast_cpu_dtype",
    "set_autocast_cpu_dtype", "get_autocast_gpu_dtype", "set_autocast_gpu_dtype",
]

# the names PyTorch also offers at top level (torch.autocast, torch.is_autocast_enabled, ...)
TOP_LEVEL_NAMES = (
    "autocast", "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
    "set_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
    "autocast_increment_nesting", "autocast_decrement_nesting", "clear_autocast_cache",
    "is_autocast_cpu_enabled", "set_autocast_cpu_enabled", "get_autocast_cpu_dtype",
    "set_autocast_cpu_dtype", "get_autocast_gpu_dtype", "set_autocast_gpu_dtype",
)

# device types PyTorch can autocast on, with their default lower-precision dtype names
_DEFAULT_DTYPE = {
    "cpu": "bfloat16", "cuda": "float16", "xpu": "float16", "mps": "float16", "hpu": "bfloat16",
    "xla": "bfloat16", "ipu": "float16", "mtia": "float16", "maia": "bfloat16",
    "privateuseone": "float16",
}
_enabled = {}      # device type -> bool (absent: False)
_dtype = {}        # device type -> ember dtype (absent: the default above)
_cache_enabled = True
_nesting = 0

# Fast path for the ops: the dtype CPU autocast casts to, or None when CPU autocast is off.
_cpu_cast_dtype = None


def _check_device_type(device_type):
    if device_type not in _DEFAULT_DTYPE:
        ember.device(device_type)  # raises PyTorch's "Expected one of cpu, cuda, ..." error
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")


def is_autocast_available(device_type):
    """Return True when autocast can be used with ``device_type`` (a string such as ``'cpu'``)."""
    if device_type in _DEFAULT_DTYPE:
        return True
    ember.device(device_type)  # unknown names raise the device error, as in PyTorch
    return False


def is_autocast_enabled(device_type=None):
    """Return True inside an enabled autocast region for ``device_type``.

    Without an argument this asks about ``'cuda'``, as PyTorch's legacy form does.
    """
    return _enabled.get("cuda" if device_type is None else device_type, False)


def _refresh_fast_path():
    global _cpu_cast_dtype
    from ..ops._common import Autocast
    _cpu_cast_dtype = get_autocast_dtype("cpu") if _enabled.get("cpu", False) else None
    cuda = get_autocast_dtype("cuda") if _enabled.get("cuda", False) else None
    Autocast.dtypes = {"cpu": _cpu_cast_dtype, "cuda": cuda}
    Autocast.cpu_dtype = _cpu_cast_dtype or cuda
    if cuda is ember.bfloat16 or Autocast.bf16_gemm:   # CuPy has no bfloat16 storage: GEMMs compute in it
        from ..backends import cuda as cuda_flags
        Autocast.bf16_gemm = cuda is ember.bfloat16
        cuda_flags.set_autocast_bf16(Autocast.bf16_gemm)


def set_autocast_enabled(device_type, enabled=None):
    """Turn autocast for ``device_type`` on or off (``set_autocast_enabled(True)`` alone means
    ``'cuda'``)."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _enabled[device_type] = bool(enabled)
    _refresh_fast_path()


def get_autocast_dtype(device_type):
    """Return the dtype autocast casts to on ``device_type`` (default: bfloat16 on the CPU,
    float16 on CUDA)."""
    _check_device_type(device_type)
    dtype = _dtype.get(device_type)
    if dtype is None:
        dtype = getattr(ember, _DEFAULT_DTYPE[device_type])
    return dtype


def set_autocast_dtype(device_type, dtype):
    """Set the dtype autocast casts to on ``device_type``."""
    _dtype[device_type] = dtype
    _refresh_fast_path()


def autocast_cast_dtype(device_type="cpu"):
    """For ops: the dtype to cast eligible inputs to on ``device_type``, or None when autocast is
    off there.  Eligible inputs are floating point tensors that are not float64."""
    if device_type == "cpu":
        return _cpu_cast_dtype
    return get_autocast_dtype(device_type) if _enabled.get(device_type, False) else None


def is_autocast_cache_enabled():
    """Return whether autocast caches casted weights (kept for API compatibility)."""
    return _cache_enabled


def set_autocast_cache_enabled(enabled):
    """Enable or disable the autocast weight cache (ember keeps no cache; the flag is stored)."""
    global _cache_enabled
    _cache_enabled = bool(enabled)


def autocast_increment_nesting():
    """Count one more nested autocast region; return the new depth."""
    global _nesting
    _nesting += 1
    return _nesting


def autocast_decrement_nesting():
    """Count one autocast region less; return the new depth."""
    global _nesting
    _nesting -= 1
    return _nesting


def clear_autocast_cache():
    """Drop cached casts (ember keeps none)."""


def _deprecated(old, new):
    warnings.warn(f"{old} is deprecated. Please use {new} instead.", DeprecationWarning,
                  stacklevel=3)


def is_autocast_cpu_enabled():
    """Deprecated: ``is_autocast_enabled('cpu')``."""
    _deprecated("torch.is_autocast_cpu_enabled()", "torch.is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled):
    """Deprecated: ``set_autocast_enabled('cpu', enabled)``."""
    _deprecated("torch.set_autocast_cpu_enabled(enabled)",
                "torch.set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    """Deprecated: ``get_autocast_dtype('cpu')``."""
    _deprecated("torch.get_autocast_cpu_dtype()", "torch.get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype):
    """Deprecated: ``set_autocast_dtype('cpu', dtype)``."""
    _deprecated("torch.set_autocast_cpu_dtype(dtype)", "torch.set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    """Deprecated: ``get_autocast_dtype('cuda')``."""
    _deprecated("torch.get_autocast_gpu_dtype()", "torch.get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype):
    """Deprecated: ``set_autocast_dtype('cuda', dtype)``."""
    _deprecated("torch.set_autocast_gpu_dtype(dtype)", "torch.set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def autocast_decorator(autocast_instance, func):
    """Return ``func`` wrapped so that it runs inside ``autocast_instance``."""

    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)

    return decorate_autocast


class autocast:
    """Context manager / decorator running a region with automatic mixed precision.

    Inside an enabled CPU region the matrix-multiply and convolution ops run in ``dtype``
    (bfloat16 by default); everything else keeps its dtype.  Regions nest; leaving one restores
    the previous state.

    Args:
        device_type (str): ``'cpu'`` (or ``'cuda'``..., which ember does not have: autocast then
            warns and stays disabled, as PyTorch does without the device).
        dtype (ember.dtype, optional): the lower precision type; bfloat16 or float16 on the CPU
            (default: :func:`get_autocast_dtype` of the device).
        enabled (bool): whether casting is on in the region (default: True).
        cache_enabled (bool, optional): accepted for compatibility.

    Example::

        >>> with ember.autocast(device_type="cpu", dtype=ember.bfloat16):
        ...     logits = model(x)
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(self.device):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{self.device}'")
        self.custom_backend_name = "privateuseone"
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        supported = [ember.bfloat16, ember.float16]
        name = self.device.upper()
        if enabled:
            if self.device == "cuda" and ember.cuda.is_available() or self.device == "cpu":
                pass
            elif self.device == "cuda":
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", stacklevel=2)
                enabled = False
            else:
                warnings.warn(f"{name} is not available in ember. Disabling autocast.",
                              stacklevel=2)
                enabled = False
            if enabled and self.fast_dtype not in supported:
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling "
                    f"autocast.\n{name} Autocast only supports dtypes of "
                    + ", ".join(map(str, supported)) + " currently.", stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                "Did you mean to use autocast as a context manager? For example:\n"
                "    with torch.autocast(device_type=...):\n"
                "        output = model(input)")
        return autocast_decorator(self, func)


def _cast(value, device_type, dtype):
    """Cast the floating (non-float64) tensors inside ``value`` (nested lists, tuples, dicts)
    to ``dtype``; everything else is returned unchanged."""
    if isinstance(value, ember.Tensor):
        eligible = (value.is_floating_point() and value.device.type == device_type
                    and value.dtype is not ember.float64)
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable) and not hasattr(value, "__array__"):
        items = (_cast(v, device_type, dtype) for v in value)
        if isinstance(value, (list, tuple)):
            return type(value)(items)
        return items
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for the ``forward`` of a custom ``autograd.Function`` under autocast.

    Args:
        fwd: the forward staticmethod (omit to use with arguments).
        device_type (str): the autocast device type.
        cast_inputs (ember.dtype, optional): when given and autocast is on, run ``forward`` with
            autocast off and its floating inputs cast to this dtype.
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        was_on = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if was_on:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs),
                           **_cast(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for the ``backward`` of a custom ``autograd.Function``: runs it with the
    autocast state its forward saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast,
                      dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
