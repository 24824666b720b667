"""Storages: the memory under tensors, as PyTorch's ``UntypedStorage`` (bytes) and ``TypedStorage`` (elements) show it.

An untyped storage is a 1-D ``uint8`` view of an allocation: for ``Tensor.untyped_storage()`` the array at the root
of the tensor's chain of array bases (the allocation its views share), so two views of one tensor report the same
``data_ptr()`` and ``nbytes()``, and writes through the storage are seen by every view, as in PyTorch.  A typed
storage (``Tensor.storage()``, deprecated in PyTorch 2) reads the same bytes as elements of one dtype.  The legacy
per-dtype classes (``FloatStorage``, ...) build typed storages of their dtype.
"""
import warnings

from . import _dtype
from ._device import address, device_of, memory_owner, module_of_array

_DEPRECATION = ("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only "
                "storage class. This should only matter to you if you are using storages directly.  To access "
                "UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()")
_warned = [False]


def _warn_typed_storage_removal(stacklevel=3):
    """PyTorch's deprecation warning for typed storages, given once per process as PyTorch gives it."""
    if not _warned[0]:
        _warned[0] = True
        warnings.warn(_DEPRECATION, UserWarning, stacklevel=stacklevel)


def _new_array(size_or_data, dtype, device, where):
    """A fresh 1-D array of ``dtype`` on ``device``: ``size_or_data`` elements (uninitialised) or the given values."""
    from .ops.creation import empty, tensor
    if isinstance(size_or_data, int):
        return empty(size_or_data, dtype=dtype, device=device)._data
    if not hasattr(size_or_data, "__len__") or hasattr(size_or_data, "_data"):
        raise RuntimeError(f"{where}: Expected a sequence type, but got {type(size_or_data).__name__}")
    return tensor(list(size_or_data), dtype=dtype, device=device)._data.reshape(-1)


def _storage_bytes(array):
    """``array`` (1-D, contiguous) as a byte view."""
    return array.view(module_of_array(array).uint8) if array.size else array.astype("uint8")


class UntypedStorage:
    """Bytes: those under a tensor (``Tensor.untyped_storage()``, shared with it) or a new allocation.

    Args:
        size_or_data: a number of bytes (uninitialised) or a sequence of byte values; none for an empty storage.
        device: where to allocate (the default device when None).
    """

    def __init__(self, *args, device=None):
        if len(args) > 1:
            raise TypeError(f"torch.UntypedStorage() takes at most 1 argument ({len(args)} given)")
        self._bytes = _new_array(args[0] if args else 0, _dtype.uint8, device, "torch.UntypedStorage()")

    @classmethod
    def _of(cls, tensor):
        """The storage of ``tensor``'s whole allocation."""
        owner = memory_owner(tensor._data)
        flat = owner.reshape(-1) if owner.flags.c_contiguous else owner.ravel(order="K")
        return cls._over(_storage_bytes(flat))

    @classmethod
    def _over(cls, byte_array):
        """A storage showing ``byte_array`` (a 1-D ``uint8`` array) itself."""
        storage = object.__new__(cls)
        storage._bytes = byte_array
        return storage

    @property
    def device(self):
        """The device the bytes live on."""
        return device_of(self._bytes)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_sparse(self):
        return False

    is_sparse_csr = is_sparse

    def get_device(self):
        """The device index (None for the CPU, as PyTorch's storages answer)."""
        return self.device.index

    def nbytes(self):
        """Size in bytes."""
        return int(self._bytes.size)

    size = nbytes

    def __len__(self):
        return self.nbytes()

    def element_size(self):
        """Bytes per element of an untyped storage: 1."""
        return 1

    def data_ptr(self):
        """Address of the first byte (the same for every view of the allocation)."""
        return address(self._bytes)

    def untyped(self):
        return self

    def is_pinned(self, device="cuda"):
        """False: ember does not page-lock host memory."""
        return False

    def resizable(self):
        """False: the memory belongs to an array, as a tensor's storage from ``from_numpy``."""
        return False

    def resize_(self, size):
        raise RuntimeError("Trying to resize storage that is not resizable")

    def __getitem__(self, index):
        if isinstance(index, slice):
            return UntypedStorage._over(self._bytes[index])
        if not isinstance(index, int):
            raise TypeError(f"can't index a torch.UntypedStorage with {type(index).__name__}")
        n = self.nbytes()
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for storage of size {n}")
        return int(self._bytes[index])

    def __setitem__(self, index, value):
        self._bytes[index] = value

    def tolist(self):
        """The bytes as a list of ints."""
        return [int(b) for b in self._bytes.tolist()]

    def fill_(self, value):
        """Set every byte to ``value``; returns self."""
        self._bytes[...] = value
        return self

    def copy_(self, source, non_blocking=None):
        """Copy the bytes of storage ``source`` (same size in bytes) into this one; returns self."""
        source = source.untyped()
        if source.nbytes() != self.nbytes():
            raise RuntimeError(f"size does not match, self was {self.nbytes()} bytes but src was {source.nbytes()} "
                               "bytes")
        self._bytes[...] = source._bytes
        return self

    def clone(self):
        """A storage over a copy of these bytes."""
        return UntypedStorage._over(self._bytes.copy())

    def cpu(self):
        """This storage when on the CPU, else a host copy."""
        if self.device.type == "cpu":
            return self
        return UntypedStorage._over(self._bytes.get())

    def is_shared(self):
        """True when the bytes live in shared memory (for worker processes)."""
        from .multiprocessing.reductions import is_shared_array
        return is_shared_array(self._bytes)

    def __repr__(self):
        body = "".join(f" {b}\n" for b in self.tolist())
        return f"{body}[torch.storage.UntypedStorage(device={self.device}) of size {self.nbytes()}]"


