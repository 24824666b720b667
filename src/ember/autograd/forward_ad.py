"""``torch.autograd.forward_ad``: dual tensors for forward-mode AD (Jacobian-vector products).

Inside ``with dual_level():``, ``make_dual(x, v)`` gives a tensor carrying the tangent ``v``; every tensor
computed from it carries ``J v`` (J the Jacobian of that computation), which ``unpack_dual(y)`` returns as
``(primal, tangent)``.  The tangents are exact, obtained as ``func.jvp`` obtains them: a dual is a tensor that
records the backward graph, and ``unpack_dual`` differentiates the vector-Jacobian product ``u -> J^T u``
(linear in ``u``) against the tangents, which gives ``J v`` -- two backward passes per unpacked tensor, and
every op ember can differentiate in reverse works forward.

Differences from PyTorch's per-op forward formulas that follow from this: tensors computed from duals require
grad and show a ``grad_fn``, the computation must run with grad mode on (not under ``no_grad``), and in-place
edits of duals are tracked as reverse-mode tracks them.  As in PyTorch only one level can be active at a time.
"""
from typing import NamedTuple

from .grad_mode import enable_grad

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

_LEVELS = []     # the active levels, innermost last; a level is {id(dual): (dual, tangent)}


class UnpackedDualTensor(NamedTuple):
    """``(primal, tangent)`` of a tensor at a forward AD level; ``tangent`` is None for a tensor without one."""

    primal: object
    tangent: object


def enter_dual_level():
    """Open a forward AD level (the default of the other functions here) and return its number."""
    if _LEVELS:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _LEVELS.append({})
    return len(_LEVELS) - 1


def exit_dual_level(*, level=None):
    """Close the innermost level; the tangents of its duals are dropped."""
    current = len(_LEVELS) - 1
    if level is None:
        level = current
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != current:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    _LEVELS.pop()


def _level(level):
    return len(_LEVELS) - 1 if level is None else level


def make_dual(tensor, tangent, *, level=None):
    """A dual tensor aliasing ``tensor`` (same memory) with ``tangent`` attached at ``level``.

    Args:
        tensor: the primal value (floating or complex).
        tangent: its direction, of the same shape (floating or complex).
        level: the forward AD level (default: the current one).

    Returns:
        The dual tensor; gradients reach ``tensor`` through it in reverse mode too.
    """
    level = _level(level)
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    with enable_grad():
        dual = tensor.view_as(tensor) if tensor.requires_grad else tensor.detach().requires_grad_(True)
    _LEVELS[level][id(dual)] = (dual, tangent)
    return dual


def _tangent(tensor, duals):
    """``J v`` of ``tensor`` with respect to the level's duals, or None when it depends on none of them."""
    from . import grad
    from ..ops.creation import zeros_like
    pairs = list(duals.values())
    with enable_grad():
        u = zeros_like(tensor, requires_grad=True)
        vjps = grad([tensor], [d for d, _ in pairs], [u], allow_unused=True, create_graph=True, retain_graph=True)
        terms = [(g * t).sum() for g, (_, t) in zip(vjps, pairs) if g is not None]
        if not terms:
            return None
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        if not total.requires_grad:         # the map u -> J^T u is constant zero: J v is zero
            return zeros_like(tensor)
        # retain: the walk reaches the forward graph (the vjps use its tensors), which stays for backward()
        (jv,) = grad([total], [u], allow_unused=True, retain_graph=True)
    return zeros_like(tensor) if jv is None else jv


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor`` at ``level`` (default: the current one).

    ``tangent`` is the tangent given to ``make_dual`` (the same object) for a dual made there, ``J v`` for a
    tensor computed from duals, and None outside a level or for a tensor that depends on no dual.
    ``primal`` is ``tensor``'s value without the tangent (connected to the graph when ``tensor`` depends on
    tensors that require grad outside forward AD).
    """
    level = _level(level)
    if level < 0 or not tensor.requires_grad:
        return UnpackedDualTensor(tensor, None)
    duals = _LEVELS[level]
    own = duals.get(id(tensor))
    if own is not None and own[0] is tensor:
        tangent = own[1]
    else:
        if not duals:
            return UnpackedDualTensor(tensor, None)
        tangent = _tangent(tensor, duals)
        if tangent is None:
            return UnpackedDualTensor(tensor, None)
    from ..utils._graph_walk import graph_leaves
    stand_ins = {id(d) for d, _ in duals.values()}
    outside = any(id(leaf) not in stand_ins for leaf in graph_leaves([tensor]))
    return UnpackedDualTensor(tensor.view_as(tensor) if outside else tensor.detach(), tangent)


class dual_level:
    """Context manager (and decorator) in which forward AD computations run: enters a level, exits it after.

    ``with dual_level():`` -- the tangents of the duals made inside are dropped on exit.
    """

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)
        return wrapped
