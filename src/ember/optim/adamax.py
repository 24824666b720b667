"""Adamax: the infinity-norm variant of Adam (Kingma & Ba, 2014, section 7)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _data, _gather, _grads, _increment_steps,
                        _scalar_dtype, _to_scalar)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm.

    For each parameter with gradient :math:`g` (negated when ``maximize``), at step :math:`t`::

        g = g + weight_decay * p                       (if weight_decay != 0)
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 2e-3).
        betas (tuple of two floats): decay rates of the first moment and of the infinity norm
            (default: (0.9, 0.999)).
        eps (float): added to |g| for numerical stability (default: 1e-8).
        weight_decay (float): L2 penalty (default: 0).
        foreach (bool, optional): accepted for compatibility (default: None).
        maximize (bool): maximize the objective (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
        capturable (bool): graph-capture mode; fails on the CPU as in PyTorch (default: False).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(foreach=None, maximize=False, differentiable=False,
                                 capturable=False))

    @staticmethod
    def _init_state(group, p, state):
        state["step"] = ember.tensor(0.0, dtype=_scalar_dtype())
        state["exp_avg"] = ember.zeros_like(p)
        state["exp_inf"] = ember.zeros_like(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(
                self._init_state, "Adamax does not support sparse gradients"):
            steps = _increment_steps(states)
            exp_avgs, exp_infs = _gather(states, "exp_avg", "exp_inf")
            beta1, beta2 = group["betas"]
            K.adamax_(_data(params), _grads(params), _data(exp_avgs), _data(exp_infs), steps,
                      beta1=beta1, beta2=beta2, lr=_to_scalar(group["lr"]),
                      weight_decay=group["weight_decay"], eps=group["eps"],
                      maximize=group["maximize"])
            _bump(params, exp_avgs, exp_infs)
        return loss
