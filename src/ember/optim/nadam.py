"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _data, _gather, _grads, _increment_steps,
                        _scalar_dtype, _to_scalar)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam: Adam whose first moment is looked ahead one step, Nesterov style.

    With the momentum schedule ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))`` and
    ``P_t = mu_1 * ... * mu_t`` (kept as the state ``mu_product``), each step does::

        g = g + weight_decay * p            (or p = p * (1 - lr * weight_decay) when decoupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / denom
              - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / denom

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 2e-3).
        betas (tuple of two floats): decay rates of the moments (default: (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default: 1e-8).
        weight_decay (float): weight decay (default: 0).
        momentum_decay (float): the momentum schedule's decay (default: 4e-3).
        decoupled_weight_decay (bool): decay the parameters directly, as AdamW does, giving
            NAdamW (default: False).
        foreach (bool, optional): accepted for compatibility (default: None).
        maximize (bool): maximize the objective (default: False).
        capturable (bool): graph-capture mode; fails on the CPU as in PyTorch (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay,
                    momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(maximize=False, foreach=None, capturable=False,
                                 differentiable=False, decoupled_weight_decay=False),
                            scalar_state=("step", "mu_product"))

    @staticmethod
    def _init_state(group, p, state):
        state["step"] = ember.tensor(0.0, dtype=_scalar_dtype())
        state["mu_product"] = ember.tensor(1.0, dtype=_scalar_dtype())
        state["exp_avg"] = ember.zeros_like(p)
        state["exp_avg_sq"] = ember.zeros_like(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(
                self._init_state, "NAdam does not support sparse gradients",
                capturable_what="params, mu_products and state_steps"):
            steps = _increment_steps(states)
            mu_tensors, exp_avgs, exp_avg_sqs = _gather(states, "mu_product", "exp_avg",
                                                        "exp_avg_sq")
            beta1, beta2 = group["betas"]
            momentum_decay = group["momentum_decay"]
            mus = [beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay))) for t in steps]
            mu_nexts = [beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay))) for t in steps]
            mu_products = K.mul_(_data(mu_tensors), mus)
            K.nadam_(_data(params), _grads(params), _data(exp_avgs), _data(exp_avg_sqs), steps, mus,
                     mu_products, mu_nexts, beta1=beta1, beta2=beta2, lr=_to_scalar(group["lr"]),
                     weight_decay=group["weight_decay"], eps=group["eps"],
                     maximize=group["maximize"],
                     decoupled_weight_decay=group["decoupled_weight_decay"])
            _bump(params, mu_tensors, exp_avgs, exp_avg_sqs)
        return loss
