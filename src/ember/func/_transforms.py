"""The differentiation transforms of ``ember.func``: grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd,
hessian.

They are built on ``ember.autograd.grad``.  Each transform differentiates with respect to fresh
tensors standing for its arguments: a detached copy, or -- when the argument already requires grad
(an enclosing transform or an outer autograd graph is watching it) -- a differentiable alias, so the
result stays connected to that outer computation.  Inside another transform, results keep their graph
(``create_graph``) so the outer one can differentiate them; at top level they are detached unless they
depend on a tensor from outside.  ``jvp`` uses the double-vjp trick: ``u -> J^T u`` is linear in
``u``, and its vjp against the tangent is ``J v``.
"""
import functools

import ember
from ..utils._graph_walk import graph_leaves
from ..utils._pytree import tree_flatten, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian"]

_DEPTH = [0]   # how many transforms enclose the current call


class _Level:
    """The scope of one transform call: its own stand-in tensors, and whether results keep their graph."""

    def __enter__(self):
        _DEPTH[0] += 1
        self.grad_ctx = ember.enable_grad()
        self.grad_ctx.__enter__()
        self.own = set()
        return self

    def __exit__(self, *exc):
        self.grad_ctx.__exit__(*exc)
        _DEPTH[0] -= 1
        return False

    def stand_in(self, x):
        """A tensor to differentiate with respect to, standing for the argument ``x``."""
        if not isinstance(x, ember.Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        t = x.view_as(x) if x.requires_grad else x.detach().requires_grad_(True)
        self.own.add(id(t))
        return t

    def nested(self):
        return _DEPTH[0] > 1

    def keeps_graph(self, tensors):
        """Whether results must stay differentiable: nested, or connected to a tensor from outside."""
        if self.nested():
            return True
        tensors = [t for t in tensors if isinstance(t, ember.Tensor)]
        return any(id(leaf) not in self.own for leaf in graph_leaves(tensors))

    def finish(self, tree, keep):
        """``tree`` with its tensors detached unless ``keep``."""
        if keep:
            return tree
        leaves, spec = tree_flatten(tree)
        return tree_unflatten([x.detach() if isinstance(x, ember.Tensor) else x for x in leaves], spec)


def _argnums_tuple(argnums, n):
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(a, int) for a in argnums):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        nums = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
    return tuple(a % n for a in nums)


def _stand_in_args(level, args, argnums):
    """``(new_args, diff_trees, diff_leaves)``: args with the differentiated ones replaced by stand-ins."""
    nums = _argnums_tuple(argnums, len(args))
    new_args = list(args)
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        new_args[a] = tree_unflatten([level.stand_in(x) for x in leaves], spec)
    diff = tuple(new_args[a] for a in nums)
    return new_args, (diff[0] if isinstance(argnums, int) else diff), tree_flatten(diff)[0]


