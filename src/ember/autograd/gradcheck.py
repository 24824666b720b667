"""gradcheck / gradgradcheck: compare autograd's gradients with finite differences."""


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _tensors(xs):
    from .._tensor import Tensor
    return [x for x in xs if isinstance(x, Tensor)]


def _flat_outputs(out):
    from .._tensor import Tensor
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def _entries(t):
    """The array whose elements gradcheck perturbs: a dense tensor's data, a sparse tensor's stored values (the
    Jacobian of a sparse input is taken with respect to its specified entries, as PyTorch's ``masked=True``)."""
    return t._data.values if t._sparse else t._data


def _grad_entries(g, t):
    """Gradient ``g`` of input ``t`` as the flat float64 vector matching ``_entries(t)``."""
    import numpy
    if t._sparse:
        from ..ops.sparse_layout import values_at
        s = t._data if t._data.layout == "torch.sparse_coo" else t.to_sparse_coo()._data
        return values_at(g, s.indices, s.shape).astype(numpy.float64).reshape(-1)
    return g._data.astype(numpy.float64).reshape(-1)


def _numerical_jacobian(fn, inputs, diff_inputs, eps):
    """Central differences: one (numel_in, numel_out) matrix per (input, output) pair."""
    import numpy
    from .grad_mode import no_grad
    with no_grad():
        outs = _flat_outputs(fn(*inputs))
        jac = [[numpy.zeros((_entries(t).size, o.numel()), dtype=numpy.float64) for o in outs] for t in diff_inputs]
        for i, t in enumerate(diff_inputs):
            data = _entries(t)
            for k in range(data.size):
                idx = numpy.unravel_index(k, data.shape) if data.ndim else ()
                orig = data[idx].copy()
                data[idx] = orig + eps
                plus = [o._data.astype(numpy.float64).reshape(-1).copy() for o in _flat_outputs(fn(*inputs))]
                data[idx] = orig - eps
                minus = [o._data.astype(numpy.float64).reshape(-1).copy() for o in _flat_outputs(fn(*inputs))]
                data[idx] = orig
                for j in range(len(outs)):
                    jac[i][j][k] = (plus[j] - minus[j]) / (2 * eps)
    return jac, outs


def _analytical_jacobian(fn, inputs, diff_inputs):
    import numpy
    from . import grad as autograd_grad
    from ..ops.creation import zeros_like
    outs = _flat_outputs(fn(*inputs))
    jac = [[numpy.zeros((_entries(t).size, o.numel()), dtype=numpy.float64) for o in outs] for t in diff_inputs]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for m in range(o.numel()):
            g = zeros_like(o)
            g._data.reshape(-1)[m] = 1
            grads = autograd_grad((o,), diff_inputs, (g,), retain_graph=True, allow_unused=True)
            for i, gi in enumerate(grads):
                if gi is not None:
                    jac[i][j][:, m] = _grad_entries(gi, diff_inputs[i])
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """Check ``func``'s gradients at ``inputs`` against central finite differences.

    Inputs that require grad should be float64.  Returns True, or raises
    ``GradcheckError`` (a RuntimeError) naming the mismatching Jacobian, or
    returns False when ``raise_exception=False``.
    """
    import numpy
    from .._tensor import Tensor
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff_inputs = [t for t in _tensors(inputs) if t.requires_grad]
    if not diff_inputs:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    for t in diff_inputs:
        if t.dtype.name not in ("float64", "complex128"):
            import warnings
            warnings.warn(f"Input #0 requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ", UserWarning, stacklevel=2)
    numerical, _ = _numerical_jacobian(func, inputs, diff_inputs, eps)
    analytical = _analytical_jacobian(func, inputs, diff_inputs)
    for i in range(len(diff_inputs)):
        for j in range(len(numerical[i])):
            n, a = numerical[i][j], analytical[i][j]
            if not numpy.allclose(a, n, rtol=rtol, atol=atol):
                msg = (f"Jacobian mismatch for output {j} with respect to input {i},\n"
                       f"numerical:{n}\nanalytical:{a}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second derivatives: gradcheck of the function that maps inputs to their gradients.

    ``grad_outputs`` default to random tensors (fixed for the whole check).
    """
    from .._tensor import Tensor
    from . import grad as autograd_grad
    from ..ops.random import randn
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = _flat_outputs(func(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(randn(o.shape, dtype=o.dtype).requires_grad_() for o in outs)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    n_in = len(inputs)

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        from .grad_mode import enable_grad
        diff = [t for t in _tensors(ins) if t.requires_grad]
        with enable_grad():  # the numerical pass evaluates this under no_grad; the first grads need a graph
            outs = _flat_outputs(func(*ins))
            gs = autograd_grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
