"""``ember.nn.attention``: the backend selector of scaled_dot_product_attention (``torch.nn.attention``).

ember has one attention kernel (the fused NumPy one), so the selection is recorded and otherwise
has no effect; programs that pick a backend run unchanged.
"""
import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The backends of scaled dot-product attention, as PyTorch names them."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __repr__(self):
        return f"<SDPBackend.{self.name}: {self.value}>"


_enabled = [list(SDPBackend)[1:]]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Select the attention backends inside the ``with`` block (recorded; ember has one kernel)."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    previous = _enabled[0]
    _enabled[0] = list(dict.fromkeys(backends))
    try:
        yield {}
    finally:
        _enabled[0] = previous
