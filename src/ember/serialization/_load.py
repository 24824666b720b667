"""``load``: read PyTorch checkpoints (zip format and the legacy pickle-stream format) into ember objects.

Every size a file declares is checked before memory is allocated or read: zip
members against the archive's length and the compression ratio deflate can
reach, storage records against the element count the pickle declares, and each
tensor's sizes, strides and offset against its storage (``_rebuild``).
"""
import io
import os
import pickle
import re
import zipfile
import zlib

import numpy as np

from .. import _device
from ._format import LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION, StorageType
from ._rebuild import LoadedStorage, storage_nbytes
from ._unpickle import FullUnpickler, WeightsOnlyUnpickler

_ZIP_MAGIC = b"PK\x03\x04"
_MAX_DEFLATE_RATIO = 1032   # the most bytes one compressed byte can inflate to (zlib's limit)
_UNSAFE_ADVICE = (
    "Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but it can result in arbitrary "
    "code execution. Do it only if you got the file from a trusted source.")


# ------------------------------------------------------------------------------ map_location
def _default_restore(storage, location):
    if location == "cpu":
        return storage
    if re.match(r"cuda(:|[0-9]+|$)", location):
        from .. import cuda
        if not cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you "
                "are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to "
                "map your storages to the CPU.")
        index = _device.device(location).index or 0
        if index >= cuda.device_count():
            raise RuntimeError(f"Attempting to deserialize object on CUDA device {index} but torch.cuda.device_count() "
                               f"is {cuda.device_count()}. Please use torch.load with map_location to map your "
                               "storages to an existing device.")
        return storage.cuda(location)
    raise RuntimeError(f"don't know how to restore data location of torch.storage.UntypedStorage (tagged with "
                       f"{location})")


def _restorer(map_location):
    """``restore(storage, location)`` for ``load``'s ``map_location``, called once per storage as PyTorch does."""
    if map_location is None:
        return _default_restore
    if isinstance(map_location, dict):
        return lambda storage, location: _default_restore(storage, map_location.get(location, location))
    if isinstance(map_location, (str, bytes, _device.device)):
        target = map_location.decode("ascii") if isinstance(map_location, bytes) else str(map_location)
        return lambda storage, location: _default_restore(storage, target)

    def restore(storage, location):
        result = map_location(storage, location)
        if result is None:
            return _default_restore(storage, location)
        if not isinstance(result, LoadedStorage):
            raise TypeError(f"map_location must return a storage or None, got {type(result).__name__}")
        return result

    return restore


def _location(value):
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if not isinstance(value, str):
        raise TypeError(f"storage location must be a string, got {type(value).__name__}")
    return value


def _storage_pid(pid, length):
    """The fields of a ``("storage", type, key, location, numel, ...)`` persistent id, checked."""
    if not isinstance(pid, tuple) or len(pid) != length or pid[0] not in ("storage", b"storage"):
        raise RuntimeError(f"Unknown persistent id in checkpoint: {pid!r}")
    storage_type, key = pid[1], pid[2]
    if not isinstance(storage_type, StorageType):
        raise TypeError(f"expected a storage type in the persistent id, got {storage_type!r}")
    hash(key)   # a key names a record and is cached: PyTorch's TypeError for unhashable ones
    return storage_type.dtype, key, _location(pid[3]), pid[4]


