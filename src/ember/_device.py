"""Device objects and the array module (``xp``) that computes on each device.

ember computes on the CPU through NumPy.  Ops take their array module from
here rather than importing NumPy themselves, so that another device (CuPy)
can be added by dispatching on the tensor's device in one place.
"""
import numpy

xp = numpy  # the array module of the only device ember has today

_KNOWN_TYPES = ("cpu", "cuda", "mps", "meta", "xpu")


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
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def as_cpu(dev):
    """Check that ``dev`` (a device, string, or None) names the CPU; raise PyTorch's error otherwise."""
    if dev is None or dev is CPU:
        return CPU
    d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return CPU
    if d.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    raise RuntimeError(f"ember supports only the cpu device; {d.type} is not available on this machine")
