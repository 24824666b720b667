"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2019)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _data, _gather, _grads, _increment_steps,
                        _scalar_dtype, _to_scalar)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam: Adam that falls back to momentum SGD while the variance estimate is unreliable.

    With ``rho_inf = 2 / (1 - beta2) - 1`` and
    ``rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)``, each step does::

        g = g + weight_decay * p            (or p = p * (1 - lr * weight_decay) when decoupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)
        if rho_t > 5:
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            p = p - lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
        else:
            p = p - lr * m_hat

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 1e-3).
        betas (tuple of two floats): decay rates of the moments (default: (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default: 1e-8).
        weight_decay (float): weight decay (default: 0).
        decoupled_weight_decay (bool): decay the parameters directly, as AdamW does, giving
            RAdamW (default: False).
        foreach (bool, optional): accepted for compatibility (default: None).
        maximize (bool): maximize the objective (default: False).
        capturable (bool): graph-capture mode; fails on the CPU as in PyTorch (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(foreach=None, maximize=False, differentiable=False,
                                 decoupled_weight_decay=False, capturable=False))

    @staticmethod
    def _init_state(group, p, state):
        state["step"] = ember.tensor(0.0, dtype=_scalar_dtype())
        state["exp_avg"] = ember.zeros_like(p)
        state["exp_avg_sq"] = ember.zeros_like(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(
                self._init_state, "RAdam does not support sparse gradients"):
            steps = _increment_steps(states)
            exp_avgs, exp_avg_sqs = _gather(states, "exp_avg", "exp_avg_sq")
            beta1, beta2 = group["betas"]
            K.radam_(_data(params), _grads(params), _data(exp_avgs), _data(exp_avg_sqs), steps,
                     beta1=beta1, beta2=beta2, lr=_to_scalar(group["lr"]),
                     weight_decay=group["weight_decay"], eps=group["eps"],
                     maximize=group["maximize"],
                     decoupled_weight_decay=group["decoupled_weight_decay"])
            _bump(params, exp_avgs, exp_avg_sqs)
        return loss