# ------------------------------------------------------------------------------ zip format
class _Archive:
    """A zip checkpoint: its members read only after their declared sizes pass the checks."""

    def __init__(self, data):
        self.length = len(data)
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {exc}") from None
        names = self.names = set(self.zip.namelist())
        if "data.pkl" in names:
            raise RuntimeError("file in archive is not in a subdirectory: data.pkl")
        pkl = min((n for n in names if n.endswith("/data.pkl") and n.count("/") == 1), default=None)
        if pkl is None:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
        self.prefix = pkl[:-len("data.pkl")]

    def info(self, name):
        try:
            info = self.zip.getinfo(self.prefix + name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found") from None
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: unsupported compression method "
                               f"{info.compress_type}")
        if info.header_offset + info.compress_size > self.length:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: the record runs past the end of "
                               f"the archive (truncated file?)")
        limit = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
            info.compress_size * _MAX_DEFLATE_RATIO + 64
        if info.file_size > limit:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: it declares {info.file_size} bytes "
                               f"from {info.compress_size} stored bytes (corrupt file or zip bomb)")
        return info

    def has(self, name):
        return self.prefix + name in self.names

    def read_into(self, name, info, buffer):
        """Fill ``buffer`` (a writable byte view of exactly the member's size) with member ``name``."""
        try:
            with self.zip.open(info) as member:
                got = 0
                while got < len(buffer):
                    n = member.readinto(buffer[got:])
                    if not n:
                        break
                    got += n
                member.read(1)   # reach the end, so zipfile checks the CRC
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError, NotImplementedError) as exc:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: {exc}") from None
        if got != len(buffer):
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: expected {len(buffer)} bytes, "
                               f"got {got}")

    def read(self, name):
        info = self.info(name)
        buffer = bytearray(info.file_size)
        self.read_into(name, info, memoryview(buffer))
        return bytes(buffer)


def _load_zip(data, restore, make_unpickler):
    archive = _Archive(data)
    swap = False
    if archive.has("byteorder"):
        order = archive.read("byteorder")
        if order not in (b"little", b"big"):
            raise ValueError("Unknown endianness type: " + order.decode("utf-8", "replace"))
        swap = order.decode() != _NATIVE_ORDER
    storages = {}

    def persistent_load(pid):
        dtype, key, location, numel = _storage_pid(pid, 5)
        if key not in storages:
            name = f"data/{key}"
            nbytes = storage_nbytes(dtype, numel, name)
            info = archive.info(name)
            if info.file_size != nbytes:
                raise RuntimeError(f"record {name} holds {info.file_size} bytes, but the checkpoint declares "
                                   f"{numel} elements of {dtype} ({nbytes} bytes)")
            array = np.empty(numel, dtype=dtype.np)
            archive.read_into(name, info, memoryview(array.view(np.uint8)))
            if swap:
                array.byteswap(inplace=True)
            storages[key] = restore(LoadedStorage(array), location)
        return storages[key]

    return make_unpickler(io.BytesIO(archive.read("data.pkl")), persistent_load).load()


# ------------------------------------------------------------------------------ legacy format
def _load_legacy(data, restore, make_unpickler):
    """The format of ``torch.save(..., _use_new_zipfile_serialization=False)``: pickled magic number, protocol
    version and system info, the pickled object, the list of storage keys, then each storage's element count
    (8 bytes) and data."""
    f = io.BytesIO(data)
    if make_unpickler(f).load() != LEGACY_MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = make_unpickler(f).load()
    if version != LEGACY_PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    sys_info = make_unpickler(f).load()
    order = "little" if not isinstance(sys_info, dict) or sys_info.get("little_endian", True) else "big"
    storages, views = {}, {}

    def persistent_load(pid):
        if isinstance(pid, tuple) and pid and pid[0] in ("module", b"module") and len(pid) == 4:
            return pid[1]   # a module class saved with its source (only reachable with weights_only=False)
        dtype, key, location, numel = _storage_pid(pid, 6)
        if key not in storages:
            if storage_nbytes(dtype, numel, key) > len(data) - f.tell():
                raise RuntimeError(f"storage {key} declares {numel} elements of {dtype}, more than the file holds")
            array = np.empty(numel, dtype=dtype.np)
            storages[key] = restore(LoadedStorage(array), location)
        view = pid[5]
        if view is None:
            return storages[key]
        if not isinstance(view, tuple) or len(view) != 3:
            raise RuntimeError(f"invalid storage view in checkpoint: {view!r}")
        if view[0] not in views:
            views[view[0]] = storages[key].element(view[1], view[2])
        return views[view[0]]

    result = make_unpickler(f, persistent_load).load()
    keys = make_unpickler(f).load()
    if not isinstance(keys, list) or set(keys) != set(storages):
        raise RuntimeError("the checkpoint's list of storage keys does not match the storages its objects use")
    for key in keys:
        array = storages[key].array
        header = f.read(8)
        if len(header) != 8 or f.readinto(array.view(np.uint8)) != array.nbytes:
            raise RuntimeError(f"unexpected EOF reading storage {key}: the file is truncated")
        count = int.from_bytes(header, order, signed=True)
        if count != array.size:
            raise RuntimeError(f"storage {key} has wrong size: expected {array.size} got {count}")
        if order != _NATIVE_ORDER:
            array.byteswap(inplace=True)
    return result


