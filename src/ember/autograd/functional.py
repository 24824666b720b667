"""Higher-level derivatives of whole functions (``torch.autograd.functional``).

Everything is built on ``ember.autograd.grad``: a vector-Jacobian product is one backward pass,
a Jacobian is one backward pass per output element, and the forward-mode products (``jvp``,
``hvp``) use the double-backward trick: the vjp ``u -> J^T u`` is linear in ``u``, so
differentiating it with respect to ``u`` (with a dummy ``u`` that requires grad) against ``v``
gives ``J v``.

Each public function takes ``inputs`` as a Tensor or a tuple of Tensors and returns results of the
matching structure.  ``create_graph=True`` keeps the results differentiable; ``strict=True`` raises
when a result is independent of an input instead of returning zeros.
"""
import ember as _ember
from .grad_mode import enable_grad, set_grad_enabled, is_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(inp, arg_name=None, fn_name=None):
    """``(was_tuple, tuple_of_tensors)``; non-tensor entries raise PyTorch's TypeError."""
    if arg_name is None and fn_name is None:
        return isinstance(inp, tuple), inp if isinstance(inp, tuple) else (inp,)
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, _ember.Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"the {where} has type {type(el)}.")
    return is_tuple, items


def _unpack(res, to_unpack):
    """Undo ``_as_tuple``: ``to_unpack`` is one flag, or ``(outer, inner)`` flags for nested results."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
        return res
    return res if to_unpack else res[0]


def _prepare(inputs, create_graph, need_graph):
    """Fresh tensor objects for the inputs, so captured originals and arguments stay distinguishable.

    With ``create_graph`` an input that requires grad is aliased differentiably (``view_as``) so
    results stay connected to it; otherwise it is detached.
    """
    return tuple(inp.view_as(inp) if create_graph and inp.requires_grad
                 else inp.detach().requires_grad_(need_graph) for inp in inputs)


def _finish(tensors, create_graph):
    """Drop the history of results unless the caller asked for a graph (nested tuples too)."""
    if create_graph:
        return tensors
    return tuple(t.detach() if isinstance(t, _ember.Tensor) else _finish(t, False) for t in tensors)


def _check_v(v, other, other_is_tuple):
    if len(other) != len(v):
        if other_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_o) in enumerate(zip(v, other)):
        if el_v.size() != el_o.size():
            where = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {el_o.size()} but got {el_v.size()}.")


_REQUIRES_GRAD_MSG = {
    "hessian": ("The hessian of the user-provided function with respect to input {i} is independent of the input. "
                "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
                "and that the hessian depends on the inputs."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided function with respect "
                 "to input {i} is independent of the input. This is not allowed in strict mode. You should ensure "
                 "that your function is twice differentiable and that the jacobian depends on the inputs (this "
                 "would be violated by a linear function for example)."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of the user-provided "
                    "function. This is not allowed in strict mode."),
    "outputs": ("Output {i} of the user-provided function does not require gradients. The outputs must be computed "
                "in a differentiable manner from the input when running in strict mode."),
}


def _check_requires_grad(tensors, kind, strict):
    """In strict mode, every tensor of ``tensors`` must exist and require grad."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_REQUIRES_GRAD_MSG[kind].format(i=i))


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` that skips outputs without a graph and gives None for unreachable inputs."""
    from . import grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return grad(outs, inputs, gouts, allow_unused=True, create_graph=create_graph, retain_graph=retain_graph)


_ZERO_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
                  "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def _zeros_for_none(grads, refs, strict, create_graph, stage):
    """Replace missing gradients by zeros shaped like ``refs`` (or raise in strict mode)."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_MSG[stage].format(i=i))
            g = _ember.zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _prep_v(v, items, fn_name, what, is_tuple, create_graph):
    """Validate ``v`` against ``items`` (the outputs or inputs it pairs with); ``v=None`` needs one element."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _prepare(v, create_graph=create_graph, need_graph=False)
        _check_v(v, items, is_tuple)
        return v
    if len(items) != 1 or items[0].nelement() != 1:
        raise RuntimeError(f"The vector v can only be None if {what} a single Tensor with a single element.")
    return None


_FN_RETURNS = "the user-provided function returns"
_INPUT_IS = "the input to the user-provided function is"


def _call(func, inputs, fn_name, strict):
    """Run ``func(*inputs)``; ``(outputs_were_tuple, outputs)`` after the strict-mode output check."""
    is_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_tuple, outputs


def _scalar_output(outputs, is_tuple, fn_name):
    if is_tuple or not isinstance(outputs[0], _ember.Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Args:
        func: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like the outputs; may be None when ``func`` returns a one-element Tensor.
        create_graph: make the results differentiable.
        strict: raise when an output does not depend on an input instead of returning zeros.

    Returns:
        ``(func_output, vjp)``; ``vjp`` is shaped like ``inputs``.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _prep_v(v, outputs, "vjp", _FN_RETURNS, outputs_tuple, create_graph)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _zeros_for_none(_grad(outputs, inputs, v, create_graph), inputs, strict, create_graph, "back")
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(grads, create_graph),
                                                                           inputs_tuple)


def _vjp_graph(outputs, inputs, strict):
    """The vjp ``u -> J^T u`` as a graph: ``(dummies u, grads J^T u)``, ready to differentiate against u."""
    with enable_grad():
        dummies = tuple(_ember.zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _grad(outputs, inputs, dummies, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    return dummies, grad_inputs


def _jvp_from_graph(dummies, grad_inputs, outputs, v, create_graph, strict):
    """``J v``: the vjp is linear in u, so its derivative with respect to u against ``v`` is ``J v``."""
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _grad(grad_inputs, dummies, v, create_graph, retain_graph=True)
        return _zeros_for_none(res, outputs, strict, create_graph, "back_trick")


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (by the double-backward trick).

    Args:
        func: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like ``inputs``; may be None when the input is a one-element Tensor.
        create_graph: make the results differentiable.
        strict: raise when an output does not depend on an input instead of returning zeros.

    Returns:
        ``(func_output, jvp)``; ``jvp`` is shaped like the outputs.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prep_v(v, inputs, "jvp", _INPUT_IS, inputs_tuple, create_graph)
        outputs_tuple, outputs = _call(func, inputs, "jvp", strict)
    dummies, grad_inputs = _vjp_graph(outputs, inputs, strict)
    res = _jvp_from_graph(dummies, grad_inputs, outputs, v, create_graph, strict)
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(res, create_graph), outputs_tuple)


def _reverse_jacobian(outputs, inputs, create_graph, strict):
    """Rows of each ``d outputs[i] / d inputs[j]`` by one backward pass per output element."""
    jac = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        flat = out.reshape(-1)
        for k in range(out.nelement()):
            grads = _grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
            for j, (g, inp) in enumerate(zip(grads, inputs)):
                if g is None:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                           "This is not allowed in strict mode.")
                    g = _ember.zeros_like(inp)
                elif strict and create_graph and not g.requires_grad:
                    raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                       "This is not allowed in strict mode when create_graph=True.")
                rows[j].append(g)
        jac.append(tuple(_ember.stack(r, 0).view(out.size() + inp.size()) if r else
                         inp.new_zeros(out.size() + inp.size())
                         for r, inp in zip(rows, inputs)))
    return tuple(jac)


def _forward_jacobian(func, inputs):
    """Columns of each Jacobian block by one jvp per input element (the forward-mode strategy)."""
    with enable_grad():
        inputs = _prepare(inputs, False, need_graph=True)
        outputs_tuple, outputs = _call(func, inputs, "jacobian", False)
    dummies, grad_inputs = _vjp_graph(outputs, inputs, False)
    cols = [[[] for _ in inputs] for _ in outputs]
    for j, inp in enumerate(inputs):
        for k in range(inp.nelement()):
            v = [_ember.zeros_like(t) for t in inputs]
            v[j].view(-1)[k] = 1
            for i, col in enumerate(_jvp_from_graph(dummies, grad_inputs, outputs, tuple(v), False, False)):
                cols[i][j].append(col.reshape(-1))
    jac = tuple(tuple((_ember.stack(cols[i][j], -1) if cols[i][j] else out.new_zeros((out.nelement(), 0))).reshape(
        out.shape + inp.shape) for j, inp in enumerate(inputs)) for i, out in enumerate(outputs))
    return outputs_tuple, jac


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    Args:
        func: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the result differentiable.
        strict: raise when an output does not depend on an input instead of returning zeros.
        vectorize: accepted for PyTorch compatibility; the result is the same either way (ember computes
            the rows one backward pass at a time).
        strategy: ``"reverse-mode"`` (one backward pass per output element) or ``"forward-mode"``
            (one jvp per input element; needs ``vectorize=True`` as in PyTorch).

    Returns:
        For output ``i`` and input ``j`` a Tensor of shape ``output_i.shape + input_j.shape``, nested as
        the tuple structure of outputs then inputs.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` and "
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
                               'are not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
        outputs_tuple, jac = _forward_jacobian(func, inputs)
        return _unpack(_finish(jac, False), (outputs_tuple, inputs_tuple))
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _call(func, inputs, "jacobian", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        jac = _reverse_jacobian(outputs, inputs, create_graph, strict and not vectorize)
    return _unpack(_finish(jac, create_graph), (outputs_tuple, inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs`` (the Jacobian of its gradient).

    Args:
        func: a function of Tensors returning a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        create_graph, strict, vectorize: as for ``jacobian``.
        outer_jacobian_strategy: the ``strategy`` of the outer Jacobian.

    Returns:
        For inputs ``i`` and ``j`` a Tensor of shape ``input_i.shape + input_j.shape``, nested as the
        tuple structure of the inputs twice.
    """
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp):
        outputs_tuple, outputs = _call(func, inp, "hessian", strict)
        _scalar_output(outputs, outputs_tuple, "hessian")
        return outputs[0].squeeze()

    def gradient(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _unpack(res, (inputs_tuple, inputs_tuple))


def _hessian_setup(func, inputs, v, create_graph, strict, fn_name):
    """Shared start of vhp/hvp: prepared inputs, validated v, outputs and the gradient with its graph."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _prepare(inputs, create_graph, need_graph=True)
    v = _prep_v(v, inputs, fn_name, _INPUT_IS, inputs_tuple, create_graph)
    outputs_tuple, outputs = _call(func, inputs, fn_name, strict)
    _scalar_output(outputs, outputs_tuple, fn_name)
    jac = _grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return inputs_tuple, inputs, v, outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Hessian product ``v^T H`` of the scalar function ``func`` at ``inputs``.

    Args:
        func: a function of Tensors returning a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like ``inputs``; may be None when the input is a one-element Tensor.
        create_graph, strict: as for ``vjp``.

    Returns:
        ``(func_output, vhp)``; ``vhp`` is shaped like ``inputs``.
    """
    with enable_grad():
        inputs_tuple, inputs, v, outputs_tuple, outputs, jac = _hessian_setup(func, inputs, v, create_graph, strict,
                                                                              "vhp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _zeros_for_none(_grad(jac, inputs, v, create_graph), inputs, strict, create_graph, "double_back")
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(res, create_graph), inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Hessian-vector product ``H v`` of the scalar function ``func`` at ``inputs`` (double-backward trick).

    Args:
        func: a function of Tensors returning a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like ``inputs``; may be None when the input is a one-element Tensor.
        create_graph, strict: as for ``vjp``.

    Returns:
        ``(func_output, hvp)``; ``hvp`` is shaped like ``inputs``.
    """
    with enable_grad():
        inputs_tuple, inputs, v, outputs_tuple, outputs, jac = _hessian_setup(func, inputs, v, create_graph, strict,
                                                                              "hvp")
        dummies = tuple(_ember.zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _grad(jac, inputs, dummies, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _zeros_for_none(_grad(double_back, dummies, v, create_graph), inputs, strict, create_graph,
                              "double_back_trick")
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(res, create_graph), inputs_tuple)
