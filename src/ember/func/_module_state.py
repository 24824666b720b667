"""Modules as functions of their state: ``functional_call`` and ``stack_module_state`` (model ensembling)."""
import ember
from ..nn.utils.stateless import functional_call as _stateless_call

__all__ = ["functional_call", "stack_module_state"]


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """Call ``module`` with its parameters and buffers replaced for this call.

    Args:
        module: the module to call.
        parameter_and_buffer_dicts: a dict from dotted names to tensors, or a list/tuple of such dicts
            (a name may appear in only one).
        args: a positional argument, or a tuple of them.
        kwargs: keyword arguments.
        tie_weights: a replacement for one name of tied weights applies to all of them.
        strict: the names must match the module's parameters and buffers exactly.

    Returns:
        What ``module`` returns.
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        merged = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        merged = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    return _stateless_call(module, merged, args, kwargs, tie_weights=tie_weights, strict=strict)


def _stacked(tensors, name):
    grads = {t.requires_grad for t in tensors}
    if len(grads) > 1:
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    out = ember.stack(tensors)
    return out.detach().requires_grad_() if grads == {True} else out


def stack_module_state(models):
    """Stack the parameters and buffers of same-class ``models`` along a new leading dim.

    Args:
        models: a list of modules of one class, all in training or all in eval mode.

    Returns:
        ``(params, buffers)``: dicts from names to stacked tensors (parameters are new leaves that
        require grad), ready for ``vmap`` over ``functional_call``.
    """
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: _stacked([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: _stacked([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers
