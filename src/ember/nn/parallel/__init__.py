"""``ember.nn.parallel``: DataParallel (a pass-through on the CPU, as PyTorch without GPUs)."""
from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "data_parallel"]
