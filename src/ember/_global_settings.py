"""Process-wide switches of the ``torch`` namespace that are not ops: matmul precision, always-warn,
deterministic debug mode, flushing denormals, anomaly mode, the legacy default tensor type.

ember computes in the dtype it is given on the CPU, so the precision and denormal switches are recorded and
reported back (and mirrored into ``backends.cuda.matmul.allow_tf32`` as PyTorch does) without changing any
result; the deterministic mode maps onto ``use_deterministic_algorithms``.
"""
import warnings

from .autograd.anomaly_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled, set_detect_anomaly

__all__ = ["set_float32_matmul_precision", "get_float32_matmul_precision", "set_warn_always",
           "is_warn_always_enabled", "set_deterministic_debug_mode", "get_deterministic_debug_mode",
           "set_flush_denormal", "set_anomaly_enabled", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_default_tensor_type"]

_state = {"matmul_precision": "highest", "warn_always": False}
_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    """Record the float32 matmul precision ('highest', 'high' or 'medium'); anything else warns and is ignored,
    as in PyTorch.  'high'/'medium' also set ``backends.cuda.matmul.allow_tf32`` (TF32 / bfloat16 GEMMs on CUDA)."""
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      f"setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision
    from .backends import cuda
    cuda.apply_matmul_precision()   # CuPy's GEMM compute type, once CUDA is in use


def get_float32_matmul_precision():
    """The float32 matmul precision last set ('highest' by default)."""
    return _state["matmul_precision"]


def set_warn_always(b):
    """Ask for warnings that PyTorch emits once to be emitted every time (recorded)."""
    _state["warn_always"] = bool(b)


def is_warn_always_enabled():
    """Whether ``set_warn_always(True)`` is in effect."""
    return _state["warn_always"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """0/'default': nondeterministic ops allowed; 1/'warn': deterministic, warn only; 2/'error': deterministic."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    import ember
    ember.use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """The current mode as 0, 1 or 2 (see ``set_deterministic_debug_mode``)."""
    import ember
    if not ember.are_deterministic_algorithms_enabled():
        return 0
    return 1 if ember.is_deterministic_algorithms_warn_only_enabled() else 2


def set_flush_denormal(mode):
    """Whether to flush denormal floats to zero; returns True (the request is recorded: NumPy keeps IEEE
    subnormals, which only makes results more exact)."""
    _state["flush_denormal"] = bool(mode)
    return True


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off for the whole process (``autograd.set_detect_anomaly``)."""
    set_detect_anomaly(enabled, check_nan)


def set_default_tensor_type(t):
    """The legacy way to set the default floating dtype: ``t`` is a tensor type (``torch.DoubleTensor``) or
    its name (``'torch.DoubleTensor'``)."""
    import ember
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
                  stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    name = name.rsplit(".", 1)[-1]
    dtypes = {"FloatTensor": ember.float32, "DoubleTensor": ember.float64, "HalfTensor": ember.float16,
              "BFloat16Tensor": ember.bfloat16}
    if name not in dtypes:
        raise TypeError("only floating-point types are supported as the default type")
    ember.set_default_dtype(dtypes[name])

