"""Adadelta (Zeiler, 2012)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _data, _gather, _grads, _increment_steps,
                        _scalar_dtype, _to_scalar)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta: step sizes from running averages of squared gradients and squared updates.

    For each parameter with gradient :math:`g` (negated when ``maximize``)::

        g = g + weight_decay * p                       (if weight_decay != 0)
        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p = p - lr * delta

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): coefficient scaling delta (default: 1.0).
        rho (float): decay rate of the running averages (default: 0.9).
        eps (float): added inside the square roots for numerical stability (default: 1e-6).
        weight_decay (float): L2 penalty (default: 0).
        foreach (bool, optional): accepted for compatibility (default: None).
        capturable (bool): graph-capture mode; fails on the CPU as in PyTorch (default: False).
        maximize (bool): maximize the objective (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_args(lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(foreach=None, maximize=False, differentiable=False,
                                 capturable=False))

    @staticmethod
    def _init_state(group, p, state):
        state["step"] = ember.zeros((), dtype=_scalar_dtype())
        state["square_avg"] = ember.zeros_like(p)
        state["acc_delta"] = ember.zeros_like(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(
                self._init_state, "Adadelta does not support sparse gradients"):
            _increment_steps(states)
            square_avgs, acc_deltas = _gather(states, "square_avg", "acc_delta")
            K.adadelta_(_data(params), _grads(params), _data(square_avgs), _data(acc_deltas),
                        lr=_to_scalar(group["lr"]), rho=group["rho"], eps=group["eps"],
                        weight_decay=group["weight_decay"], maximize=group["maximize"])
            _bump(params, square_avgs, acc_deltas)
        return loss
