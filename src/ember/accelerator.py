"""``ember.accelerator``: the accelerator of this machine -- CUDA where CuPy sees a GPU, none otherwise."""
from . import _device


def is_available():
    """True when a GPU is usable (``ember.cuda.is_available()``)."""
    return _device.lazy_backend("cuda") is not None


def current_accelerator(check_available=False):
    """``device(type='cuda')`` where a GPU is usable, None otherwise."""
    return _device.device("cuda") if is_available() else None


def device_count():
    """The number of GPUs (0 without CUDA)."""
    from . import cuda
    return cuda.device_count()


def current_device_index():
    """The current GPU's index (PyTorch's error without one)."""
    from . import cuda
    _require()
    return cuda.current_device()


def synchronize(device=None):
    """Wait for all queued GPU work (PyTorch's error without one)."""
    from . import cuda
    _require()
    cuda.synchronize(device)


def _require():
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
