"""SyncBatchNorm: batch normalisation whose batch statistics cover the batches of every process in a group."""
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from .batchnorm import _BatchNorm

__all__ = ["SyncBatchNorm"]


class _AllReduceSum(Function):
    """Sum of a tensor over the processes of ``group``; its gradient is the sum of the processes' gradients
    (each process's loss depends on every process's contribution)."""

    @staticmethod
    def forward(ctx, input, group):
        import ember.distributed as dist
        ctx.group = group
        out = input.detach().clone()
        dist.all_reduce(out, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        import ember.distributed as dist
        grad = grad.clone()
        dist.all_reduce(grad, group=ctx.group)
        return grad, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over (N, C, +) input whose statistics, in training, are those of the batches of all
    processes of ``process_group`` together (as BatchNorm on the concatenated batch); gradients flow through the
    shared statistics to every process.  Without an initialized process group, in eval mode, or in a group of
    one, it is plain BatchNorm.

    Args:
        num_features (int): C.
        eps (float), momentum (float or None), affine (bool), track_running_stats (bool): as BatchNorm.
        process_group (ProcessGroup, optional): default the default group.

    Shape: input (N, C, +), output the same.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def _group(self):
        """The process group to synchronise over, or None when there is nothing to synchronise."""
        import ember.distributed as dist
        if not self.training or not dist.is_available() or not dist.is_initialized():
            return None
        group = self.process_group if self.process_group is not None else dist.group.WORLD
        return group if group.size() > 1 else None

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        group = self._group()
        if group is None:
            return super().forward(input)
        return self._synced_forward(input, group)

    def _synced_forward(self, input, group):
        import ember
        dims = [0] + list(range(2, input.dim()))
        shape = [1, -1] + [1] * (input.dim() - 2)
        local = ember.tensor([float(input.numel() // input.size(1))], dtype=input.dtype)
        sums = _AllReduceSum.apply(ember.cat([input.sum(dims), local]), group)
        count = sums[-1].detach()
        mean = sums[:-1] / count
        centered = input - mean.reshape(shape)
        var = _AllReduceSum.apply((centered * centered).sum(dims), group) / count
        out = centered * (var.reshape(shape) + self.eps).rsqrt()
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), float(count))
        return out

    def _update_running_stats(self, mean, var, count):
        if self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked)
        else:
            factor = self.momentum
        with no_grad():
            self.running_mean.mul_(1 - factor).add_(mean, alpha=factor)
            self.running_var.mul_(1 - factor).add_(var * (count / max(count - 1, 1)), alpha=factor)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every BatchNorm*d in ``module`` by a SyncBatchNorm sharing its parameters and buffers.

        Returns:
            Module: ``module`` itself with its BatchNorm children replaced, or the new SyncBatchNorm when
            ``module`` is a BatchNorm.
        """
        module_output = module
        if isinstance(module, _BatchNorm):
            module_output = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                          module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with no_grad():
                    module_output.weight = module.weight
                    module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
            if hasattr(module, "qconfig"):
                module_output.qconfig = module.qconfig
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return module_output
