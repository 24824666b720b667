"""Stochastic gradient descent, optionally with momentum / Nesterov momentum."""
import ember
from ..ops import optim_kernels as K
from .optimizer import Optimizer, _bump, _check_fused_dtype, _data, _grads, _to_scalar
from .._tensor import Tensor
from .sparse_adam import sparse_sgd_

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum).

    For each parameter with gradient :math:`g` (negated when ``maximize``)::

        g = g + weight_decay * p                       (if weight_decay != 0)
        b = g                    on the first step     (if momentum != 0)
        b = momentum * b + (1 - dampening) * g          afterwards
        g = g + momentum * b     if nesterov else  g = b
        p = p - lr * g

    As in PyTorch, the momentum buffer starts as the first gradient (not zero), and the learning
    rate multiplies the velocity rather than the gradient.

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 1e-3).
        momentum (float): momentum factor (default: 0).
        dampening (float): dampening of the momentum (default: 0).
        weight_decay (float): L2 penalty (default: 0).
        nesterov (bool): use Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``
            (default: False).
        maximize (bool): maximize the objective instead of minimizing it (default: False).
        foreach (bool, optional): accepted for compatibility; ember always uses its multi-tensor
            kernels (default: None).
        differentiable (bool): PyTorch's autograd-through-the-step mode; not supported by ember
            (``step`` raises NotImplementedError) (default: False).
        fused (bool, optional): accepted for compatibility (the kernels are already fused);
            requires floating point parameters (default: None).

    Example::

        >>> opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        self._setup_fused(fused, differentiable, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(nesterov=False, maximize=False, foreach=None,
                                 differentiable=False, fused=False), scalar_state=())

    def step(self, closure=None):
        loss = self._run_closure(closure)
        if self._amp_skip_or_unscale():
            return loss
        for group in self.param_groups:
            self._check_differentiable(group)
            params = self._with_grad(group)
            if not params:
                continue
            if group["fused"]:
                for p in params:
                    _check_fused_dtype(p)
            momentum = group["momentum"]
            if any(p.grad._sparse for p in params):
                sparse_sgd_([p for p in params if p.grad._sparse], _to_scalar(group["lr"]), group["weight_decay"],
                            momentum, group["maximize"])
                params = [p for p in params if not p.grad._sparse]
            bufs, fresh = [], []
            if momentum != 0:
                for p in params:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    fresh.append(buf is None)
                    if buf is None:
                        buf = state["momentum_buffer"] = ember.empty_like(p)
                    bufs.append(buf)
            K.sgd_(_data(params), _grads(params), _data(bufs), fresh, lr=_to_scalar(group["lr"]),
                   weight_decay=_to_scalar(group["weight_decay"]), momentum=momentum,
                   dampening=group["dampening"], nesterov=group["nesterov"],
                   maximize=group["maximize"])
            _bump(params, bufs)
        return loss
