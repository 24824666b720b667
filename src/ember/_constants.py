"""Constants and small classes of the ``torch`` namespace: the math constants, tensor layouts and memory formats,
PyTorch's error classes, and the build flags (``has_lapack`` ...) as they hold for ember's NumPy back end."""
import math

e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None


class layout(str):
    """A tensor's memory layout (``torch.strided``, ``torch.sparse_coo`` ...); it prints as PyTorch's name and
    compares equal to that string."""

    __slots__ = ()

    def __repr__(self):
        return str.__str__(self)


class memory_format(str):
    """How a tensor's dims are ordered in memory (``torch.contiguous_format``, ``torch.channels_last`` ...).
    ember's arrays are always laid out as NumPy made them: ops accept a memory format and keep their layout."""

    __slots__ = ()

    def __repr__(self):
        return str.__str__(self)


strided = layout("torch.strided")
contiguous_format = memory_format("torch.contiguous_format")
legacy_contiguous_format = contiguous_format          # one object in PyTorch too
channels_last = memory_format("torch.channels_last")
channels_last_3d = memory_format("torch.channels_last_3d")
preserve_format = memory_format("torch.preserve_format")


class OutOfMemoryError(RuntimeError):
    """An allocation on a device failed (``torch.OutOfMemoryError``, also ``torch.cuda.OutOfMemoryError``)."""


class AcceleratorError(RuntimeError):
    """An error reported by an accelerator's runtime (``torch.AcceleratorError``)."""


class FatalError(Exception):
    """An unrecoverable internal error (``torch.FatalError``)."""


# what the back end offers: NumPy brings LAPACK and FFTs; it is not built on MKL and ember has no OpenMP loops
has_lapack = True
has_spectral = True
has_mkl = False
has_openmp = False