class TypedStorage:
    """Elements of one dtype over an untyped storage (``Tensor.storage()``); deprecated in PyTorch 2.

    Args:
        size_or_data: a number of elements (uninitialised) or a sequence of values; none for an empty storage.
        dtype: the element type (the default dtype when None).
        device: where to allocate.
        wrap_storage: an ``UntypedStorage`` to read as elements instead of allocating.
    """

    is_sparse = False

    def __init__(self, *args, device=None, dtype=None, wrap_storage=None, _internal=False):
        if not _internal:
            _warn_typed_storage_removal()
        self.dtype = _dtype.get_default_dtype() if dtype is None else dtype
        if wrap_storage is not None:
            if args or device is not None:
                raise RuntimeError("No positional arguments or device should be given when using `wrap_storage`")
            self._untyped_storage = wrap_storage
            return
        if len(args) > 1:
            raise TypeError(f"torch.TypedStorage() takes at most 1 argument ({len(args)} given)")
        array = _new_array(args[0] if args else 0, self.dtype, device, "torch.TypedStorage()")
        self._untyped_storage = UntypedStorage._over(_storage_bytes(array))

    @property
    def _elements(self):
        """The bytes as a 1-D array of this storage's dtype (a view)."""
        raw = self._untyped_storage._bytes
        n = raw.size // self.dtype.itemsize
        return raw[:n * self.dtype.itemsize].view(self.dtype.np)

    @property
    def device(self):
        return self._untyped_storage.device

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def get_device(self):
        return self._untyped_storage.get_device()

    def untyped(self):
        """The untyped storage underneath."""
        return self._untyped_storage

    def size(self):
        """Size in elements."""
        return self._untyped_storage.nbytes() // self.dtype.itemsize

    __len__ = size

    def nbytes(self):
        return self._untyped_storage.nbytes()

    def element_size(self):
        return self.dtype.itemsize

    def data_ptr(self):
        return self._untyped_storage.data_ptr()

    def is_shared(self):
        return self._untyped_storage.is_shared()

    def is_pinned(self, device="cuda"):
        return False

    def resizable(self):
        return self._untyped_storage.resizable()

    def pickle_storage_type(self):
        """The name of the legacy class of this dtype (``'FloatStorage'``), as pickles record it; KeyError for
        the dtypes without one (uint16/32/64)."""
        if self.dtype not in _LEGACY_NAMES:
            raise KeyError(f"dtype {self.dtype} is not recognized")
        return _LEGACY_NAMES[self.dtype]

    def type(self):
        """The storage's type name: ``'torch.<Legacy>Storage'``, or ``'torch.storage.TypedStorage'`` for a dtype
        without a legacy class."""
        name = _LEGACY_NAMES.get(self.dtype)
        return f"torch.{name}" if name else "torch.storage.TypedStorage"

    def _index(self, index):
        if not isinstance(index, int):
            raise RuntimeError(f"can't index a {type(self)} with {type(index)}")
        n = self.size()
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for storage of size {n}")
        return index % n

    def __getitem__(self, index):
        if isinstance(index, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        return self._elements[self._index(index)].item()

    def __setitem__(self, index, value):
        self._elements[self._index(index)] = value

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self):
        """The elements as Python numbers."""
        return self._elements.tolist()

    def fill_(self, value):
        """Set every element to ``value``; returns self."""
        self._elements[...] = value
        return self

    def copy_(self, source, non_blocking=None):
        """Copy the bytes of ``source`` (a storage of the same size in bytes); returns self."""
        self._untyped_storage.copy_(source.untyped(), non_blocking)
        return self

    def clone(self):
        """A typed storage over a copy of these bytes."""
        return TypedStorage(wrap_storage=self._untyped_storage.clone(), dtype=self.dtype, _internal=True)

    def cpu(self):
        """A typed storage over the host bytes."""
        return TypedStorage(wrap_storage=self._untyped_storage.cpu(), dtype=self.dtype, _internal=True)

    def __repr__(self):
        body = "".join(f" {v}\n" for v in self.tolist())
        return f"{body}[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) of size {self.size()}]"


