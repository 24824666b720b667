"""SparseAdam: Adam for sparse gradients (``nn.Embedding(sparse=True)``), updating only the rows a step touched."""
import math

import ember
from .optimizer import Optimizer, _to_scalar
from .._device import module_of_array

__all__ = ["SparseAdam"]


def sparse_rows(grad):
    """The coalesced entries of sparse gradient ``grad``: ``(index, values)`` where ``index`` is a tuple of index
    arrays (one per sparse dim) addressing the parameter's rows and ``values`` the array of their gradients."""
    g = grad.coalesce() if grad.is_sparse else grad.to_sparse_coo()
    return tuple(g._indices()._data), g._values()._data


class SparseAdam(Optimizer):
    r"""Adam restricted to the entries present in sparse gradients (the "lazy" Adam of large embeddings).

    For each row ``i`` a step's sparse gradient ``g`` names (other rows, and their moments, are untouched)::

        m_i = beta1 * m_i + (1 - beta1) * g_i
        v_i = beta2 * v_i + (1 - beta2) * g_i**2
        p_i = p_i - lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m_i / (sqrt(v_i) + eps)

    Args:
        params (iterable): dense tensors or param-group dicts whose gradients are sparse.
        lr (float or Tensor): learning rate (default: 1e-3).
        betas (Tuple[float, float]): decay rates of the two moments (default: (0.9, 0.999)).
        eps (float): added to the denominator (default: 1e-8).
        maximize (bool): maximize the objective (default: False).

    ``step`` raises PyTorch's RuntimeError for a dense gradient.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params = []
        complex_params = []
        for index, group in enumerate(self.param_groups):
            for d_index, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse_params.append([index, d_index])
                if p.is_complex():
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                             "parameters")

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = _to_scalar(group["lr"]), group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not p.grad._sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = ember.zeros_like(p)
                    state["exp_avg_sq"] = ember.zeros_like(p)
                state["step"] += 1
                index, g = sparse_rows(p.grad)
                if group["maximize"]:
                    g = -g
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                m_i = m[index] + (g - m[index]) * (1 - beta1)
                v_i = v[index] + (g * g - v[index]) * (1 - beta2)
                m[index], v[index] = m_i, v_i
                step = state["step"]
                step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
                p._data[index] -= (step_size * (m_i / (module_of_array(v_i).sqrt(v_i) + eps))).astype(m.dtype)
                for t in (p, state["exp_avg"], state["exp_avg_sq"]):
                    t._version[0] += 1
        return loss


def sparse_sgd_(params, lr, weight_decay, momentum, maximize):
    """``p -= lr * g`` on the rows of each parameter's sparse gradient (SGD without momentum or weight decay)."""
    if weight_decay != 0 or momentum != 0:
        raise RuntimeError("SGD with sparse gradients supports neither momentum nor weight_decay in ember")
    for p in params:
        index, g = sparse_rows(p.grad)
        p._data[index] += (g * (lr if maximize else -lr)).astype(p._data.dtype)
        p._version[0] += 1


def sparse_adagrad_(p, state_sum, grad, step, lr, weight_decay, lr_decay, eps, maximize):
    """Adagrad's update of the rows of ``p`` named by its sparse gradient ``grad`` (``state_sum`` accumulates the
    squared gradients of those rows); raises PyTorch's error with weight decay."""
    if weight_decay != 0:
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    index, g = sparse_rows(grad)
    if maximize:
        g = -g
    clr = lr / (1 + (step - 1) * lr_decay)
    s = state_sum._data
    s[index] += g * g
    p._data[index] -= (clr * g / (module_of_array(s).sqrt(s[index]) + eps)).astype(p._data.dtype)
    p._version[0] += 1
    state_sum._version[0] += 1
