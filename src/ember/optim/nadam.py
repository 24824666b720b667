"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import Optimizer, _bump, _check_not_capturable, _scalar_dtype, _to_scalar
from .._tensor import Tensor

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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0:
                    if not isinstance(p_state["step"], Tensor):
                        p_state["step"] = ember.tensor(float(p_state["step"]),
                                                       dtype=_scalar_dtype())
                    if not isinstance(p_state["mu_product"], Tensor):
                        p_state["mu_product"] = ember.tensor(p_state["mu_product"],
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
            states = []
            for p in params:
                if getattr(p.grad, "is_sparse", False):
                    raise RuntimeError("NAdam does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = ember.tensor(0.0, dtype=_scalar_dtype())
                    state["mu_product"] = ember.tensor(1.0, dtype=_scalar_dtype())
                    state["exp_avg"] = ember.zeros_like(p)
                    state["exp_avg_sq"] = ember.zeros_like(p)
                states.append(state)
            _check_not_capturable(group, "params, mu_products and state_steps")
            beta1, beta2 = group["betas"]
            momentum_decay = group["momentum_decay"]
            step_tensors = [s["step"] for s in states]
            mu_tensors = [s["mu_product"] for s in states]
            steps = K.increment_([t._data for t in step_tensors])
            mus = [beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay))) for t in steps]
            mu_nexts = [beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay))) for t in steps]
            mu_products = K.mul_([t._data for t in mu_tensors], mus)
            exp_avgs = [s["exp_avg"] for s in states]
            exp_avg_sqs = [s["exp_avg_sq"] for s in states]
            K.nadam_([p._data for p in params], [p.grad._data for p in params],
                     [t._data for t in exp_avgs], [t._data for t in exp_avg_sqs], steps, mus,
                     mu_products, mu_nexts, beta1=beta1, beta2=beta2, lr=_to_scalar(group["lr"]),
                     weight_decay=group["weight_decay"], eps=group["eps"],
                     maximize=group["maximize"],
                     decoupled_weight_decay=group["decoupled_weight_decay"])
            for ts in (params, step_tensors, mu_tensors, exp_avgs, exp_avg_sqs):
                _bump(ts)
        return loss
