"""Rprop: resilient backpropagation (Riedmiller & Braun, 1993)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import Optimizer, _bump, _check_not_capturable, _scalar_dtype, _to_scalar
from .._tensor import Tensor

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
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0 and not isinstance(p_state["step"], Tensor):
                    p_state["step"] = ember.tensor(float(p_state["step"]), dtype=_scalar_dtype())

    def step(self, closure=None):
        """Perform a single optimization step.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.
        """
        loss = self._run_closure(closure)
        for group in self.param_groups:
            self._check_differentiable(group)
            params = self._with_grad(group)
            if not params:
                continue
            states = []
            for p in params:
                if getattr(p.grad, "is_sparse", False):
                    raise RuntimeError("Rprop does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = ember.zeros((), dtype=_scalar_dtype())
                    state["prev"] = ember.zeros_like(p)
                    lr = _to_scalar(group["lr"])
                    state["step_size"] = ember.full_like(
                        p.grad, complex(lr, lr) if p.dtype.is_complex else lr)
                states.append(state)
            _check_not_capturable(group)
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            step_tensors = [s["step"] for s in states]
            prevs = [s["prev"] for s in states]
            sizes = [s["step_size"] for s in states]
            K.increment_([t._data for t in step_tensors])
            K.rprop_([p._data for p in params], [p.grad._data for p in params],
                     [t._data for t in prevs], [t._data for t in sizes], etaminus=etaminus,
                     etaplus=etaplus, step_size_min=step_size_min, step_size_max=step_size_max,
                     maximize=group["maximize"])
            for ts in (params, step_tensors, prevs, sizes):
                _bump(ts)
        return loss
