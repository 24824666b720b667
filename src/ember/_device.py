"""Device objects, and the array backend that computes on each device type.

A tensor's values are one array of its device's array module: a NumPy
``ndarray`` on the CPU, a CuPy array on CUDA.  Ops ask ``array_module(tensor)``
for the module to compute with; creation functions ask ``backend_for(device)``.
Nothing computes through a module bound at import, so tensors of several
devices live side by side in one process.

The CUDA backend (``ember.backends._cupy``) is registered lazily: ``import ember``
never imports CuPy; the first call that needs CUDA (``backend_for('cuda')``,
``ember.cuda.is_available()``...) does, once.
"""
import importlib

import numpy

_KNOWN_TYPES = ("cpu", "cuda", "mps", "meta", "xpu", "privateuseone")


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``, ``device(0)``.

    ``cpu`` always holds tensors, ``cuda`` where CuPy sees a GPU (a bare index means ``cuda:<index>``,
    as in PyTorch).  Other types can be named, but moving a tensor there raises the error PyTorch
    raises on a machine without them.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            if lazy_backend("cuda") is None:   # PyTorch reads a bare index as one of the accelerator
                raise RuntimeError("Cannot access accelerator device when none is available.")
            self.type, self.index = "cuda", type
            return
        kind, _, idx = str(type).partition(":")
        if kind not in _KNOWN_TYPES:
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, "
                f"lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device string: {type}")
        if idx or str(type).endswith(":"):
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            if not idx.isdigit() or (len(idx) > 1 and idx[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative")
        self.type, self.index = kind, index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        """``with ember.device('cuda'):`` makes this the default device of creation functions in the block."""
        _ENTERED.append(get_default_device())
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        set_default_device(_ENTERED.pop())
        return False


CPU = device("cpu")


class ArrayBackend:
    """One device type's arrays: their module (``xp``), their array class, and the few calls that differ.

    Attributes:
        device_type: the device type these arrays live on ('cpu', 'cuda', ...).
        xp: the NumPy-compatible module that creates and computes on them.
        array_type: the class of their arrays (``numpy.ndarray`` on the CPU).
        errstate: a context manager silencing floating-point warnings (a no-op where the module has none).
        to_host: ``to_host(array)`` -> a NumPy array with the same values.
        from_host: ``from_host(ndarray, index)`` -> an array of this backend on device ``index``.
        device_index: ``device_index(array)`` -> the index of the device holding ``array`` (None on the CPU).
        address: ``address(array)`` -> the address of ``array``'s first element (``Tensor.data_ptr``).
        writeable: ``writeable(array)`` -> False for a read-only view (NumPy's broadcast views); CuPy has none.
        sparse_module: the name of the sparse-matrix library with ``scipy.sparse``'s API that computes on these
            arrays (``"scipy.sparse"``, ``"cupyx.scipy.sparse"``); sparse tensors import it on first use.
    """

    __slots__ = ("device_type", "xp", "array_type", "errstate", "to_host", "from_host", "device_index",
                 "address", "writeable", "sparse_module")

    def __init__(self, device_type, xp, array_type, errstate, to_host, from_host, device_index,
                 address=None, writeable=None, sparse_module="scipy.sparse"):
        self.device_type, self.xp, self.array_type = device_type, xp, array_type
        self.errstate, self.to_host, self.from_host, self.device_index = errstate, to_host, from_host, device_index
        self.address = address or _numpy_address
        self.writeable = writeable or _numpy_writeable
        self.sparse_module = sparse_module

    def __repr__(self):
        return f"ArrayBackend({self.device_type!r}, {self.xp.__name__})"


def _numpy_address(a):
    return a.__array_interface__["data"][0]


def _numpy_writeable(a):
    return a.flags.writeable


_BACKENDS = {}        # device type -> ArrayBackend
_BY_ARRAY_TYPE = {}   # array class -> ArrayBackend
_ndarray = numpy.ndarray
# device types whose backend registers itself on first use: type -> (module, the array modules it owns)
_LAZY = {"cuda": ("ember.backends._cupy", ("cupy", "cupyx"))}
_UNAVAILABLE = set()  # lazy device types whose backend could not load (no CuPy, no GPU): asked once


def lazy_backend(device_type):
    """The ArrayBackend of ``device_type``, loading a lazily registered one on first use; None when there is
    none (no such backend, or its library or device is missing).  Never raises."""
    b = _BACKENDS.get(device_type)
    if b is not None or device_type not in _LAZY or device_type in _UNAVAILABLE:
        return b
    try:
        b = importlib.import_module(_LAZY[device_type][0]).load()
    except Exception:   # a broken install is "no such device", as is a missing one
        b = None
    if b is None:
        _UNAVAILABLE.add(device_type)
        return None
    register_backend(b)
    return b


def register_backend(backend):
    """Make ``backend`` (an ArrayBackend) the one that holds tensors of its device type."""
    _BACKENDS[backend.device_type] = backend
    _BY_ARRAY_TYPE[backend.array_type] = backend


def backend_of(array):
    """The ArrayBackend whose arrays include ``array`` (TypeError for an array no backend owns)."""
    b = _BY_ARRAY_TYPE.get(type(array))
    if b is None:
        if isinstance(array, numpy.generic):   # a NumPy scalar: what NumPy returns for some 0-d results
            return _BACKENDS["cpu"]
        package = type(array).__module__.partition(".")[0]
        for kind, (_, packages) in _LAZY.items():   # e.g. a CuPy array handed over before any CUDA call
            if package in packages and lazy_backend(kind) is not None and type(array) in _BY_ARRAY_TYPE:
                return _BY_ARRAY_TYPE[type(array)]
        key = getattr(array, "dispatch_key", None)   # a sparse tensor's parts, given to a dense-only op
        if key is not None:
            raise NotImplementedError(f"Could not run this operator with arguments from the '{key}' backend: ember "
                                      "has no sparse case for it (convert with .to_dense() first)")
        raise TypeError(f"no ember device holds arrays of type {type(array).__module__}.{type(array).__name__}")
    return b


def array_module(t):
    """The array module that computes on tensor ``t``'s values (NumPy for a CPU tensor)."""
    a = t._data
    if type(a) is _ndarray:
        return numpy
    return backend_of(a).xp


def module_of_array(a):
    """The array module of array ``a`` (NumPy for a NumPy array or scalar)."""
    if type(a) is _ndarray:
        return numpy
    return backend_of(a).xp


def address(a):
    """The address of array ``a``'s first element (any backend)."""
    return a.__array_interface__["data"][0] if isinstance(a, _ndarray) else backend_of(a).address(a)


def memory_owner(a):
    """The array at the end of ``a``'s chain of bases of its own type: the allocation ``a`` lies in.  The chain
    goes through the interface holder NumPy's ``as_strided`` puts between a strided view and its base."""
    kind = type(a)
    while True:
        base = a.base
        if not isinstance(base, kind):
            base = getattr(base, "base", None)
            if not isinstance(base, kind):
                return a
        a = base


def writeable(a):
    """False for a read-only array (NumPy's broadcast views); any backend."""
    return a.flags.writeable if isinstance(a, _ndarray) else backend_of(a).writeable(a)


_default_device = None   # where creation functions put tensors when no device is named (None: the CPU)
_ENTERED = []             # the defaults that ``with device(...)`` blocks replaced, innermost last


def get_default_device():
    """The device creation functions use when none is named (``torch.get_default_device``)."""
    return _default_device or CPU


def set_default_device(dev):
    """Make ``dev`` (a device, a string, or None for the CPU) the default device of creation functions."""
    global _default_device
    d = None if dev is None else dev if isinstance(dev, device) else device(dev)
    if d is not None and d.type == "cpu":
        d = None
    if d is not None:
        backend_for(d)   # PyTorch's error for a device this process cannot hold tensors on
    _default_device = d


def resolve(dev=None):
    """``dev`` as a device object, the default device for None (``device=`` arguments of creation functions)."""
    if dev is None:
        return _default_device or CPU
    return dev if isinstance(dev, device) else device(dev)


def backend_for(dev=None):
    """The ArrayBackend of device ``dev`` (a device, a string, or None for the default device).

    Raises PyTorch's errors for a device type that this process cannot hold tensors on.
    """
    if dev is None:
        dev = _default_device
    if dev is None or dev is CPU:
        return _BACKENDS["cpu"]
    d = dev if isinstance(dev, device) else device(dev)
    b = _BACKENDS.get(d.type) or lazy_backend(d.type)
    if b is not None:
        return b
    if d.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    raise RuntimeError(f"ember supports only the cpu device; {d.type} is not available on this machine")


def cuda_device(dev=None):
    """The device ``Tensor.cuda(dev)`` / ``Module.cuda(dev)`` move to: None is the current GPU, an int its
    index, a string or device must name ``cuda``.  Raises PyTorch's errors (without CUDA too)."""
    if isinstance(dev, int) and not isinstance(dev, bool):
        d = device(dev)   # "Cannot access accelerator device..." without CUDA, negative-index error
    elif dev is not None:
        d = dev if isinstance(dev, device) else device(dev)
        if d.type != "cuda":
            raise RuntimeError("Invalid device, must be cuda device")
    else:
        d = device("cuda")
    if lazy_backend("cuda") is None:
        raise AssertionError("Torch not compiled with CUDA enabled")
    if d.index is None:
        d = device("cuda", _BACKENDS["cuda"].xp.cuda.runtime.getDevice())
    return d


def device_of(array):
    """The device holding ``array``."""
    if type(array) is _ndarray:
        return CPU
    b = backend_of(array)
    return device(b.device_type, b.device_index(array))


register_backend(ArrayBackend("cpu", numpy, numpy.ndarray, numpy.errstate, lambda a: a, lambda a, index: a,
                              lambda a: None))


def as_cpu(dev):
    """Check that ``dev`` (a device, string, or None) names the CPU; raise PyTorch's error otherwise."""
    if dev is None or dev is CPU:
        return CPU
    d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return CPU
    backend_for(d)
    raise RuntimeError(f"ember cannot create {d.type} tensors here")
