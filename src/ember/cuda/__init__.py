"""``ember.cuda``: the CUDA device on CuPy (``torch.cuda``).

Every function answers as PyTorch's does: with a GPU that CuPy sees, from CuPy; without one (no CuPy, no
driver, no device) as PyTorch built without CUDA answers -- ``is_available()`` is False and never raises,
the counters are 0, and what needs a device raises PyTorch's error.  Nothing here imports CuPy before it is
called (``import ember`` stays CPU-only).

Random numbers for CUDA tensors are drawn on the host, from ember's generator (the CPU stream), and copied
to the device: a seeded run repeats on the GPU and equals the CPU run of the same seed, and dropout,
``randn(device='cuda')`` and initialisers keep the numbers ember's CPU kernels reproduce from PyTorch's
CPU generator.  PyTorch's CUDA generator (Philox) gives other numbers than its CPU one, so a device-side
generator would buy speed only, at the cost of a second stream to keep equal to PyTorch's; the host draw
plus one transfer is cheap next to the layers that use it.  ``manual_seed``/``get_rng_state``/
``set_rng_state`` here act on that one generator.
"""
import collections

from .. import _device
from .._constants import OutOfMemoryError
from .._tensor import FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ByteTensor, BoolTensor  # noqa
from ..backends import _cupy
from .streams import Stream, Event, StreamContext, stream, current_stream, default_stream

__all__ = ["is_available", "device_count", "current_device", "set_device", "device", "device_of",
           "get_device_name", "get_device_properties", "get_device_capability", "synchronize", "Stream", "Event",
           "StreamContext", "stream", "current_stream", "default_stream", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "initial_seed", "get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all",
           "memory_allocated", "max_memory_allocated", "reset_peak_memory_stats", "memory_reserved",
           "max_memory_reserved", "empty_cache", "mem_get_info", "memory_stats", "is_bf16_supported",
           "is_initialized", "init", "OutOfMemoryError"]

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def is_available():
    """True when CuPy imports and at least one GPU answers.  Never raises."""
    return _device.lazy_backend("cuda") is not None


def _cupy_module():
    """CuPy, after checking that CUDA is usable (PyTorch's AssertionError otherwise)."""
    if not is_available():
        raise AssertionError(_NOT_COMPILED)
    return _cupy.state.cupy


def _index(dev, optional=True):
    """The device index ``dev`` names (None: the current device); PyTorch's ValueError for another type."""
    if dev is None:
        return current_device() if optional else None
    if isinstance(dev, int) and not isinstance(dev, bool):
        return dev
    d = dev if isinstance(dev, _device.device) else _device.device(dev)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return current_device() if d.index is None else d.index


def device_count():
    """The number of GPUs CuPy sees (0 without CUDA)."""
    return _cupy.state.cupy.cuda.runtime.getDeviceCount() if is_available() else 0


def current_device():
    """The index of the current GPU."""
    return _cupy_module().cuda.runtime.getDevice()


def set_device(device):
    """Make ``device`` (an index, 'cuda:N' or a device) the current GPU; a negative index does nothing."""
    if not is_available():   # what PyTorch's CPU build raises
        raise AttributeError("module 'torch._C' has no attribute '_cuda_setDevice'")
    idx = _index(device)
    if idx >= 0:
        _cupy.check_index(idx)
        _cupy.state.cupy.cuda.Device(idx).use()


class device:
    """Context manager that makes ``device`` the current GPU inside the block (``torch.cuda.device``).

    Args:
        device: an index, 'cuda:N', a device, or None / -1 (no change).
    """

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx == -1:
            return self
        if not is_available():
            raise RuntimeError("PyTorch was compiled without CUDA support")
        self.prev_idx = current_device()
        if self.prev_idx != self.idx:
            set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx != -1 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


