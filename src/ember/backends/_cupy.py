"""The ``cuda`` device on CuPy: its ArrayBackend, and the few NumPy calls CuPy spells differently or lacks.

``_device.lazy_backend('cuda')`` calls ``load()`` the first time anything needs CUDA; ``import ember``
never imports CuPy.  ``load()`` returns None (never raises) when CuPy is missing or no GPU answers, and
``ember.cuda.is_available()`` is then False.

Ops compute through ``xp``, a module that is CuPy except for:

* ``lib.stride_tricks.as_strided`` takes NumPy's ``writeable``/``subok`` (CuPy's has neither);
* ``errstate`` is a no-op context (GPU arithmetic raises no floating-point warnings);
* ``add``/``multiply``/``maximum``/``minimum`` are CuPy's ufuncs, but their ``at``/``accumulate``/``reduceat``
  fall back to NumPy on the host for the ufuncs and dtypes CuPy's atomics do not cover (``multiply.at``,
  ``add.at`` on int64...): correct, and slow only on those rare paths.

bfloat16: CuPy has no bfloat16 dtype, so a CUDA tensor cannot be bfloat16; moving or casting one there
raises TypeError.  ``autocast('cuda', dtype=bfloat16)`` runs matmuls and convolutions on bfloat16 tensor
cores through cuBLAS's compute type (inputs rounded to bfloat16, float32 accumulation) and keeps float32
storage (see ``ember.backends.cuda``).

Allocation goes through CuPy's memory pool with a thin allocator that turns CuPy's out-of-memory error
into ``ember.OutOfMemoryError`` (the process survives; freed blocks are reused) and tracks the peak for
``ember.cuda.max_memory_allocated``.
"""
import contextlib
import types

import numpy

from .._device import ArrayBackend

BF16_ERROR = ("ember's CUDA device (CuPy) has no bfloat16 dtype; keep CUDA tensors in float16 or float32 "
              "(autocast('cuda', dtype=torch.bfloat16) runs matmuls on bfloat16 tensor cores with float32 "
              "storage)")

state = types.SimpleNamespace(cupy=None, pool=None, peak=0, initialized=False)


def load():
    """The CUDA ArrayBackend, or None when CuPy is missing or sees no GPU.  Never raises."""
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
    except Exception:   # ImportError, CUDARuntimeError (no driver), a broken install: no CUDA here
        return None
    state.cupy = cupy
    state.pool = cupy.get_default_memory_pool()
    cupy.cuda.set_allocator(_allocate)
    from . import cuda as _flags
    _flags.apply_matmul_precision()
    state.initialized = True
    return ArrayBackend("cuda", _module(cupy), cupy.ndarray, _no_errstate, _to_host, _from_host,
                        _device_index, address=_address, writeable=_always_writeable,
                        sparse_module="cupyx.scipy.sparse")


# ------------------------------------------------------------------------------------------ arrays
def _to_host(a):
    return a.get()


def _from_host(a, index):
    """``a`` (a NumPy array) copied to CUDA device ``index`` (the current device for None)."""
    cupy = state.cupy
    if a.dtype.name == "bfloat16":
        raise TypeError(BF16_ERROR)
    if index is None:
        return cupy.asarray(a)
    check_index(index)
    with cupy.cuda.Device(index):
        return cupy.asarray(a)


def check_index(index):
    """PyTorch's error for a device index this machine does not have."""
    if not 0 <= index < state.cupy.cuda.runtime.getDeviceCount():
        raise RuntimeError("CUDA error: invalid device ordinal\nCUDA kernel errors might be asynchronously "
                           "reported at some other API call, so the stacktrace below might be incorrect.\n"
                           "For debugging consider passing CUDA_LAUNCH_BLOCKING=1")


def _device_index(a):
    return a.device.id


def _address(a):
    return a.data.ptr


def _always_writeable(a):
    return True


@contextlib.contextmanager
def _no_errstate(**kwargs):
    yield


# ------------------------------------------------------------------------------------------ pinned memory
def pinned_copy(a):
    """A copy of NumPy array ``a`` in page-locked host memory (PyTorch's error without a GPU)."""
    from .._device import lazy_backend
    if lazy_backend("cuda") is None:
        raise RuntimeError("Cannot access accelerator device when none is available.")
    mem = state.cupy.cuda.alloc_pinned_memory(max(a.nbytes, 1))
    out = numpy.frombuffer(mem, a.dtype, a.size).reshape(a.shape)
    out[...] = a
    return out


