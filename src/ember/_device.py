"""Device objects, and the array backend that computes on each device type.

A tensor's values are one array of its device's array module: a NumPy
``ndarray`` on the CPU (and, once registered, a CuPy array on CUDA).  Ops ask
``array_module(tensor)`` for the module to compute with; creation functions ask
``backend_for(device)``.  Nothing computes through a module bound at import, so
tensors of several devices live side by side in one process.
"""
import numpy

_KNOWN_TYPES = ("cpu", "cuda", "mps", "meta", "xpu", "privateuseone")


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``.

    Only ``cpu`` can hold ember tensors; the other types can be named (so that
    ``device('cuda' if cuda.is_available() else 'cpu')`` works) but moving a
    tensor there raises the error PyTorch raises on a machine without them.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            raise RuntimeError("Device index without a type is not supported here; use device('cpu')")
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
    """

    __slots__ = ("device_type", "xp", "array_type", "errstate", "to_host", "from_host", "device_index")

    def __init__(self, device_type, xp, array_type, errstate, to_host, from_host, device_index):
        self.device_type, self.xp, self.array_type = device_type, xp, array_type
        self.errstate, self.to_host, self.from_host, self.device_index = errstate, to_host, from_host, device_index

    def __repr__(self):
        return f"ArrayBackend({self.device_type!r}, {self.xp.__name__})"


_BACKENDS = {}        # device type -> ArrayBackend
_BY_ARRAY_TYPE = {}   # array class -> ArrayBackend
_ndarray = numpy.ndarray


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
    b = _BACKENDS.get(d.type)
    if b is not None:
        return b
    if d.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    raise RuntimeError(f"ember supports only the cpu device; {d.type} is not available on this machine")


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