_NATIVE_ORDER = "little" if np.little_endian else "big"


def _is_tar(data):
    return len(data) >= 262 and data[257:262] == b"ustar"


# ------------------------------------------------------------------------------ load
def _weights_only_message(message):
    if "was not an allowed global by default" in message:
        return ("Weights only load failed. This file can still be loaded, to do so you have two options, do those "
                f"steps only if you trust the source of the checkpoint.\n\t(1) {_UNSAFE_ADVICE}\n\t(2) "
                "Alternatively, to load with `weights_only=True` please check the recommended steps in the following "
                f"error message.\n\tWeightsUnpickler error: {message}")
    return f"Weights only load failed. {_UNSAFE_ADVICE}\n\nWeightsUnpickler error: {message}"


def _resolve_weights_only(weights_only, pickle_module):
    explicit = weights_only is not None
    if not explicit:
        weights_only = pickle_module is None
    truthy = ("1", "y", "yes", "true")
    force_on = os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in truthy
    force_off = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in truthy
    if force_on and force_off:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` "
                           "should be set, but both were set.")
    if force_on:
        return True
    if force_off and not explicit:
        return False
    return weights_only


def _read_all(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as opened:
            return opened.read()
    return f.read()


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by ``ember.save`` or ``torch.save`` (zip or legacy format).

    Args:
        f: a path or a readable binary file object.
        map_location: where each storage goes: ``None`` (where it was saved), a device or its name, a dict
            mapping saved locations to new ones, or a function ``(storage, location) -> storage or None``
            called once per storage (``None`` means the default).  Only the CPU exists in ember; naming CUDA
            raises PyTorch's error.
        pickle_module: with ``weights_only=False``, accepted for compatibility (Python's pickle is used).
        weights_only: only allow tensors, containers, primitive types and allowlisted globals (the default,
            as in PyTorch); ``False`` runs any code the file names (trusted files only).
        mmap: accepted for compatibility (the file is read into memory).
        pickle_load_args: ``encoding`` and other arguments of Python's unpickler.

    Returns:
        The saved object; tensors that shared memory when saved share it again.

    Raises:
        EOFError: for an empty file.  RuntimeError: for a corrupt or truncated file, and for a storage or
        tensor whose sizes do not fit its record.  pickle.UnpicklingError: for a global that
        ``weights_only`` does not allow.
    """
    weights_only = _resolve_weights_only(weights_only, pickle_module)
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    encoding = pickle_load_args.pop("encoding", "utf-8")

    def make_unpickler(file, persistent_load=None):
        if weights_only:
            return WeightsOnlyUnpickler(file, persistent_load, encoding=encoding)
        return FullUnpickler(file, persistent_load, encoding=encoding, **pickle_load_args)

    data = _read_all(f)
    restore = _restorer(map_location)
    if data[:4] == _ZIP_MAGIC:
        reader = _load_zip
    elif _is_tar(data):
        raise RuntimeError("this checkpoint is in PyTorch's legacy .tar format (PyTorch 0.1.x), which ember cannot "
                           "load; load it with an old PyTorch and save it again")
    else:
        reader = _load_legacy
    if not weights_only:
        return reader(data, restore, make_unpickler)
    try:
        return reader(data, restore, make_unpickler)
    except pickle.UnpicklingError as exc:
        raise pickle.UnpicklingError(_weights_only_message(str(exc))) from None
