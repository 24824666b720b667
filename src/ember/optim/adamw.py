"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2017)."""
from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW: Adam whose weight decay shrinks the parameters directly.

    Each step first scales every parameter by ``1 - lr * weight_decay`` and then applies the
    Adam update computed from the raw gradient, so the decay does not enter the moment
    estimates.  Its param groups carry ``decoupled_weight_decay=True``.

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 1e-3).
        betas (tuple of two floats or two Tensors): decay rates of the running averages of the
            gradient and of its square (default: (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default: 1e-8).
        weight_decay (float): decoupled weight decay coefficient (default: 1e-2).
        amsgrad (bool): use the AMSGrad variant (default: False).
        maximize (bool): maximize the objective (default: False).
        foreach (bool, optional): accepted for compatibility (default: None).
        capturable (bool): graph-capture mode; fails on the CPU as in PyTorch (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
        fused (bool, optional): accepted; requires floating point parameters (default: None).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
