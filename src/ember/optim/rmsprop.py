"""RMSprop (Hinton's lecture notes), optionally centered and with momentum."""
import ember
from ..ops import optim_kernels as K
from .optimizer import Optimizer, _bump, _check_not_capturable, _scalar_dtype, _to_scalar
from .._tensor import Tensor

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
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
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
            momentum, centered = group["momentum"], group["centered"]
            states = []
            for p in params:
                if getattr(p.grad, "is_sparse", False):
                    raise RuntimeError("RMSprop does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = ember.zeros((), dtype=_scalar_dtype())
                    state["square_avg"] = ember.zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = ember.zeros_like(p)
                    if centered:
                        state["grad_avg"] = ember.zeros_like(p)
                states.append(state)
            _check_not_capturable(group)
            step_tensors = [s["step"] for s in states]
            K.increment_([t._data for t in step_tensors])
            square_avgs = [s["square_avg"] for s in states]
            grad_avgs = [s["grad_avg"] for s in states] if centered else []
            bufs = [s["momentum_buffer"] for s in states] if momentum > 0 else []
            K.rmsprop_([p._data for p in params], [p.grad._data for p in params],
                       [t._data for t in square_avgs], [t._data for t in grad_avgs],
                       [t._data for t in bufs], lr=_to_scalar(group["lr"]), alpha=group["alpha"],
                       eps=group["eps"], weight_decay=group["weight_decay"], momentum=momentum,
                       centered=centered, maximize=group["maximize"])
            for ts in (params, step_tensors, square_avgs, grad_avgs, bufs):
                _bump(ts)
        return loss