class _LegacyStorageMeta(type):
    """Makes ``isinstance(s, FloatStorage)`` true for every typed storage of float32, as in PyTorch."""

    def __instancecheck__(cls, instance):
        return type(instance) is TypedStorage and instance.dtype == cls.dtype


class _LegacyStorage(TypedStorage, metaclass=_LegacyStorageMeta):
    """Base of the per-dtype classes: calling one builds a ``TypedStorage`` of its dtype."""

    dtype = None

    def __new__(cls, *args, wrap_storage=None, device=None, **kwargs):
        if kwargs:
            raise RuntimeError(f"{cls}.__new__ received an invalid combination of arguments: Keyword argument "
                               f"'{next(iter(kwargs))}' cannot be specified")
        _warn_typed_storage_removal()
        return TypedStorage(*args, wrap_storage=wrap_storage, device=device, dtype=cls.dtype, _internal=True)


def _legacy_class(name, dt):
    """The legacy storage class ``name`` (``FloatStorage``) building typed storages of ``dt``."""
    return _LegacyStorageMeta(name, (_LegacyStorage,), {"dtype": dt, "__module__": "ember",
                                                        "__doc__": f"A ``TypedStorage`` of {dt} (legacy class)."})


_LEGACY_NAMES = {_dtype.float64: "DoubleStorage", _dtype.float32: "FloatStorage", _dtype.float16: "HalfStorage",
                 _dtype.bfloat16: "BFloat16Storage", _dtype.int64: "LongStorage", _dtype.int32: "IntStorage",
                 _dtype.int16: "ShortStorage", _dtype.int8: "CharStorage", _dtype.uint8: "ByteStorage",
                 _dtype.bool: "BoolStorage", _dtype.complex64: "ComplexFloatStorage",
                 _dtype.complex128: "ComplexDoubleStorage"}
LEGACY_CLASSES = {name: _legacy_class(name, dt) for dt, name in _LEGACY_NAMES.items()}
