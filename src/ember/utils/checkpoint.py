"""Activation checkpointing (``torch.utils.checkpoint``): trade compute for memory.

``checkpoint(fn, *args)`` returns ``fn(*args)`` but keeps none of the intermediate tensors that
backward would need; backward runs ``fn`` again (with the random state of the first run, so dropout
draws the same masks) and differentiates the recomputed graph.

Two variants, as in PyTorch:

- ``use_reentrant=True``: ``CheckpointFunction``, a custom ``autograd.Function``. Forward runs under
  ``no_grad``; backward recomputes with grad enabled and calls ``ember.autograd.backward`` from inside
  the engine (a re-entrant backward), which accumulates into ``.grad`` of every leaf the function
  used, parameters included.  Only positional arguments; does not fit ``autograd.grad``.
- ``use_reentrant=False``: PyTorch builds this on saved-tensor hooks, which ember's graph does not
  have.  ember gets the same user-visible behaviour another way: the forward runs once *with* grad on
  detached copies of the arguments, only to learn which leaves the result depends on (parameters the
  function closes over included); that graph is then dropped, so its intermediates are freed before
  the next segment runs.  The outputs are attached to one graph node whose edges go to the tensor
  arguments and those leaves; its backward recomputes and returns their gradients through the
  normal engine.  So ``autograd.grad(loss, params)``, ``backward(inputs=...)``, keyword arguments,
  nested outputs and ``create_graph`` all work.  The difference from PyTorch: during the forward one
  segment's intermediates exist transiently (as they do again during its recomputation), and
  ``determinism_check`` compares the recomputed outputs' metadata rather than every saved tensor.
"""
import contextlib
import warnings

import ember
from ._graph_walk import graph_leaves, graph_node_names
from ._pytree import tree_flatten, tree_unflatten

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "check_backward_validity",
           "detach_variable", "get_device_states", "set_device_states", "noop_context_fn", "set_checkpoint_early_stop",
           "DefaultDeviceType", "set_checkpoint_debug_enabled"]

_debug_enabled = None
_early_stop = None

_DEBUG_TIP = ("\nTip: To see a more detailed error message, either pass `debug=True` to\n"
              "`torch.utils.checkpoint.checkpoint(...)` or wrap the code block\n"
              "with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to\n"
              "enable checkpoint\u2011debug mode globally.\n")


class CheckpointError(RuntimeError):
    """Raised when the recomputation does not reproduce the forward (``determinism_check``)."""


class DefaultDeviceType:
    """The device type whose random state checkpoint saves when no argument names one (``"cuda"``)."""

    _default_device_type = "cuda"

    @staticmethod
    def set_device_type(device="cuda"):
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        return DefaultDeviceType._default_device_type


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Within the block, ``enabled`` (True/False) overrides every checkpoint's ``debug``; None defers to it."""
    global _debug_enabled
    prev, _debug_enabled = _debug_enabled, enabled
    try:
        yield
    finally:
        _debug_enabled = prev


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Accepted for compatibility: ember's recomputation always runs the whole function."""
    global _early_stop
    prev, _early_stop = _early_stop, enable
    try:
        yield
    finally:
        _early_stop = prev


def noop_context_fn():
    """The default ``context_fn``: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """A tuple with each tensor of ``inputs`` detached, keeping its ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    return tuple(x.detach().requires_grad_(x.requires_grad) if isinstance(x, ember.Tensor) else x for x in inputs)