def is_pinned(a):
    """True when NumPy array ``a`` lies in page-locked memory made by ``pinned_copy``."""
    if state.cupy is None:
        return False
    while isinstance(a, numpy.ndarray):
        a = a.base
    return isinstance(a, state.cupy.cuda.PinnedMemoryPointer)


# ------------------------------------------------------------------------------------------ memory
def _allocate(size):
    """CuPy's pool allocation, with ember's OutOfMemoryError and the peak kept for max_memory_allocated."""
    try:
        mem = state.pool.malloc(size)
    except state.cupy.cuda.memory.OutOfMemoryError as e:
        from .._constants import OutOfMemoryError
        raise OutOfMemoryError(f"CUDA out of memory. Tried to allocate {_mib(size)}. {e}") from None
    used = state.pool.used_bytes()
    if used > state.peak:
        state.peak = used
    return mem


def _mib(n):
    return f"{n / 2 ** 20:.2f} MiB" if n < 2 ** 30 else f"{n / 2 ** 30:.2f} GiB"


# ------------------------------------------------------------------------------------------ the module
def _as_strided(x, shape=None, strides=None, subok=False, writeable=True):
    """NumPy's ``as_strided`` signature over CuPy's (CuPy arrays have no read-only flag)."""
    return state.cupy.lib.stride_tricks.as_strided(x, shape, strides)


class _HostFallbackUfunc:
    """A CuPy ufunc whose ``at``/``accumulate``/``reduceat`` run NumPy's on the host where CuPy's cannot."""

    __slots__ = ("_ufunc", "_name")

    def __init__(self, ufunc, name):
        self._ufunc, self._name = ufunc, name

    def __call__(self, *args, **kwargs):
        return self._ufunc(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._ufunc, name)

    def at(self, a, indices, b=None):
        try:
            return self._ufunc.at(a, indices, b) if b is not None else self._ufunc.at(a, indices)
        except (NotImplementedError, TypeError, ValueError):
            host = a.get()
            args = (_host(b),) if b is not None else ()
            getattr(numpy, self._name).at(host, _host(indices), *args)
            a[...] = state.cupy.asarray(host)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        try:
            return self._ufunc.accumulate(array, axis=axis, dtype=dtype, out=out)
        except (NotImplementedError, TypeError, ValueError):
            return _device(getattr(numpy, self._name).accumulate(array.get(), axis=axis, dtype=dtype), out)

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        try:
            return self._ufunc.reduceat(array, indices, axis=axis, dtype=dtype, out=out)
        except (NotImplementedError, TypeError, ValueError):
            return _device(getattr(numpy, self._name).reduceat(array.get(), _host(indices), axis=axis,
                                                                dtype=dtype), out)


def _host(value):
    """``value`` (a CuPy array, a number, or a tuple of them: an index) with its arrays on the host."""
    if isinstance(value, tuple):
        return tuple(_host(v) for v in value)
    return value.get() if isinstance(value, state.cupy.ndarray) else value


def _device(host, out):
    res = state.cupy.asarray(host)
    if out is None:
        return res
    out[...] = res
    return out


def _module(cupy):
    """CuPy as ember's ops see it: the module itself, plus the names listed in this module's docstring."""
    xp = types.ModuleType("ember.backends._cupy.xp", "CuPy with NumPy's spellings where ember's ops need them")
    stride_tricks = types.SimpleNamespace(as_strided=_as_strided)
    overrides = {"lib": types.SimpleNamespace(stride_tricks=stride_tricks), "errstate": _no_errstate}
    overrides.update({n: _HostFallbackUfunc(getattr(cupy, n), n) for n in ("add", "multiply", "maximum", "minimum")})

    def __getattr__(name):
        value = getattr(cupy, name)
        setattr(xp, name, value)   # later lookups are plain module-dict hits
        return value

    xp.__dict__.update(overrides)
    xp.__getattr__ = __getattr__
    xp.__name__ = "cupy"   # what the kernel layer and messages key on
    return xp
