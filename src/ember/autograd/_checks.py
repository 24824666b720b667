"""Checks on what user code hands back to the engine: custom Function gradients and hook results.

Built-in nodes are trusted and never pass through here.  The messages and
exception types are PyTorch's, so a bad gradient fails at the node or hook
that made it, not later in ``.grad`` or an optimizer step.
"""


def python_type_name(obj):
    """The type name PyTorch's messages use: ``int``, ``list``, ``numpy.ndarray`` (module-qualified for types
    defined in C outside the builtins, bare for classes defined in Python)."""
    cls = type(obj)
    heap_type = cls.__flags__ & (1 << 9)   # Py_TPFLAGS_HEAPTYPE: a class statement made it
    if heap_type or cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


def validate_function_outputs(node, grads):
    """Check the gradients ``grads`` that custom Function node ``node`` returned, one per edge, against its
    inputs' forward metadata, as PyTorch's engine does.

    A gradient whose shape the input broadcasts to is summed down to the input's shape; a gradient of another
    dtype is cast to the input's dtype (a complex gradient of a real input is refused); a 0-d gradient on
    another device is moved, any other on another device is refused.

    Returns:
        the gradients, corrected, as a tuple.
    Raises:
        RuntimeError: "Function <name> returned an invalid gradient at index <i> - ..." for a gradient whose
            shape is not compatible or whose device differs.
    """
    out = list(grads)
    for i, (g, meta) in enumerate(zip(out, node._input_meta)):
        if g is None or meta is None:
            continue
        shape, dtype, device = meta
        gshape = tuple(g.shape)
        if gshape != shape:
            if not _expandable(shape, gshape):
                raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - got "
                                   f"{list(gshape)} but expected shape compatible with {list(shape)}")
            from ..ops._common import unbroadcast
            g = unbroadcast(g, shape)
        if g.dtype != dtype:
            if not g.dtype.is_floating_point and g.dtype.is_complex != dtype.is_complex:
                raise RuntimeError("Expected isFloatingType(grad.scalar_type()) || (input_is_complex == "
                                   "grad_is_complex) to be true, but got false.  (Could this error message be "
                                   "improved?  If so, please report an enhancement request to PyTorch.)")
            g = g.to(dtype)
        if g.device != device:
            if g.dim() != 0:
                raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - expected "
                                   f"device {device} but got {g.device}")
            g = g.to(device)
        out[i] = g
    return tuple(out)


def _expandable(shape, target):
    """Whether a tensor of ``shape`` broadcasts to ``target`` (so a gradient of ``target`` sums back to it)."""
    if len(shape) > len(target):
        return False
    for s, t in zip(reversed(shape), reversed(target)):
        if s != t and s != 1:
            return False
    return True


def check_hook_result(hook, original, result):
    """Check one value a hook returned in place of gradient ``original`` (None: keep the original).

    Raises:
        TypeError: ``result`` is not a tensor.
        RuntimeError: it replaces a None gradient, or changes the dtype, the device type or the size.
    """
    if result is None:
        return
    if original is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    from .._tensor import Tensor
    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{python_type_name(result)}'")
    if result.dtype != original.dtype or result.device.type != original.device.type:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was {_legacy_type(original)} "
                           f"got {_legacy_type(result)})")
    if result.shape != original.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")


def check_hook_results(hook, originals, results):
    """Check the tuple a node pre- or post-hook returned in place of the gradients ``originals``.

    Raises:
        TypeError: ``results`` is not a tuple, or one of its entries is neither a tensor nor None.
        RuntimeError: a different number of values, or an entry that fails ``check_hook_result``.
    """
    if type(results) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{python_type_name(results)}'")
    if len(results) != len(originals):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of values (got "
                           f"{len(results)}, but expected {len(originals)})")
    for original, result in zip(originals, results):
        check_hook_result(hook, original, result)


def _hook_name(hook):
    name = getattr(hook, "__name__", None)
    return name if isinstance(name, str) else "<unknown>"


def _legacy_type(t):
    """'torch.FloatTensor', or 'torch.cuda.FloatTensor' for a tensor on a CUDA device."""
    name = t.type()
    kind = t.device.type
    return name if kind == "cpu" else name.replace("torch.", f"torch.{kind}.", 1)
