"""Custom autograd functions: subclass ``Function`` with static ``forward`` and ``backward``."""
import functools

from ._checks import python_type_name
from .grad_mode import GradMode, no_grad
from .graph import Node, edge_of, next_order


class FunctionCtx:
    """What ``forward`` receives as ``ctx``: a place to save tensors and flags for ``backward``."""

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for backward; read them back as ``ctx.saved_tensors``."""
        from .._tensor import Tensor
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument 0 is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def mark_dirty(self, *tensors):
        """Declare inputs that forward modified in place."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """Whether missing output gradients reach backward as zeros (True, default) or None."""
        self.materialize_grads = value

    @property
    def saved_variables(self):
        """Old name of ``saved_tensors`` (deprecated, as in PyTorch)."""
        import warnings
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2)
        return self.saved_tensors


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of one call of a custom Function; it is also that call's ``ctx``."""

    _user_defined = True

    materialize_grads = True
    _to_save = ()
    _dirty = ()
    _non_differentiable = ()
    _forward_cls = None

    def __init__(self):
        self._edges = ()

    def backward(self, *grads):
        if self.materialize_grads:
            from ..ops.creation import zeros
            grads = tuple(zeros(shape, dtype=dt) if g is None else g
                          for g, (shape, dt) in zip(grads, self._output_meta))
        result = self._forward_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        is_tensor = self._arg_is_tensor   # one flag per forward argument; edges exist for tensors only
        n = len(is_tensor)
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                                   f"(expected {n}, got {len(result)})")
        from .._tensor import Tensor
        grads = []
        for i, (r, t) in enumerate(zip(result, is_tensor)):
            if not t:
                if r is not None:
                    raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                       f"{i + 1}, but the corresponding forward input was not a Variable")
            elif r is None or isinstance(r, Tensor):
                grads.append(r)
            else:
                raise RuntimeError(f"expected Variable or None (got {python_type_name(r)})")
        return tuple(grads)

    @property
    def needs_input_grad(self):
        return self._needs_input_grad

    def apply(self, *grads):
        return self.backward(*grads)


class Function:
    """Base class of custom differentiable operations.

    Define ``forward(ctx, *args)`` (or ``forward(*args)`` plus
    ``setup_context(ctx, inputs, output)``) and ``backward(ctx, *grad_outputs)``
    returning one gradient (or None) per forward argument, as static methods;
    call ``MyFunction.apply(*args)``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(cls.__name__ + "Backward", (BackwardCFunction,), {"_forward_cls": cls})

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        return _NO_SETUP

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor, _make
        ctx = cls._backward_cls()
        tensor_args = [a if isinstance(a, Tensor) else None for a in args]
        ctx._needs_input_grad = tuple(t is not None and t._requires_grad for t in tensor_args)
        record = GradMode.enabled and any(ctx._needs_input_grad)
        separate_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate_setup:
                output = cls.forward(*args, **kwargs)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if separate_setup:
            cls.setup_context(ctx, args, output)
        for t in ctx._dirty:   # modified in place by forward: a new version, and not allowed on a grad leaf
            if record and t._requires_grad and t._grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
            t._version[0] += 1
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        dirty = {id(t) for t in ctx._dirty}
        non_diff = {id(t) for t in ctx._non_differentiable}
        wrapped = []
        for o in outputs:
            if isinstance(o, Tensor) and id(o) not in dirty and any(o is a for a in args):
                o = o.view_as(o) if not record else _make_alias(o)
            wrapped.append(o)
        if record:
            ctx._edges = tuple(edge_of(t) for t in tensor_args if t is not None)
            ctx._order = next_order()   # after the edges: see graph.next_order
            # what the engine checks backward's gradients against, one entry per edge (None: no gradient flows)
            ctx._input_meta = tuple((tuple(t.shape), t.dtype, t.device) if t._requires_grad else None
                                    for t in tensor_args if t is not None)
            ctx._arg_is_tensor = tuple(t is not None for t in tensor_args)
            ctx._num_outputs = len(wrapped)
            ctx._output_meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else ((), None) for o in wrapped]
            for nr, o in enumerate(wrapped):
                if not isinstance(o, Tensor) or id(o) in non_diff:
                    continue
                if not o.dtype.is_floating_point and not o.dtype.is_complex:
                    continue
                o._grad_fn = ctx
                o._requires_grad = True
                if nr:
                    o.__dict__["_output_nr"] = nr
        if ctx._to_save:
            ctx.save(*ctx._to_save)
        return wrapped[0] if single else tuple(wrapped)

    @property
    def saved_tensors(self):
        raise RuntimeError("saved_tensors is only available on ctx inside a custom Function")


_NO_SETUP = object()


def _make_alias(t):
    from .._tensor import _make_view
    return _make_view(t, t._data)


class DelayedError(Node):
    """The node put on the results of a ``once_differentiable`` backward run under create_graph: differentiating
    through it raises, as in PyTorch."""

    def name(self):
        return "torch::autograd::Error"

    def backward(self, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def once_differentiable(fn):
    """Decorate a Function's ``backward`` that cannot itself be differentiated: it runs without a graph, and when
    a graph is being built (``create_graph=True``) its results carry a node that raises on a second differentiation."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not GradMode.enabled:
            return outputs
        from .._tensor import Tensor, _make
        grads_needing = tuple(a for a in args if isinstance(a, Tensor) and a._requires_grad)
        if not grads_needing:
            return outputs
        single = not isinstance(outputs, tuple)
        results = (outputs,) if single else outputs
        wrapped = tuple(_make(r._data) if isinstance(r, Tensor) else r for r in results)
        from ..ops._record import record
        record(tuple(w for w in wrapped if isinstance(w, Tensor)), DelayedError, grads_needing)
        return wrapped[0] if single else wrapped
    return wrapper


class InplaceFunction(Function):
    """A Function that may work in place (kept for old code)."""

    def __init__(self, inplace=False):
        self.inplace = inplace


class NestedIOFunction(Function):
    pass
