"""Adam (and, through ``decoupled_weight_decay=True``, AdamW)."""
import ember
from ..ops import optim_kernels as K
from .optimizer import (Optimizer, _bump, _check_args, _check_fused_dtype, _data, _gather, _grads,
                        _increment_steps, _scalar_dtype, _to_scalar)
from .._tensor import Tensor

__all__ = ["Adam"]


def _check_adam_args(lr, betas, eps, weight_decay, foreach, capturable):
    """Validate the hyper-parameters shared by Adam and AdamW (PyTorch's checks and messages)."""
    if isinstance(lr, Tensor) and foreach and not capturable:
        raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
    _check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay)
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
        self._setup_fused(fused, differentiable, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state(dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                                 differentiable=False, decoupled_weight_decay=False, fused=None))

    @staticmethod
    def _init_state(group, p, state):
        if group["fused"]:
            _check_fused_dtype(p)
        state["step"] = ember.tensor(0.0, dtype=_scalar_dtype(is_fused=group["fused"]))
        state["exp_avg"] = ember.zeros_like(p)
        state["exp_avg_sq"] = ember.zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = ember.zeros_like(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        if self._amp_skip_or_unscale():
            return loss
        for group, params, states in self._groups_with_grad(
                self._init_state, "Adam does not support sparse gradients, please consider "
                "SparseAdam instead"):
            steps = _increment_steps(states)
            amsgrad = group["amsgrad"]
            exp_avgs, exp_avg_sqs = _gather(states, "exp_avg", "exp_avg_sq")
            maxs = [s["max_exp_avg_sq"] for s in states] if amsgrad else []
            beta1, beta2 = group["betas"]
            K.adam_(_data(params), _grads(params), _data(exp_avgs), _data(exp_avg_sqs), _data(maxs),
                    steps, amsgrad=amsgrad, beta1=float(_to_scalar(beta1)),
                    beta2=float(_to_scalar(beta2)), lr=_to_scalar(group["lr"]),
                    weight_decay=group["weight_decay"], eps=group["eps"],
                    maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"])
            _bump(params, exp_avgs, exp_avg_sqs, maxs)
        return loss
