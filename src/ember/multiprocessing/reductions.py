"""Tensors in shared memory, and how they travel between processes.

:func:`share_memory_` moves a tensor's array into an anonymous shared mapping
(a Linux ``memfd``; an unlinked temporary file elsewhere).  When such a tensor is
pickled by ``multiprocessing`` (a ``Queue``, a ``Pipe``, ``Process`` arguments),
the reducer registered by :func:`init_reductions` sends a duplicate of the file
descriptor plus the array's offset, shape, strides and dtype; the receiver maps
the same memory, so writes on either side are seen by the other (Hogwild-style
training).  Tensors not in shared memory are pickled normally (copied).
"""
import mmap
import os
import sys
import tempfile
import weakref

import numpy as np

__all__ = ["init_reductions", "share_memory_", "is_shared", "shared_empty"]

_blocks = weakref.WeakKeyDictionary()   # mmap -> file descriptor of the shared memory behind it


def _new_shared_fd(nbytes):
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("ember-shared", os.MFD_CLOEXEC)
    else:
        f = tempfile.TemporaryFile()
        fd = os.dup(f.fileno())
        f.close()
    os.ftruncate(fd, max(nbytes, 1))
    return fd


def _map_fd(fd, nbytes):
    mm = mmap.mmap(fd, max(nbytes, 1))
    _blocks[mm] = fd
    weakref.finalize(mm, os.close, fd)
    return mm


def shared_empty(shape, dtype):
    """A new uninitialized NumPy array of ``shape``/``dtype`` living in shared memory."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    nbytes = count * dtype.itemsize
    mm = _map_fd(_new_shared_fd(nbytes), nbytes)
    return np.frombuffer(mm, dtype=dtype, count=count).reshape(shape)


def _shared_mmap(arr):
    """The shared mmap an array's memory belongs to, or None."""
    base = arr
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    if isinstance(base, mmap.mmap) and base in _blocks:
        return base
    return None


def is_shared_array(arr):
    """True when array ``arr`` lies in memory that ``share_memory_`` placed in shared memory."""
    return _shared_mmap(arr) is not None


def is_shared(tensor):
    """True when ``tensor``'s memory was placed in shared memory by :func:`share_memory_`."""
    return is_shared_array(tensor._data)


def share_memory_(tensor):
    """Move ``tensor``'s data into shared memory (no-op if already there); returns ``tensor``.

    Only this tensor object is moved: other views of its old memory keep the old
    memory (call it on the base tensor before taking views).
    """
    init_reductions()
    arr = tensor._data
    if not isinstance(arr, np.ndarray) or is_shared_array(arr):
        return tensor
    shared = shared_empty(arr.shape, arr.dtype)
    shared[...] = arr
    tensor._data = shared
    return tensor


def _address(obj):
    return np.frombuffer(obj, dtype=np.uint8).ctypes.data


def _rebuild_shared_array(dup_fd, nbytes, offset, shape, strides, dtype):
    fd = dup_fd.detach()
    mm = _map_fd(fd, nbytes)
    flat = np.frombuffer(mm, dtype=np.uint8)
    return np.ndarray(shape, dtype=dtype, buffer=flat, offset=offset, strides=strides)


def _reduce_shared_array(arr):
    from multiprocessing.reduction import DupFd
    mm = _shared_mmap(arr)
    offset = arr.__array_interface__["data"][0] - _address(mm)
    return (_rebuild_shared_array, (DupFd(_blocks[mm]), len(mm), offset, arr.shape, arr.strides, arr.dtype.str))


def _rebuild_shared_tensor(cls, arr, requires_grad):
    import ember
    t = ember.from_numpy(arr)
    if cls is not type(t) and cls.__name__ == "Parameter":
        return cls(t, requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce_tensor(tensor):
    arr = tensor._data
    if isinstance(arr, np.ndarray) and is_shared_array(arr):
        if tensor.grad_fn is not None and tensor.requires_grad:
            raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, "
                               "since autograd does not support crossing process boundaries.  "
                               "If you just want to transfer the data, call detach() on the tensor "
                               "before serializing (e.g., putting it on the queue).")
        return (_rebuild_shared_tensor, (type(tensor), arr, bool(tensor.requires_grad)))
    return tensor.__reduce_ex__(4)


_registered = False


def init_reductions():
    """Register the shared-memory reducers with ``multiprocessing``'s pickler (idempotent)."""
    global _registered
    if _registered or sys.platform == "win32":
        return
    from multiprocessing.reduction import ForkingPickler
    ForkingPickler.register(np.ndarray, _reduce_ndarray)
    try:
        import ember
        tensor_cls = ember.Tensor
    except (ImportError, AttributeError):
        return  # ember is still importing; init_reductions() is called again on first use
    ForkingPickler.register(tensor_cls, _reduce_tensor)
    _registered = True


def _reduce_ndarray(arr):
    if is_shared_array(arr):
        return _reduce_shared_array(arr)
    return arr.__reduce_ex__(4)
