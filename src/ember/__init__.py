"""ember: a deep-learning framework on NumPy with PyTorch's API.

``import ember as torch`` and write PyTorch code: tensors, autograd, nn,
optim and data loading behave as in PyTorch 2.13.
"""
__version__ = "2.13.0+ember.0.1.0"

from . import _threads  # noqa: F401  first: OpenBLAS's idle-thread timeout is read when NumPy loads it
from . import _dtype
from ._dtype import (dtype, float16, bfloat16, float32, float64, complex64, complex128, uint8, int8, int16, int32,
                     int64, bool, uint16, uint32, uint64, half, float, double, cfloat, cdouble, short, int, long,
                     get_default_dtype, set_default_dtype, promote_types, can_cast, finfo, iinfo)
from ._device import device
from ._tensor import (Tensor, Size, FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, ByteTensor, CharTensor,
                      ShortTensor, IntTensor, LongTensor, BoolTensor)
from .random import Generator, default_generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled)
from . import ops as _ops
from .ops import *  # noqa: F401,F403  the op library: ember.exp, ember.matmul, ...
from . import autograd, return_types, cuda, backends, accelerator
from ._streams import Stream, Event  # noqa: E402  torch.Stream, torch.Event (device-generic)
from . import linalg, fft  # noqa: E402  torch.linalg, torch.fft (light: they only name ops)
from . import special  # noqa: E402  torch.special
from ._threads import set_num_threads, get_num_threads, set_num_interop_threads, get_num_interop_threads

from ._constants import (e, pi, inf, nan, newaxis, layout, strided, memory_format, contiguous_format,  # noqa: E402
                         legacy_contiguous_format, channels_last, channels_last_3d, preserve_format, OutOfMemoryError,
                         AcceleratorError, FatalError, has_lapack, has_mkl, has_openmp, has_spectral)
from ._global_settings import *  # noqa: F401,F403,E402  set_float32_matmul_precision, set_warn_always, ...
from ._storage import UntypedStorage, TypedStorage, LEGACY_CLASSES as _LEGACY_STORAGES  # noqa: E402
globals().update(_LEGACY_STORAGES)   # FloatStorage, DoubleStorage, ... (ember.Storage is FloatStorage, as in torch)
Storage = _LEGACY_STORAGES["FloatStorage"]
from .ops.sparse_tensor import SPARSE_COO as sparse_coo, SPARSE_CSR as sparse_csr, SPARSE_CSC as sparse_csc  # noqa: E402


def result_type(tensor1, tensor2):
    """The dtype PyTorch's promotion gives for an op on ``tensor1`` and ``tensor2`` (tensors or numbers)."""
    return _dtype.result_type(tensor1, tensor2)


def is_tensor(obj):
    """True when ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_complex(input):
    return input.dtype.is_complex


def numel(input):
    return input.numel()


def is_inference(input):
    """Whether tensor ``input`` is an inference tensor (``Tensor.is_inference``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_inference(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.is_inference()


def is_storage(obj):
    """Whether ``obj`` is a storage (untyped or typed)."""
    return isinstance(obj, (UntypedStorage, TypedStorage))


_deterministic = [False, False]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the flag; every ember op is deterministic already."""
    if not isinstance(mode, builtins_bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    _deterministic[0], _deterministic[1] = mode, builtins_bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _deterministic[0]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic[1]


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Set how tensors print (as ``torch.set_printoptions``)."""
    from ._tensor_str import set_printoptions as _set
    _set(precision, threshold, edgeitems, linewidth, profile, sci_mode)


from ._device import get_default_device, set_default_device  # noqa: E402


def get_device_module(device=None):
    """The module of a device's type (``ember.cpu``, ``ember.cuda``) for a ``device``, a device string, or the
    default device when None."""
    import importlib
    from ._device import device as device_cls   # (the argument hides the module-level name)
    if device is None:
        kind = get_default_device().type
    elif isinstance(device, device_cls):
        kind = device.type
    elif isinstance(device, str):
        kind = device_cls(device).type
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or None")
    if kind not in ("cpu", "cuda"):
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered as 'torch.{kind}'.")
    return importlib.import_module(f".{kind}", __name__)


def compile(model=None, **kwargs):
    """No compiler here: returns ``model`` unchanged (or a decorator that does)."""
    if model is None:
        return lambda m: m
    return model


# submodules that load on first use, keeping ``import ember`` light
_LAZY_SUBMODULES = {"nn", "utils", "optim", "multiprocessing", "amp", "fft", "linalg", "vision", "distributed", "onnx",
                    "serialization", "func", "distributions", "jit", "sparse", "profiler", "cpu", "masked",
                    "quasirandom", "functional"}
_LAZY_NAMES = {"GradScaler": "amp", "vmap": "func"}   # torch.GradScaler is torch.amp's, torch.vmap torch.func's


_AUTOCAST_NAMES = {"autocast", "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
                   "set_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
                   "autocast_increment_nesting", "autocast_decrement_nesting", "clear_autocast_cache",
                   "is_autocast_cpu_enabled", "set_autocast_cpu_enabled", "get_autocast_cpu_dtype",
                   "set_autocast_cpu_dtype", "get_autocast_gpu_dtype", "set_autocast_gpu_dtype"}


def __getattr__(name):
    if name in ("save", "load"):
        from . import serialization
        return getattr(serialization, name)
    if name in _LAZY_NAMES:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    if name in _AUTOCAST_NAMES:
        from .amp import autocast_mode
        return getattr(autocast_mode, name)
    if name in _LAZY_SUBMODULES:
        import importlib
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                raise AttributeError(f"module 'ember' has no attribute '{name}'") from None
            raise
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


def __dir__():
    """The loaded names and those that load on first use (``ember.nn``, ``ember.optim``, ``ember.save`` ...)."""
    return sorted(set(globals()) | _LAZY_SUBMODULES | set(_LAZY_NAMES) | _AUTOCAST_NAMES | {"save", "load"})


import builtins as _builtins  # noqa: E402
builtins_bool = _builtins.bool
