"""Adam (and, through ``decoupled_weight_decay=True``, AdamW)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_fused_dtype, _check_not_capturable, _scalar_dtype,
                        _to_scalar)
from .._tensor import Tensor

__all__ = ["Adam"]


def _check_adam_args(lr, betas, eps, weight_decay, foreach, capturable):
    """Validate the hyper-parameters shared by Adam and AdamW (PyTorch's checks and messages)."""
    if isinstance(lr, Tensor):
        if foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        if lr.numel() != 1:
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
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")
    for i in (0, 1):
        if isinstance(betas[i], Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False "
                                 "and foreach=True")
            if betas[i].numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")


class Adam(Optimizer):
    r"""Adam: adaptive moment estimation (Kingma & Ba, 2014).

    For each parameter with gradient :math:`g` (negated when ``maximize``), at step :math:`t`::

        g = g + weight_decay * p            (L2 penalty; or p = p * (1 - lr * weight_decay)
                                             when decoupled_weight_decay, as in AdamW)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)               (amsgrad; then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params (iterable): tensors or param-group dicts to optimize (see :class:`Optimizer`).
        lr (float or Tensor): learning rate (default: 1e-3).
        betas (tuple of two floats or two Tensors): decay rates of the running averages of the
            gradient and of its square (default: (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default: 1e-8).
        weight_decay (float): weight decay (default: 0).
        amsgrad (bool): use the AMSGrad variant (default: False).
        foreach (bool, optional): accepted for compatibility (default: None).
        maximize (bool): maximize the objective (default: False).
        capturable (bool): graph-capture mode; needs an accelerator, so ``step`` fails on the CPU
            exactly as PyTorch does (default: False).
        differentiable (bool): not supported by ember's ``step`` (default: False).
        fused (bool, optional): accepted (ember's kernels are fused); requires floating point
            parameters and makes the optimizer cooperate with ``GradScaler`` (default: None).
        decoupled_weight_decay (bool): apply weight decay to the parameters directly instead of
            through the gradient, which makes this optimizer AdamW (default: False).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_adam_args(lr, betas, eps, weight_decay, foreach, capturable)
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            self._step_supports_amp_scaling = True
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            fused = group.setdefault("fused", None)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0 and not isinstance(p_state["step"], Tensor):
                    dtype = _scalar_dtype(is_fused=fused) if (group["capturable"] or fused) \
                        else _scalar_dtype()
                    p_state["step"] = ember.tensor(float(p_state["step"]), dtype=dtype)

    def _init_group(self, group, params):
        """Create missing state for ``params``; return their state dicts."""
        states = []
        for p in params:
            if getattr(p.grad, "is_sparse", False):
                raise RuntimeError("Adam does not support sparse gradients, please consider "
                                   "SparseAdam instead")
            state = self.state[p]
            if len(state) == 0:
                if group["fused"]:
                    _check_fused_dtype(p)
                dtype = _scalar_dtype(is_fused=group["fused"]) \
                    if (group["capturable"] or group["fused"]) else _scalar_dtype()
                state["step"] = ember.tensor(0.0, dtype=dtype)
                state["exp_avg"] = ember.zeros_like(p)
                state["exp_avg_sq"] = ember.zeros_like(p)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = ember.zeros_like(p)
            states.append(state)
        return states

    def step(self, closure=None):
        """Perform a single optimization step.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.
        """
        loss = self._run_closure(closure)
        if self._amp_skip_or_unscale():
            return loss
        for group in self.param_groups:
            self._check_differentiable(group)
            params = self._with_grad(group)
            if not params:
                continue
            states = self._init_group(group, params)
            _check_not_capturable(group)
            step_tensors = [s["step"] for s in states]
            steps = K.increment_([t._data for t in step_tensors])
            amsgrad = group["amsgrad"]
            beta1, beta2 = group["betas"]
            exp_avgs = [s["exp_avg"] for s in states]
            exp_avg_sqs = [s["exp_avg_sq"] for s in states]
            maxs = [s["max_exp_avg_sq"] for s in states] if amsgrad else []
            K.adam_([p._data for p in params], [p.grad._data for p in params],
                    [t._data for t in exp_avgs], [t._data for t in exp_avg_sqs],
                    [t._data for t in maxs], steps,
                    amsgrad=amsgrad, beta1=float(_to_scalar(beta1)), beta2=float(_to_scalar(beta2)),
                    lr=_to_scalar(group["lr"]), weight_decay=group["weight_decay"],
                    eps=group["eps"], maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"])
            _bump(params)
            _bump(step_tensors)
            _bump(exp_avgs)
            _bump(exp_avg_sqs)
            _bump(maxs)
        return loss
