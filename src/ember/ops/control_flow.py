"""``torch.cond`` and ``torch.while_loop`` run eagerly: the branch or loop body is an ordinary Python call on
ember tensors, so gradients flow through whatever ops they run."""
from ._common import Tensor, function


def _truth(pred, name):
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"{name}: expected the predicate to be a tensor with a single element, got "
                               f"{list(pred.shape)}")
        return bool(pred.item())
    if not isinstance(pred, (bool, int)):
        raise RuntimeError(f"{name}: expected the predicate to be a bool or a one-element tensor, got "
                           f"{type(pred).__name__}")
    return bool(pred)


@function
def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` when ``pred`` (a bool or one-element tensor) holds, else ``false_fn(*operands)``."""
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"Expect operands to be a tuple of possibly nested dict/list/tuple that only consists "
                           f"of tensor leaves, but got {operands}.")
    return (true_fn if _truth(pred, "cond") else false_fn)(*operands)


@function
def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried_inputs = body_fn(*carried_inputs)`` while ``cond_fn(*carried_inputs)`` holds; returns the
    final carried values (a tuple)."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"carried_inputs must be a tuple or list, got {type(carried_inputs)}")
    carried = tuple(carried_inputs)
    while _truth(cond_fn(*carried), "while_loop"):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return carried
