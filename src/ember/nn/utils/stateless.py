"""functional_call: run a module with some of its parameters and buffers replaced for one call."""
import contextlib

from ..._tensor import Tensor

__all__ = ["functional_call"]


def _get_owner(module, name):
    prefix, _, attr = name.rpartition(".")
    return (module.get_submodule(prefix) if prefix else module), attr


def _tied_names(module):
    """For every parameter/buffer object, all the names it appears under (tied weights have several)."""
    groups = {}
    for name, t in module.named_parameters(remove_duplicate=False):
        groups.setdefault(id(t), []).append(name)
    for name, t in module.named_buffers(remove_duplicate=False):
        groups.setdefault(id(t), []).append(name)
    return {n: names for names in groups.values() for n in names}


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False, stack_weights=False):
    parameters_and_buffers = dict(parameters_and_buffers)
    if tie_weights:
        tied = _tied_names(module)
        for name in list(parameters_and_buffers):
            for other in tied.get(name, ()):
                if other not in parameters_and_buffers:
                    parameters_and_buffers[other] = parameters_and_buffers[name]
                elif parameters_and_buffers[other] is not parameters_and_buffers[name] and other != name:
                    raise ValueError(f"functional_call got multiple values for keys ['{name}', '{other}'], which "
                                     "are tied. Consider using tie_weights=False")
    if strict:
        names = {n for n, _ in module.named_parameters(remove_duplicate=False)} | \
                {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing = sorted(names - set(parameters_and_buffers))
        unexpected = sorted(set(parameters_and_buffers) - names)
        if missing or unexpected:
            msgs = []
            if unexpected:
                msgs.append("Unexpected key(s): {}.".format(", ".join(map(repr, unexpected))))
            if missing:
                msgs.append("Missing key(s): {}.".format(", ".join(map(repr, missing))))
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(),
                                                                                   "\n\t".join(msgs)))
    saved = []
    try:
        for name, value in parameters_and_buffers.items():
            owner, attr = _get_owner(module, name)
            if attr in owner._parameters:
                saved.append((owner._parameters, attr, owner._parameters[attr]))
                owner._parameters[attr] = value
            elif attr in owner._buffers:
                saved.append((owner._buffers, attr, owner._buffers[attr]))
                owner._buffers[attr] = value
            else:
                had = attr in owner.__dict__
                saved.append((owner.__dict__, attr, owner.__dict__[attr] if had else _MISSING))
                owner.__dict__[attr] = value
        yield
    finally:
        for store, attr, old in reversed(saved):
            if old is _MISSING:
                store.pop(attr, None)
            else:
                store[attr] = old


_MISSING = object()


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """Call ``module(*args, **kwargs)`` with its parameters and buffers replaced by ``parameters_and_buffers``
    (a dict from dotted names to tensors, or a tuple of such dicts); the module is restored afterwards.

    With ``tie_weights`` a replacement for one name of a tied tensor applies to all its names; with ``strict``
    the dict must name every parameter and buffer.
    """
    if isinstance(parameters_and_buffers, tuple):
        merged = {}
        for d in parameters_and_buffers:
            for k, v in d.items():
                if k in merged:
                    raise ValueError(f"{k} appeared in multiple dictionaries; behavior of functional call is "
                                     "ambiguous")
                merged[k] = v
        parameters_and_buffers = merged
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)