def _grads(outputs, inputs, grad_outputs, create_graph, retain_graph=None):
    """``autograd.grad`` over outputs that may not require grad; missing gradients become zeros."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs or not inputs:
        return [ember.zeros_like(x) for x in inputs]
    res = ember.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True,
                              create_graph=create_graph, retain_graph=retain_graph)
    return [ember.zeros_like(x) if g is None else g for g, x in zip(res, inputs)]


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning ``(gradient, value)`` of the scalar function ``func``.

    Args:
        func: returns a one-element Tensor (with ``has_aux``: ``(that tensor, aux)``).
        argnums: which positional argument(s) to differentiate (an int or a tuple of ints); each may
            be a pytree of Tensors.
        has_aux: ``func`` also returns auxiliary data, passed through.

    Returns:
        A function giving ``(grad, value)``, or ``(grad, (value, aux))`` with ``has_aux``; ``grad`` has
        the structure of the chosen argument(s).
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _Level() as level:
            new_args, diff, diff_leaves = _stand_in_args(level, args, argnums)
            out, aux = _split_aux(func(*new_args, **kwargs), has_aux, "grad_and_value(f)(*args)")
            if not isinstance(out, ember.Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                                   f"with {out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            keep = level.keeps_graph([out])
            g = _grads([out], diff_leaves, [None], create_graph=keep)
            keep = keep or level.keeps_graph(g)
            grads = tree_unflatten(g, tree_flatten(diff)[1])
            value = (out, aux) if has_aux else out
            return level.finish(grads, keep), level.finish(value, keep)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of the scalar function ``func`` (see ``grad_and_value``).

    Returns:
        A function giving ``grad`` (or ``(grad, aux)`` with ``has_aux``).
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def _check_tensors(tree, api):
    leaves, spec = tree_flatten(tree)
    for x in leaves:
        if not isinstance(x, ember.Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(x)}")
    return leaves, spec


def vjp(func, *primals, has_aux=False):
    """``func(*primals)`` and a function computing vector-Jacobian products at ``primals``.

    Args:
        func: a function of (pytrees of) Tensors returning (a pytree of) Tensors.
        *primals: its arguments.
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, vjp_fn)`` (plus ``aux``); ``vjp_fn(cotangents)`` takes a tree shaped like ``output``
        and returns a tuple shaped like ``primals``.  It may be called many times.
    """
    with _Level() as level:
        new_args, diff, diff_leaves = _stand_in_args(level, primals, tuple(range(len(primals))) or 0)
        out, aux = _split_aux(func(*new_args), has_aux, "vjp(f, *primals)")
        out_leaves, out_spec = _check_tensors(out, "vjp(f, *primals)")
        keep = level.keeps_graph(out_leaves)
        nested = level.nested()

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        ct_leaves, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {ct_spec}, primal output: {out_spec}")
        with ember.enable_grad():
            make_graph = nested or keep if create_graph is None else create_graph
            g = _grads(out_leaves, diff_leaves, ct_leaves, create_graph=make_graph, retain_graph=True)
        grads = tree_unflatten(g, tree_flatten(diff)[1])
        return level.finish(grads, make_graph or level.keeps_graph(g))

    result = (level.finish(out, keep), vjp_fn)
    return result + (level.finish(aux, keep),) if has_aux else result


def _jvp_columns(out_leaves, diff_leaves, keep):
    """The linear map ``v -> J v`` of the traced function, as a closure over one vjp graph."""
    dummies = [ember.zeros_like(o, requires_grad=True) for o in out_leaves]
    with ember.enable_grad():
        vj = _grads(out_leaves, diff_leaves, dummies, create_graph=True, retain_graph=True)

    def apply(tangents):
        with ember.enable_grad():
            return _grads(vj, dummies, tangents, create_graph=keep, retain_graph=True)
    return apply


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``func(*primals)`` and its Jacobian-vector product with ``tangents`` (by the double-vjp trick).

    Args:
        func: a function of (pytrees of) Tensors returning (a pytree of) Tensors.
        primals: a tuple of its arguments.
        tangents: a tuple with the same structure and shapes as ``primals``.
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, jvp_out)`` (plus ``aux``); ``jvp_out`` is shaped like ``output``.
    """
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python structure. For example, "
                           f"if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    for p, t in zip(p_leaves, t_leaves):
        if isinstance(t, ember.Tensor) and not (t.is_floating_point() or t.is_complex()):
            raise ValueError(f"Expected tangent to be floating point or complex, but got: {t.dtype}")
        if isinstance(p, ember.Tensor) and isinstance(t, ember.Tensor) and p.shape != t.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                               f"Tensor, this is not supported. Tensor is of size {list(p.shape)} while the given "
                               f"forward gradient is of size {list(t.shape)}.")
    with _Level() as level:
        new_args, diff, diff_leaves = _stand_in_args(level, primals, tuple(range(len(primals))) or 0)
        out, aux = _split_aux(func(*new_args), has_aux, api)
        out_leaves, out_spec = _check_tensors(out, api)
        keep = level.keeps_graph(out_leaves) or level.keeps_graph(t_leaves)
        jv = _jvp_columns(out_leaves, diff_leaves, keep)(t_leaves)
        result = (level.finish(out, keep), level.finish(tree_unflatten(jv, out_spec), keep))
        return result + (level.finish(aux, keep),) if has_aux else result


