"""``Tensor.untyped_storage()``: the bytes a tensor's memory lies in, as PyTorch's ``UntypedStorage`` shows them.

A storage here is a byte view of the array at the root of the tensor's chain of array bases (the allocation its
views share), so two views of one tensor report the same ``data_ptr()`` and ``nbytes()``, and writes through the
storage are seen by every view, as in PyTorch.
"""
from ._device import address, device_of, module_of_array


def _memory_owner(array):
    """The array at the end of ``array``'s chain of bases: the allocation it lies in."""
    while isinstance(array.base, type(array)):
        array = array.base
    return array


class UntypedStorage:
    """The bytes under a tensor (``Tensor.untyped_storage()``), shared with it.

    Args:
        tensor: a dense tensor whose allocation this storage shows.
    """

    def __init__(self, tensor):
        owner = _memory_owner(tensor._data)
        flat = owner.reshape(-1) if owner.flags.c_contiguous else owner.ravel(order="K")
        self._bytes = flat.view(module_of_array(flat).uint8) if flat.size else flat.astype("uint8")

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

    def resizable(self):
        """False: the memory belongs to an array, as a tensor's storage from ``from_numpy``."""
        return False

    def resize_(self, size):
        raise RuntimeError("Trying to resize storage that is not resizable")

    def __getitem__(self, index):
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
        """Copy the bytes of storage ``source`` (same size) into this one; returns self."""
        if source.nbytes() != self.nbytes():
            raise RuntimeError(f"size mismatch, {source.nbytes()} vs {self.nbytes()}")
        self._bytes[...] = source._bytes
        return self

    def clone(self):
        """A storage over a copy of these bytes."""
        copy = object.__new__(UntypedStorage)
        copy._bytes = self._bytes.copy()
        return copy

    def cpu(self):
        """This storage when on the CPU, else a host copy."""
        if self.device.type == "cpu":
            return self
        copy = object.__new__(UntypedStorage)
        copy._bytes = self._bytes.get()
        return copy

    def is_shared(self):
        """True when the bytes live in shared memory (for worker processes)."""
        from .multiprocessing.reductions import is_shared_array
        return is_shared_array(self._bytes)

    def __repr__(self):
        body = "\n".join(f" {b}" for b in self.tolist())
        return f"{body}\n[torch.storage.UntypedStorage(device={self.device}) of size {self.nbytes()}]"
