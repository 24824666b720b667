"""Adagrad (Duchi et al., 2011)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _data, _grads, _increment_steps,
                        _scalar_dtype, _to_scalar)
from .._tensor import Tensor
from .sparse_adam import sparse_adagrad_

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad: per-coordinate step sizes from the accumulated squared gradients.

    For each parameter with gradient :math:`g` (negated when ``maximize``), at step :math:`t`::

        g = g + weight_decay * p                       (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2
        p = p - clr * g / (sqrt(s) + eps)

    The state (``step`` and the sum ``s``, initialised to ``initial_accumulator_value``) is
    created for every parameter when the optimizer is constructed.

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 1e-2).
        lr_decay (float): learning rate decay (default: 0).
        weight_decay (float): L2 penalty (default: 0).
        initial_accumulator_value (float): starting value of the sums (default: 0).
        eps (float): added to the denominator for numerical stability (default: 1e-10).
        foreach (bool, optional): accepted for compatibility (default: None).
        maximize (bool): maximize the objective (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
        fused (bool, optional): accepted; requires floating point parameters (default: None).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_args(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                    initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        self._setup_fused(fused, differentiable, foreach)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p, self.state[p])

    def _init_state(self, group, p, state):
        state["step"] = ember.tensor(0.0, dtype=_scalar_dtype(is_fused=group["fused"]))
        init_value = self.defaults["initial_accumulator_value"]
        if p.dtype.is_complex:
            init_value = complex(init_value, init_value)
        state["sum"] = ember.full_like(p, init_value)

    def __setstate__(self, state):
        super().__setstate__(state)
        fused = None
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            fused = group.setdefault("fused", None)
        for s in self.state.values():
            if len(s) != 0 and not isinstance(s["step"], Tensor):
                s["step"] = ember.tensor(float(s["step"]), dtype=_scalar_dtype(is_fused=fused))

    def share_memory(self):
        """Move the ``sum`` state tensors to shared memory (for Hogwild-style training)."""
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    def step(self, closure=None):
        loss = self._run_closure(closure)
        if self._amp_skip_or_unscale():
            return loss
        for group, params, states in self._groups_with_grad(
                self._init_state, fused_check=True, capturable_what=None):
            steps = _increment_steps(states)
            if any(p.grad._sparse for p in params):
                for p, state, step in zip(params, states, steps):
                    if p.grad._sparse:
                        sparse_adagrad_(p, state["sum"], p.grad, step, _to_scalar(group["lr"]), group["weight_decay"],
                                        group["lr_decay"], group["eps"], group["maximize"])
                dense = [i for i, p in enumerate(params) if not p.grad._sparse]
                params, states, steps = ([p[i] for i in dense] for p in (params, states, steps))
            sums = [s["sum"] for s in states]
            K.adagrad_(_data(params), _grads(params), _data(sums), steps,
                       lr=_to_scalar(group["lr"]), weight_decay=group["weight_decay"],
                       lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"])
            _bump(params, sums)
        return loss
