"""Muon (momentum orthogonalized by Newton-Schulz) as PyTorch 2.13 defines it, for 2-D parameters."""
import math

import ember
from .optimizer import Optimizer, _to_scalar
from .._tensor import Tensor

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


def orthogonalize(update, ns_coefficients, ns_steps, eps):
    """Approximately ``U V^T`` of ``update = U S V^T`` by ``ns_steps`` quintic Newton-Schulz iterations
    ``X <- a X + (b G + c G^2) X`` with ``G = X X^T``, run in bfloat16 on the wide orientation (as PyTorch)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if update.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    tall = update.shape[0] > update.shape[1]
    x = update.bfloat16()
    if tall:
        x = x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(ns_steps):
        # each product-and-sum in float32 from bfloat16 operands, rounded once: PyTorch's bfloat16 addmm
        xf = x.float()
        gram = (xf @ xf.T).bfloat16().float()
        mix = (b * gram + c * (gram @ gram)).bfloat16().float()
        x = (a * xf + mix @ xf).bfloat16()
    return x.T if tall else x


def _adjusted_lr(lr, adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    return lr * 0.2 * math.sqrt(max(rows, cols))


class Muon(Optimizer):
    r"""Muon: SGD with (Nesterov) momentum whose update is orthogonalized before it is applied.

    For each 2-D parameter :math:`p` with gradient :math:`g`::

        B <- lerp(B, g, 1 - momentum);   u = lerp(g, B, momentum) if nesterov else B
        u = orthogonalize(u)              (Newton-Schulz in bfloat16, ``ns_steps`` iterations)
        p = p * (1 - lr * weight_decay) - lr * adjust(shape) * u

    with ``adjust = sqrt(max(1, rows / cols))`` ("original", the default) or ``0.2 * sqrt(max(rows, cols))``
    ("match_rms_adamw").

    Args:
        params (iterable): 2-D tensors or param-group dicts to optimize.
        lr (float or Tensor): learning rate (default: 1e-3).
        weight_decay (float): decoupled weight decay (default: 0.1).
        momentum (float): momentum factor (default: 0.95).
        nesterov (bool): Nesterov momentum (default: True).
        ns_coefficients (tuple): the quintic iteration's (a, b, c).
        eps (float): floor of the norm the update is divided by (default: 1e-7).
        ns_steps (int): Newton-Schulz iterations (default: 5).
        adjust_lr_fn (str, optional): "original" or "match_rms_adamw".
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def _init_state(self, group, p, state):
        if p.dtype.is_complex:
            raise RuntimeError("Muon does not support complex parameters")
        state["momentum_buffer"] = ember.zeros_like(p.grad)

    def step(self, closure=None):
        """One Muon update of every parameter with a gradient; returns the closure's loss."""
        loss = self._run_closure(closure)
        for group, params, states in self._groups_with_grad(self._init_state,
                                                            "Muon does not support sparse gradients"):
            lr = _to_scalar(group["lr"])
            for p, state in zip(params, states):
                grad, buf = p.grad, state["momentum_buffer"]
                buf.lerp_(grad, 1 - group["momentum"])
                update = grad.lerp(buf, group["momentum"]) if group["nesterov"] else buf
                update = orthogonalize(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
                p.mul_(1 - lr * group["weight_decay"])
                p.add_(update, alpha=-_adjusted_lr(lr, group["adjust_lr_fn"], tuple(p.shape)))
        return loss