def linearize(func, *primals):
    """``func(*primals)`` and a function computing its Jacobian-vector products at ``primals``.

    The function is traced once; each ``jvp_fn(*tangents)`` call reuses that trace (the double-vjp graph
    of ``jvp``), so many tangents cost one forward pass.

    Args:
        func: a function of (pytrees of) Tensors returning (a pytree of) Tensors.
        *primals: its arguments.

    Returns:
        ``(output, jvp_fn)``; ``jvp_fn(*tangents)`` takes tangents structured, shaped, typed and placed like
        ``primals`` and returns ``J v`` structured like ``output``.
    """
    p_leaves, p_spec = tree_flatten(primals)
    with _Level() as level:
        new_args, _, diff_leaves = _stand_in_args(level, primals, tuple(range(len(primals))) or 0)
        out = func(*new_args)
        out_leaves, out_spec = _check_tensors(out, "linearize")
        keep = level.keeps_graph(out_leaves)
        apply = _jvp_columns(out_leaves, diff_leaves, keep)
        out = level.finish(out, keep)

    def jvp_fn(*tangents):
        t_leaves, t_spec = tree_flatten(tangents)
        if t_spec != p_spec:
            raise RuntimeError(f"Expected the tangents {t_spec} to have the same argspec as the primals {p_spec}")
        for i, (t, p) in enumerate(zip(t_leaves, p_leaves)):
            for what in ("shape", "device", "dtype"):
                if getattr(t, what) != getattr(p, what):
                    raise RuntimeError(f"tangent:{i} with {what} {getattr(t, what)} in flattened pytree doesn't "
                                       f"match the {what} {getattr(p, what)} of the corresponding primal.")
        return level.finish(tree_unflatten(apply(t_leaves), out_spec), keep or level.keeps_graph(t_leaves))
    return out, jvp_fn


def _jacobian(func, argnums, has_aux, forward, api):
    """Shared body of jacrev/jacfwd: per output leaf, per differentiated leaf, ``out.shape + in.shape``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _Level() as level:
            new_args, diff, diff_leaves = _stand_in_args(level, args, argnums)
            out, aux = _split_aux(func(*new_args, **kwargs), has_aux, api)
            out_leaves, out_spec = _check_tensors(out, api)
            keep = level.keeps_graph(out_leaves)
            blocks = _forward_blocks(out_leaves, diff_leaves, keep) if forward else \
                _reverse_blocks(out_leaves, diff_leaves, keep)
            keep = keep or any(level.keeps_graph(row) for row in blocks)
            d_spec = tree_flatten(diff)[1]
            jac = tree_unflatten([tree_unflatten(row, d_spec) for row in blocks], out_spec)
            jac = level.finish(jac, keep)
            return (jac, level.finish(aux, keep)) if has_aux else jac
    return wrapper


def _reverse_blocks(out_leaves, diff_leaves, keep):
    rows = []
    for o in out_leaves:
        flat = o.reshape(-1)
        per_elem = [_grads([flat[k]], diff_leaves, [None], create_graph=keep, retain_graph=True)
                    for k in range(o.numel())]
        rows.append([(ember.stack([g[j] for g in per_elem], 0) if per_elem else x.new_zeros((0,) + tuple(x.shape)))
                     .reshape(tuple(o.shape) + tuple(x.shape)) for j, x in enumerate(diff_leaves)])
    return rows


def _forward_blocks(out_leaves, diff_leaves, keep):
    jv = _jvp_columns(out_leaves, diff_leaves, keep)
    cols = [[[] for _ in diff_leaves] for _ in out_leaves]
    for j, x in enumerate(diff_leaves):
        for k in range(x.numel()):
            tangents = [ember.zeros_like(t) for t in diff_leaves]
            tangents[j].view(-1)[k] = 1
            for i, c in enumerate(jv(tangents)):
                cols[i][j].append(c.reshape(-1))
    return [[(ember.stack(cols[i][j], -1) if cols[i][j] else o.new_zeros((o.numel(), 0)))
             .reshape(tuple(o.shape) + tuple(x.shape)) for j, x in enumerate(diff_leaves)]
            for i, o in enumerate(out_leaves)]


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of ``func`` by reverse mode (one vjp per output element).

    Args:
        func: a function of (pytrees of) Tensors returning (a pytree of) Tensors.
        argnums: the argument(s) to differentiate.
        has_aux: ``func`` returns ``(output, aux)``.
        chunk_size: accepted for compatibility (rows are computed one at a time).

    Returns:
        A function giving, for each output leaf and argument leaf, a Tensor of shape
        ``output.shape + argument.shape`` (nested: output structure, then argument structure).
    """
    return _jacobian(func, argnums, has_aux, False, "jacrev(f, ...)(*args)")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of ``func`` by forward mode (one jvp per input element).

    Args: as ``jacrev``; ``randomness`` is accepted for compatibility.

    Returns:
        As ``jacrev``.
    """
    return _jacobian(func, argnums, has_aux, True, "jacfwd(f, ...)(*args)")


def hessian(func, argnums=0):
    """A function returning the Hessian of the scalar function ``func``: ``jacfwd(jacrev(func))``.

    Returns:
        A function giving a Tensor of shape ``argument.shape + argument.shape`` (nested for pytrees
        and tuple ``argnums``).
    """
    return jacfwd(jacrev(func, argnums), argnums)
