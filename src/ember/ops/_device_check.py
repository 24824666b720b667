"""PyTorch's errors for an op whose tensors are on two devices (a CUDA tensor meeting a CPU tensor).

PyTorch words the error two ways, and ember keeps both:

* ops built on its elementwise iterator, and ``cat``/``stack``, name the two devices
  (``same_device(...)``): "Expected all tensors to be on the same device, but found at least two
  devices, cuda:0 and cpu!", the accelerator first; ``device_arrays(...)`` lets a 0-d CPU tensor pass as a
  scalar where PyTorch allows it;
* ops whose generated wrapper checks each argument in signature order (``mm``, ``addmm``, ``bmm``,
  ``index_select``, ``gather``, ``scatter``, ``nll_loss`` ...) name the first argument that differs from
  the first tensor's device, and the wrapper (``same_device_args(...)``): "Expected all tensors to be on
  the same device, but got mat2 is on cpu, different from other tensors on cuda:0 (when checking
  argument in method wrapper_CUDA_mm)".  No 0-d exception there.

Both checks cost one type comparison per tensor when the devices agree (an array type is a device type).
"""
from .._tensor import Tensor
from ._common import same_device_arrays

# PyTorch's dispatch key of each device type, as it appears in a wrapper's name
_DISPATCH_KEYS = {"cuda": "CUDA", "privateuseone": "PrivateUse1"}


def same_device(*tensors):
    """Raise PyTorch's RuntimeError when the tensors among ``tensors`` (None and numbers skipped) are on two
    devices; 0-d CPU tensors count too (use ``device_arrays`` where PyTorch takes them as scalars)."""
    kind = None
    for t in tensors:
        if isinstance(t, Tensor):
            if kind is None:
                kind = type(t._data)
            elif type(t._data) is not kind:
                first, other = [t.device for t in tensors if isinstance(t, Tensor) and type(t._data) is kind][0], \
                    t.device
                if first.type == "cpu":   # PyTorch names the accelerator first
                    first, other = other, first
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                                   f"{first} and {other}!")


def device_arrays(*values):
    """The arrays of the tensors among ``values`` (anything else as it is), all on one device: a 0-d CPU tensor
    beside tensors of another device is copied there (PyTorch takes it as a scalar); PyTorch's RuntimeError
    when two devices meet otherwise.  Returns a list, one entry per value."""
    kind, mixed = None, False
    for v in values:
        if isinstance(v, Tensor):
            if kind is None:
                kind = type(v._data)
            elif type(v._data) is not kind:
                mixed = True
    if not mixed:
        return [v._data if isinstance(v, Tensor) else v for v in values]
    arrays = iter(same_device_arrays(*[v for v in values if isinstance(v, Tensor)]))
    return [next(arrays) if isinstance(v, Tensor) else v for v in values]


def same_device_args(method, *named):
    """Raise PyTorch's per-argument RuntimeError when the tensors of ``named`` (name, value, name, value ...,
    in the op's signature order; None skipped) are on two devices.

    Args:
        method: the op's wrapper name after ``wrapper_<KEY>_`` (``"mm"``, ``"_index_select"``).
    """
    kind = None
    for i in range(1, len(named), 2):
        t = named[i]
        if t is not None:
            if kind is None:
                kind = type(t._data)
            elif type(t._data) is not kind:
                _mixed_args(method, named)


def _mixed_args(method, named):
    pairs = [(named[i], named[i + 1]) for i in range(0, len(named), 2) if named[i + 1] is not None]
    common = pairs[0][1].device
    for name, t in pairs[1:]:
        if t.device != common:
            accelerator = common if common.type != "cpu" else t.device
            key = _DISPATCH_KEYS.get(accelerator.type, accelerator.type)
            raise RuntimeError(f"Expected all tensors to be on the same device, but got {name} is on {t.device}, "
                               f"different from other tensors on {common} (when checking argument in method "
                               f"wrapper_{key}_{method})")
