"""DataParallel: on a machine without GPUs (ember's only kind) it wraps the module and calls it directly."""
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Replicate ``module`` across GPUs and split the batch along ``dim``.  ember has no GPUs, so, as PyTorch
    does on a CPU-only machine, the wrapper just calls ``module``; its state_dict keys gain the ``module.``
    prefix as in PyTorch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []
        self.dim = dim
        self.output_device = None
        self.src_device_obj = None

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """Functional form of :class:`DataParallel` (calls ``module`` on ``inputs`` on the CPU)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
