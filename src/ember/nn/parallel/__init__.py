"""``ember.nn.parallel``: DataParallel (a pass-through on the CPU, as PyTorch without GPUs) and
DistributedDataParallel (gradients averaged across processes over ``ember.distributed``)."""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
