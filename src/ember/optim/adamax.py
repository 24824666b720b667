"""Adamax: the infinity-norm variant of Adam (Kingma & Ba, 2014, section 7)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import Optimizer, _bump, _check_not_capturable, _scalar_dtype, _to_scalar
from .._tensor import Tensor

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
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
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
                    raise RuntimeError("Adamax does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = ember.tensor(0.0, dtype=_scalar_dtype())
                    state["exp_avg"] = ember.zeros_like(p)
                    state["exp_inf"] = ember.zeros_like(p)
                states.append(state)
            _check_not_capturable(group)
            step_tensors = [s["step"] for s in states]
            steps = K.increment_([t._data for t in step_tensors])
            beta1, beta2 = group["betas"]
            exp_avgs = [s["exp_avg"] for s in states]
            exp_infs = [s["exp_inf"] for s in states]
            K.adamax_([p._data for p in params], [p.grad._data for p in params],
                      [t._data for t in exp_avgs], [t._data for t in exp_infs], steps,
                      beta1=beta1, beta2=beta2, lr=_to_scalar(group["lr"]),
                      weight_decay=group["weight_decay"], eps=group["eps"],
                      maximize=group["maximize"])
            for ts in (params, step_tensors, exp_avgs, exp_infs):
                _bump(ts)
        return loss
