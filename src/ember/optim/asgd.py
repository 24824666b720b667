"""Averaged stochastic gradient descent (Polyak & Juditsky, 1992)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _data, _gather, _grads, _increment_steps,
                        _scalar_dtype, _to_scalar)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD: SGD with a decaying step size that also keeps a running average ``ax`` of
    the iterates (start averaging after ``t0`` steps).

    For each parameter with gradient :math:`g` (negated when ``maximize``), at step :math:`t`::

        g = g + weight_decay * p                       (if weight_decay != 0)
        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)        (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t)^alpha
        mu = 1 / max(1, t - t0)

    ``eta`` and ``mu`` are kept per parameter as 0-d state tensors.

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 1e-2).
        lambd (float): decay term (default: 1e-4).
        alpha (float): power of the eta update (default: 0.75).
        t0 (float): step at which averaging starts (default: 1e6).
        weight_decay (float): L2 penalty (default: 0).
        foreach (bool, optional): accepted for compatibility (default: None).
        maximize (bool): maximize the objective (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
        capturable (bool): graph-capture mode; fails on the CPU as in PyTorch (default: False).
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_args(lr, weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(foreach=None, maximize=False, differentiable=False,
                                 capturable=False), scalar_state=("step", "eta", "mu"))

    @staticmethod
    def _init_state(group, p, state):
        state["step"] = ember.zeros((), dtype=_scalar_dtype())
        state["eta"] = ember.tensor(_to_scalar(group["lr"]), dtype=_scalar_dtype())
        state["mu"] = ember.ones((), dtype=_scalar_dtype())
        state["ax"] = ember.zeros_like(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(
                self._init_state, "ASGD does not support sparse gradients",
                capturable_what="params, mus, etas, and state_steps"):
            steps = _increment_steps(states)
            eta_tensors, mu_tensors, axs = _gather(states, "eta", "mu", "ax")
            K.asgd_(_data(params), _grads(params), _data(axs), [t.item() for t in eta_tensors],
                    [t.item() for t in mu_tensors], lambd=group["lambd"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"])
            # the new values pass through a default-dtype scalar tensor before landing in the
            # state (PyTorch builds them with torch.as_tensor), so they are rounded to float32
            lr = _to_scalar(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            rounded = {}

            def as_default(v):
                if v not in rounded:
                    rounded[v] = ember.tensor(v).item()
                return rounded[v]

            K.fill_(_data(eta_tensors),
                    [as_default(lr / ((1 + lambd * lr * s) ** alpha)) for s in steps])
            K.fill_(_data(mu_tensors), [as_default(1 / max(1, s - t0)) for s in steps])
            _bump(params, eta_tensors, mu_tensors, axs)
        return loss