def check_backward_validity(inputs):
    """Warn (as PyTorch does) when no tensor of ``inputs`` requires grad."""
    if not any(x.requires_grad for x in inputs if isinstance(x, ember.Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


def get_device_states(*args):
    """``(devices, states)`` of per-device random generators: none, ember draws every device's numbers from the
    one CPU generator (saved by ``get_rng_state``)."""
    return [], []


def set_device_states(devices, states, *, device_type=None):
    """Restore what ``get_device_states`` returned (nothing to do in ember)."""


class _RandomState:
    """The random state at forward time, replayed around a recomputation."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.state = ember.get_rng_state() if enabled else None

    @contextlib.contextmanager
    def replay(self):
        """Run the block with the forward's random state; the surrounding state is restored after."""
        if not self.enabled:
            yield
            return
        outer = ember.get_rng_state()
        ember.set_rng_state(self.state)
        try:
            yield
        finally:
            ember.set_rng_state(outer)


class CheckpointFunction(ember.autograd.Function):
    """The re-entrant checkpoint: ``CheckpointFunction.apply(run_function, preserve_rng_state, *args)``."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng = _RandomState(preserve_rng_state)
        ctx.inputs = [None if isinstance(a, ember.Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, ember.Tensor)]
        ctx.save_for_backward(*[args[i] for i in ctx.tensor_indices])
        with ember.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with ctx.rng.replay():
            detached = detach_variable(tuple(inputs))
            with ember.enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, ember.Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, ember.Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        ember.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, ember.Tensor) else None for x in detached)


def _metadata(t):
    return {"shape": t.shape, "dtype": t.dtype, "device": t.device}


class _Recompute(ember.autograd.Function):
    """The graph node of one non-reentrant checkpoint.

    ``apply(state, *grad_inputs)`` returns the already computed outputs; ``grad_inputs`` are the tensor
    arguments and outside leaves that the outputs depend on.  Backward recomputes the function and
    differentiates the recomputed outputs with respect to them.
    """

    @staticmethod
    def forward(ctx, state, *grad_inputs):
        ctx.state = state
        ctx.save_for_backward(*state.saved_args)
        state.saved_args = None   # from now on only the ctx holds them (version-checked, freed after backward)
        return tuple(state.outputs)

    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        args = list(st.args)
        for i, t in zip(st.tensor_positions, ctx.saved_tensors):
            args[i] = t
        create_graph = ember.is_grad_enabled()
        _, recompute_ctx = st.context_fn()
        with st.rng.replay(), recompute_ctx, ember.enable_grad():
            # under create_graph the results must stay connected to the real inputs, hence the aliases
            fresh = [(a.view_as(a) if create_graph and a.requires_grad else a.detach().requires_grad_(a.requires_grad))
                     if isinstance(a, ember.Tensor) else a for a in args]
            kwargs = dict(zip(st.kwarg_names, fresh[len(fresh) - len(st.kwarg_names):]))
            outputs = st.function(*fresh[:len(fresh) - len(st.kwarg_names)], **kwargs)
        leaves, _ = tree_flatten(outputs)
        recomputed = [leaves[i] for i in st.output_positions]
        _check_determinism(st, recomputed)
        targets = [fresh[i] if i is not None else leaf for i, leaf in st.grad_targets]
        pairs = [(o, g) for o, g in zip(recomputed, grads) if g is not None and o.requires_grad]
        if not pairs:
            return (None,) * (1 + len(targets))
        result = ember.autograd.grad([o for o, _ in pairs], targets, [g for _, g in pairs], allow_unused=True,
                                     create_graph=create_graph, retain_graph=create_graph or None)
        return (None,) + tuple(result)


class _State:
    """What one non-reentrant checkpoint keeps for its recomputation."""


def _check_determinism(st, recomputed):
    if st.determinism_check == "none":
        return
    bad = [(i, m, _metadata(t)) for i, (m, t) in enumerate(zip(st.metadata, recomputed)) if m != _metadata(t)]
    if len(recomputed) != len(st.metadata) or bad:
        lines = "".join(f"tensor at position {i}:\nsaved metadata: {m}\nrecomputed metadata: {r}\n" for i, m, r in bad)
        msg = ("torch.utils.checkpoint: Recomputed values for the following tensors have different metadata than "
               f"during the forward pass.\n{lines}.\n")
        if st.debug:
            msg += ("\nOperations recorded during the original forward:\n" + "\n".join(st.forward_ops) +
                    "\n\nOperations recorded during recomputation:\n" + "\n".join(graph_node_names(recomputed)) + "\n")
        else:
            msg += _DEBUG_TIP
        raise CheckpointError(msg)


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, debug, args, kwargs):
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    forward_ctx, _ = context_fn()
    if not ember.is_grad_enabled():
        with forward_ctx:
            return function(*args, **kwargs)
    all_args = list(args) + list(kwargs.values())
    st = _State()
    st.rng = _RandomState(preserve_rng_state)
    copies = [a.detach().requires_grad_(a.requires_grad) if isinstance(a, ember.Tensor) else a for a in all_args]
    with forward_ctx:
        outputs = function(*copies[:len(args)], **dict(zip(kwargs, copies[len(args):])))
    leaves, spec = tree_flatten(outputs)
    positions = [i for i, x in enumerate(leaves) if isinstance(x, ember.Tensor) and x.requires_grad]
    differentiable = [leaves[i] for i in positions]
    by_id = {id(c): i for i, c in enumerate(copies) if isinstance(c, ember.Tensor)}
    st.grad_targets = [(by_id.get(id(leaf)), None if id(leaf) in by_id else leaf)
                       for leaf in graph_leaves(differentiable)]
    if not st.grad_targets:
        return outputs
    st.function, st.context_fn, st.kwarg_names = function, context_fn, list(kwargs)
    st.determinism_check, st.debug = determinism_check, (_debug_enabled if _debug_enabled is not None else debug)
    st.forward_ops = graph_node_names(differentiable) if st.debug else ()
    st.metadata = [_metadata(t) for t in differentiable]
    st.output_positions = positions
    st.tensor_positions = [i for i, a in enumerate(all_args) if isinstance(a, ember.Tensor)]
    st.args = [None if isinstance(a, ember.Tensor) else a for a in all_args]
    st.saved_args = [all_args[i] for i in st.tensor_positions]
    st.outputs = [t.detach() for t in differentiable]
    for i in positions:
        leaves[i] = None
    del outputs, differentiable, copies   # drop the recorded graph: its intermediates are freed here
    grad_inputs = [all_args[i] if i is not None else leaf for i, leaf in st.grad_targets]
    attached = _Recompute.apply(st, *grad_inputs)
    st.outputs = None
    for i, t in zip(positions, attached):
        leaves[i] = t
    return tree_unflatten(leaves, spec)


_REENTRANT_WARNING = ("the use_reentrant parameter should be passed explicitly. {when} use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, you can pass "
                      "use_reentrant=True. Refer to docs for more details on the differences between the two variants.")


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediates; recompute them in backward.

    Args:
        function: what to run (a module or any callable).
        *args: its positional arguments.
        use_reentrant: which variant (see the module docstring); not passing it warns as PyTorch 2.13
            does and uses the re-entrant one.
        context_fn: returns two context managers, entered around the forward and the recomputation
            (non-reentrant only).
        determinism_check: ``"default"`` checks that the recomputed outputs have the forward's shapes,
            dtypes and devices; ``"none"`` skips it.
        debug: add the recorded operations to a determinism error (non-reentrant only).
        early_stop: accepted for compatibility; the recomputation always runs the whole function.
        preserve_rng_state (keyword, default True): replay the forward's random state in the
            recomputation, so dropout masks match.
        **kwargs: keyword arguments of ``function`` (non-reentrant only).

    Returns:
        What ``function`` returns.
    """
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: " + _REENTRANT_WARNING.format(
            when="Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception."),
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, debug, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list or ``nn.Sequential``) in order, checkpointing all but the last of ``segments``
    equal chunks.

    Args:
        functions: the callables, applied one after another to ``input``.
        segments: how many chunks to split them into.
        input: the first function's input.
        use_reentrant: as for ``checkpoint``.
        preserve_rng_state (keyword, default True): as for ``checkpoint``.

    Returns:
        The output of the last function.
    """
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: " + _REENTRANT_WARNING.format(
            when="In version 2.9 we will raise an exception if use_reentrant is not passed."), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if isinstance(functions, ember.nn.Sequential):
        functions = list(functions.children())

    def run(start, stop):
        def forward(x):
            for fn in functions[start:stop]:
                x = fn(x)
            return x
        return forward

    size = len(functions) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end, len(functions))(input)
