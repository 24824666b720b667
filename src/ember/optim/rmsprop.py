"""RMSprop (Hinton's lecture notes), optionally centered and with momentum."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _data, _grads, _increment_steps,
                        _scalar_dtype, _to_scalar)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    For each parameter with gradient :math:`g` (negated when ``maximize``)::

        g = g + weight_decay * p                       (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g^2
        avg = sqrt(v - g_avg^2) + eps    with g_avg = alpha * g_avg + (1 - alpha) * g  (centered)
        avg = sqrt(v) + eps                                                           (otherwise)
        b = momentum * b + g / avg;  p = p - lr * b    (if momentum > 0)
        p = p - lr * g / avg                           (otherwise)

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 1e-2).
        alpha (float): smoothing constant (default: 0.99).
        eps (float): added to the denominator for numerical stability (default: 1e-8).
        weight_decay (float): L2 penalty (default: 0).
        momentum (float): momentum factor (default: 0).
        centered (bool): normalise by an estimate of the gradient's variance (default: False).
        capturable (bool): graph-capture mode; fails on the CPU as in PyTorch (default: False).
        foreach (bool, optional): accepted for compatibility (default: None).
        maximize (bool): maximize the objective (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_args(lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(momentum=0, centered=False, foreach=None, maximize=False,
                                 differentiable=False, capturable=False))

    @staticmethod
    def _init_state(group, p, state):
        state["step"] = ember.zeros((), dtype=_scalar_dtype())
        state["square_avg"] = ember.zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = ember.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = ember.zeros_like(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(
                self._init_state, "RMSprop does not support sparse gradients"):
            _increment_steps(states)
            momentum, centered = group["momentum"], group["centered"]
            square_avgs = [s["square_avg"] for s in states]
            grad_avgs = [s["grad_avg"] for s in states] if centered else []
            bufs = [s["momentum_buffer"] for s in states] if momentum > 0 else []
            K.rmsprop_(_data(params), _grads(params), _data(square_avgs), _data(grad_avgs),
                       _data(bufs), lr=_to_scalar(group["lr"]), alpha=group["alpha"],
                       eps=group["eps"], weight_decay=group["weight_decay"], momentum=momentum,
                       centered=centered, maximize=group["maximize"])
            _bump(params, square_avgs, grad_avgs, bufs)
        return loss
