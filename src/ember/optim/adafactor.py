"""Adafactor (Shazeer & Stern, 2018) as PyTorch 2.13 defines it: factored second moments for matrices."""
import numpy

import ember
from .optimizer import Optimizer, _scalar_dtype, _to_scalar
from .._tensor import Tensor

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    r"""Adafactor: Adam-like steps whose second-moment estimate of a matrix is kept as a row and a column vector.

    For each parameter :math:`p` with gradient :math:`g` (negated when ``maximize``), at step :math:`t`::

        beta_t = t ** beta2_decay                     (weight of the new statistics)
        rho    = min(lr, 1 / sqrt(t));   alpha = max(eps2, RMS(p)) * rho
        p      = p * (1 - lr * weight_decay)
        matrices (last two dims):  R <- lerp(R, mean(g^2, -1), beta_t);  C <- lerp(C, mean(g^2, -2), beta_t)
                                   V = R C / max(mean(R, -2), eps1)
        otherwise:                 V <- lerp(V, g^2, beta_t)
        u = g / sqrt(max(V, eps1^2));   p = p - alpha / max(1, RMS(u) / d) * u

    ``eps1`` defaults to the machine epsilon of the parameter's dtype.

    Args:
        params (iterable): tensors or param-group dicts to optimize.
        lr (float or Tensor): the bound on the relative step size (default: 1e-2).
        beta2_decay (float): the exponent of the running average's weight, <= 0 (default: -0.8).
        eps (tuple): ``(eps1, eps2)``: the floor of the second moment (None: machine epsilon) and of the
            parameter RMS in the step size (default: (None, 1e-3)).
        d (float): the clipping threshold of the update's RMS, >= 1 (default: 1.0).
        weight_decay (float): decoupled weight decay (default: 0.0).
        foreach (bool, optional): accepted for compatibility.
        maximize (bool): maximize the objective (default: False).
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        checks = ((0.0 <= lr, f"Learning rate should be >= 0 but is: {lr}"),
                  (0.0 >= beta2_decay, f"beta2_decay should be <= 0 but is: {beta2_decay}"),
                  (eps[0] is None or 0.0 <= eps[0], f"epsilon1 should be >= 0 but is: {eps[0]}"),
                  (0.0 <= eps[1], f"epsilon2 should be >= 0 but is: {eps[1]}"),
                  (1.0 <= d, f"Clipping threshold d should be >= 1 but is: {d}"),
                  (0.0 <= weight_decay, f"weight_decay should be >= 0 but is: {weight_decay}"))
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        if p.dtype.is_complex:
            raise RuntimeError("Adafactor does not support complex parameters")
        state["step"] = ember.tensor(0.0, dtype=_scalar_dtype())
        if p.grad.dim() > 1:
            state["row_var"] = p.grad.new_zeros(tuple(p.grad.shape[:-1]) + (1,))
            state["col_var"] = p.grad.new_zeros(tuple(p.grad.shape[:-2]) + (1, p.grad.shape[-1]))
        else:
            state["variance"] = ember.zeros_like(p.grad)

    def step(self, closure=None):
        """One Adafactor update of every parameter with a gradient; returns the closure's loss."""
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(self._init_state,
                                                            "Adafactor does not support sparse gradients"):
            lr = _to_scalar(group["lr"])
            # a tensor lr keeps the step size a float32 tensor in PyTorch; round the same way
            single = isinstance(group["lr"], Tensor) and group["lr"].dtype == ember.float32
            eps1, eps2 = group["eps"]
            for p, state in zip(params, states):
                self._update(p, state, lr, group["beta2_decay"], eps1, eps2, group["d"], group["weight_decay"],
                             group["maximize"], single)
        return loss

    @staticmethod
    def _update(p, state, lr, beta2_decay, eps1, eps2, d, weight_decay, maximize, single):
        grad = -p.grad if maximize else p.grad
        if eps1 is None:
            eps1 = ember.finfo(p.dtype).eps
        state["step"] += 1
        t = state["step"].item()
        beta_t = t ** beta2_decay
        rho = min(lr, 1 / t ** 0.5)
        rms = max(eps2, p.norm(2).item() / p.numel() ** 0.5)
        alpha = float(numpy.float32(rms) * numpy.float32(rho)) if single else rms * rho
        if weight_decay != 0:
            p.mul_(1 - lr * weight_decay)
        if grad.dim() > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            row_var.lerp_((grad * grad).mean(-1, keepdim=True), beta_t)
            col_var.lerp_((grad * grad).mean(-2, keepdim=True), beta_t)
            estimate = (row_var @ col_var) / row_var.mean(-2, keepdim=True).clamp(min=eps1)
        else:
            state["variance"].lerp_(grad * grad, beta_t)
            estimate = state["variance"].clone()
        update = estimate.clamp(min=eps1 * eps1).rsqrt() * grad
        denom = max(1.0, update.norm(2).item() / (update.numel() ** 0.5 * d))
        scale = float(numpy.float32(-alpha) / numpy.float32(denom)) if single else -alpha / denom
        p.add_(update, alpha=scale)
