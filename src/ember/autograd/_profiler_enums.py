"""``autograd.DeviceType`` and ``autograd.ProfilerState``: the enums of PyTorch's C++ profiler as Python sees
them (members with PyTorch's names and numbers; ``int()`` gives the number; a member is not equal to it)."""
import enum


class _IntConvertible(enum.Enum):
    """An enum whose members convert to their number, as a pybind11 enum's do."""

    def __int__(self):
        return self.value

    __index__ = __int__

    def __hash__(self):
        return hash(self.value)


DeviceType = _IntConvertible("DeviceType", [
    ("CPU", 0), ("CUDA", 1), ("MKLDNN", 2), ("OPENGL", 3), ("OPENCL", 4), ("IDEEP", 5), ("HIP", 6), ("FPGA", 7),
    ("MAIA", 8), ("XLA", 9), ("Vulkan", 10), ("Metal", 11), ("XPU", 12), ("MPS", 13), ("MTIA", 19), ("Meta", 14),
    ("HPU", 15), ("VE", 16), ("Lazy", 17), ("IPU", 18), ("PrivateUse1", 20)], module=__name__)
DeviceType.__doc__ = "The device types a profiler event can name (``torch.autograd.DeviceType``)."

ProfilerState = _IntConvertible("ProfilerState", [
    ("Disabled", 0), ("CPU", 1), ("CUDA", 2), ("NVTX", 3), ("ITT", 4), ("PRIVATEUSE1", 5), ("KINETO", 6),
    ("KINETO_GPU_FALLBACK", 7), ("KINETO_PRIVATEUSE1_FALLBACK", 8), ("KINETO_PRIVATEUSE1", 9)], module=__name__)
ProfilerState.__doc__ = "What a profiler session records (``torch.autograd.ProfilerState``)."
