"""``LinearCrossEntropyOptions``: the chunking settings accepted by ``linear_cross_entropy``."""
import dataclasses
from typing import Literal

from ..._dtype import dtype, float16, bfloat16, float32, float64

__all__ = ["LinearCrossEntropyOptions"]

_ACC_POLICIES = {"auto", "accurate", "balanced", "compact"}
_ACC_DTYPES = {float16, bfloat16, float32, float64}


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Settings for torch's chunked (memory-saving) ``linear_cross_entropy``.

    Ember validates and keeps them so programs that pass them run unchanged; its ``linear_cross_entropy``
    computes the same loss whichever options are given.

    Args:
        allow_retain_graph: allow a second backward through the chunked op.
        batch_chunk_size: batch rows per chunk, a positive int, or ``None`` for one chunk.
        chunking_method: ``"auto"``, ``"aspect_ratio"``, ``"aspect_ratio:N"`` (N >= 1) or ``None``.
        acc_policy: ``"auto"``, ``"accurate"``, ``"balanced"`` or ``"compact"``.
        acc_dtype: accumulation dtype: ``None`` or a float16/bfloat16/float32/float64 dtype.

    Raises:
        ValueError: for any value outside those sets.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: Literal["accurate", "balanced", "compact", "auto"] = "auto"
    acc_dtype: dtype | None = None

    def __post_init__(self):
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method not in (None, "auto"):
            name, sep, factor = self.chunking_method.partition(":")
            factor = factor if sep else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in _ACC_DTYPES:
            raise ValueError("acc_dtype must be one of {None, torch.float16, torch.bfloat16, torch.float32, "
                             f"torch.float64}}, got {self.acc_dtype!r}. Pass acc_dtype=None to let the op pick "
                             "automatically.")
