"""Averaged stochastic gradient descent (Polyak & Juditsky, 1992)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import Optimizer, _bump, _check_not_capturable, _scalar_dtype, _to_scalar
from .._tensor import Tensor

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
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
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
                if len(p_state) != 0:
                    for key in ("step", "eta", "mu"):
                        if not isinstance(p_state[key], Tensor):
                            p_state[key] = ember.tensor(float(p_state[key]),
                                                        dtype=_scalar_dtype())

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
            lr = _to_scalar(group["lr"])
            states = []
            for p in params:
                if getattr(p.grad, "is_sparse", False):
                    raise RuntimeError("ASGD does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = ember.zeros((), dtype=_scalar_dtype())
                    state["eta"] = ember.tensor(lr, dtype=_scalar_dtype())
                    state["mu"] = ember.ones((), dtype=_scalar_dtype())
                    state["ax"] = ember.zeros_like(p)
                states.append(state)
            _check_not_capturable(group, "params, mus, etas, and state_steps")
            step_tensors = [s["step"] for s in states]
            eta_tensors = [s["eta"] for s in states]
            mu_tensors = [s["mu"] for s in states]
            axs = [s["ax"] for s in states]
            steps = K.increment_([t._data for t in step_tensors])
            K.asgd_([p._data for p in params], [p.grad._data for p in params],
                    [t._data for t in axs], [t.item() for t in eta_tensors],
                    [t.item() for t in mu_tensors], lambd=group["lambd"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"])
            # the new values pass through a default-dtype scalar tensor before landing in the
            # state (PyTorch builds them with torch.as_tensor), so they are rounded to float32
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            rounded = {}

            def as_default(v):
                if v not in rounded:
                    rounded[v] = ember.tensor(v).item()
                return rounded[v]

            K.fill_([t._data for t in eta_tensors],
                    [as_default(lr / ((1 + lambd * lr * s) ** alpha)) for s in steps])
            K.fill_([t._data for t in mu_tensors], [as_default(1 / max(1, s - t0)) for s in steps])
            for ts in (params, step_tensors, eta_tensors, mu_tensors, axs):
                _bump(ts)
        return loss
