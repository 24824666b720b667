"""``ember.cuda``: there is no CUDA backend; these functions answer as PyTorch does without a GPU."""
from .._tensor import FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ByteTensor, BoolTensor  # noqa

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "current_device", "synchronize",
           "empty_cache", "is_bf16_supported"]


def is_available():
    """False: ember computes on the CPU only."""
    return False


def device_count():
    """0: no CUDA devices."""
    return 0


def manual_seed(seed):
    """Accepted and ignored (there is no CUDA generator), as PyTorch does without a GPU."""


def manual_seed_all(seed):
    """Accepted and ignored (there is no CUDA generator)."""


def seed():
    pass


def seed_all():
    pass


def synchronize(device=None):
    _no_cuda()


def current_device():
    _no_cuda()


def set_device(device):
    _no_cuda()


def get_device_name(device=None):
    _no_cuda()


def empty_cache():
    """Nothing to free without CUDA."""


def is_bf16_supported(including_emulation=True):
    return False


def is_initialized():
    return False


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def _no_cuda():
    raise AssertionError("Torch not compiled with CUDA enabled")


def __getattr__(name):
    if name == "amp":
        import importlib
        return importlib.import_module(".amp", __name__)
    raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")
