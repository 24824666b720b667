"""Rprop: resilient backpropagation (Riedmiller & Braun, 1993)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _data, _gather, _grads, _increment_steps,
                        _scalar_dtype, _to_scalar)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Rprop: move each coordinate by its own step size, using only the gradient's sign.

    Per coordinate: when the gradient keeps its sign the step size grows by ``etaplus``, when
    it flips the step size shrinks by ``etaminus`` (and that coordinate does not move this step,
    its remembered gradient becoming 0); step sizes stay within ``step_sizes``.  Then
    ``p = p - sign(g) * step_size``.

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): initial step size (default: 1e-2).
        etas (tuple of two floats): (etaminus, etaplus), the shrink and grow factors; must
            satisfy 0 < etaminus < 1 < etaplus (default: (0.5, 1.2)).
        step_sizes (tuple of two floats): minimal and maximal step size (default: (1e-6, 50)).
        capturable (bool): graph-capture mode; fails on the CPU as in PyTorch (default: False).
        foreach (bool, optional): accepted for compatibility (default: None).
        maximize (bool): maximize the objective (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_args(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(foreach=None, maximize=False, differentiable=False,
                                 capturable=False))

    @staticmethod
    def _init_state(group, p, state):
        state["step"] = ember.zeros((), dtype=_scalar_dtype())
        state["prev"] = ember.zeros_like(p)
        lr = _to_scalar(group["lr"])
        state["step_size"] = ember.full_like(p.grad, complex(lr, lr) if p.dtype.is_complex else lr)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(
                self._init_state, "Rprop does not support sparse gradients"):
            _increment_steps(states)
            prevs, sizes = _gather(states, "prev", "step_size")
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            K.rprop_(_data(params), _grads(params), _data(prevs), _data(sizes), etaminus=etaminus,
                     etaplus=etaplus, step_size_min=step_size_min, step_size_max=step_size_max,
                     maximize=group["maximize"])
            _bump(params, prevs, sizes)
        return loss