class device_of(device):
    """``device`` of the GPU holding tensor ``obj`` (no change for a CPU tensor)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


class _CudaDeviceProperties:
    """What ``get_device_properties`` reports: ``name``, ``major``, ``minor``, ``total_memory`` (bytes),
    ``multi_processor_count``, ``L2_cache_size`` (bytes)."""

    def __init__(self, props):
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else name
        self.major, self.minor = props["major"], props["minor"]
        self.total_memory = props["totalGlobalMem"]
        self.multi_processor_count = props["multiProcessorCount"]
        self.L2_cache_size = props.get("l2CacheSize", 0)
        self.is_integrated = props.get("integrated", 0)

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // 2 ** 20}MB, multi_processor_count={self.multi_processor_count}, "
                f"L2_cache_size={self.L2_cache_size // 2 ** 20}MB)")


def get_device_properties(device=None):
    """The properties of ``device`` (the current GPU for None)."""
    cupy = _cupy_module()
    idx = _index(device)
    _cupy.check_index(idx)
    return _CudaDeviceProperties(cupy.cuda.runtime.getDeviceProperties(idx))


def get_device_name(device=None):
    """The name of ``device`` ('NVIDIA H200' ...)."""
    return get_device_properties(device).name


def get_device_capability(device=None):
    """The compute capability ``(major, minor)`` of ``device``."""
    p = get_device_properties(device)
    return p.major, p.minor


def synchronize(device=None):
    """Wait until all work queued on ``device`` (the current GPU for None) has finished."""
    cupy = _cupy_module()
    with cupy.cuda.Device(_index(device)):
        cupy.cuda.runtime.deviceSynchronize()


# ------------------------------------------------------------------------------------------ random numbers
def _generator():
    from ..random import generator_for
    return generator_for(None, "cuda")


def manual_seed(seed):
    """Seed the CUDA default generator (nothing without CUDA, as PyTorch defers it).  CUDA draws come from
    ember's generator stream on the host, so a seeded run repeats, and equals the CPU run of the same seed."""
    if is_available():
        _generator().manual_seed(int(seed))


def manual_seed_all(seed):
    """Seed the default generator of every GPU (one CUDA generator serves them all)."""
    manual_seed(seed)


def seed():
    """Seed the CUDA default generator from OS entropy (nothing without CUDA)."""
    if is_available():
        _generator().seed()


def seed_all():
    """``seed()`` for every GPU."""
    seed()


def initial_seed():
    """The CUDA default generator's initial seed."""
    _cupy_module()
    return _generator().initial_seed()


def get_rng_state(device="cuda"):
    """The CUDA default generator's state as a uint8 CPU tensor."""
    _cupy_module()
    return _generator().get_state()


def get_rng_state_all():
    """One state per GPU ([] without CUDA)."""
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state(new_state, device="cuda"):
    """Restore the CUDA default generator's state (nothing without CUDA, as PyTorch defers it)."""
    if is_available():
        _generator().set_state(new_state)


def set_rng_state_all(new_states):
    """``set_rng_state`` for every GPU."""
    for state in new_states:
        set_rng_state(state)


# ------------------------------------------------------------------------------------------ memory
def memory_allocated(device=None):
    """Bytes held by live CUDA arrays (CuPy's memory pool; 0 without CUDA)."""
    return _cupy.state.pool.used_bytes() if is_available() else 0


def max_memory_allocated(device=None):
    """The peak of ``memory_allocated`` since start or ``reset_peak_memory_stats``."""
    return max(_cupy.state.peak, memory_allocated()) if is_available() else 0


def reset_peak_memory_stats(device=None):
    """Restart the peak of ``max_memory_allocated`` from the current allocation."""
    if not is_available():   # what PyTorch's CPU build raises
        raise AttributeError("module 'torch._C' has no attribute '_cuda_resetPeakMemoryStats'")
    _cupy.state.peak = memory_allocated()


def memory_reserved(device=None):
    """Bytes the memory pool holds from the driver, in use or cached (0 without CUDA)."""
    return _cupy.state.pool.total_bytes() if is_available() else 0


def max_memory_reserved(device=None):
    """The memory pool's current reservation (CuPy keeps no peak of it; 0 without CUDA)."""
    return memory_reserved(device)


def empty_cache():
    """Return the pool's cached, unused blocks to the driver."""
    if is_available():
        _cupy.state.pool.free_all_blocks()


def mem_get_info(device=None):
    """``(free, total)`` bytes of ``device`` as the driver reports them."""
    cupy = _cupy_module()
    with cupy.cuda.Device(_index(device)):
        return cupy.cuda.runtime.memGetInfo()


def memory_stats(device=None):
    """A few of PyTorch's allocator statistics (an empty dict without CUDA)."""
    if not is_available():
        return collections.OrderedDict()
    return collections.OrderedDict([("allocated_bytes.all.current", memory_allocated()),
                                    ("allocated_bytes.all.peak", max_memory_allocated()),
                                    ("reserved_bytes.all.current", memory_reserved())])


# ------------------------------------------------------------------------------------------ state
def is_bf16_supported(including_emulation=True):
    """False: CuPy has no bfloat16 storage, so ember's CUDA tensors cannot be bfloat16 (programs that ask
    then pick float16; ``autocast('cuda', dtype=bfloat16)`` still runs GEMMs on bfloat16 tensor cores)."""
    return False


def is_initialized():
    """True once CUDA has been set up in this process."""
    return _cupy.state.initialized


def init():
    """Set up CUDA now (it is otherwise set up on first use)."""
    _cupy_module()


def __getattr__(name):
    if name == "amp":
        import importlib
        return importlib.import_module(".amp", __name__)
    raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")
