"""Automatic differentiation: backward, grad, grad modes, custom Functions, gradcheck, anomaly detection."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled, set_multithreading_enabled, enforce_grad_layout_policy,
                        is_multithreading_enabled, is_view_replay_enabled)
from ._profiler_enums import DeviceType, ProfilerState
from ._legacy_profiler import ProfilerConfig, ProfilerEvent
from .graph import SavedTensor
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled, is_anomaly_check_nan_enabled
from .function import Function, FunctionCtx, once_differentiable, InplaceFunction, NestedIOFunction
from .variable import Variable
from .gradcheck import gradcheck, gradgradcheck
from . import graph, function, grad_mode, anomaly_mode, functional, forward_ad


def __getattr__(name):
    """``autograd.profiler``, ``ProfilerActivity`` and ``kineto_available`` load on first use (the profiler
    imports socket and json: nothing ``import ember`` needs)."""
    import importlib
    if name == "profiler":
        return importlib.import_module(".profiler", __name__)
    if name in ("ProfilerActivity", "kineto_available"):
        return getattr(importlib.import_module("ember.profiler"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["backward", "grad", "Function", "Variable", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "gradcheck", "gradgradcheck", "detect_anomaly", "set_detect_anomaly"]


def _as_tuple(x):
    from .._tensor import Tensor
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs, grads):
    """The gradients that start backward from ``outputs``: ``grads`` checked against them (one per output; extra
    ones are ignored, as PyTorch does), a missing one made as ones for a real scalar output, and each cast to its
    output's dtype."""
    from .._tensor import Tensor
    from ..ops.creation import ones_like
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if out._requires_grad and out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{out.dtype}")
            result.append(ones_like(out))
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        if g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a "
                               f"shape of {out.shape}.")
        if g.dtype.is_complex != out.dtype.is_complex:
            raise RuntimeError(f"For complex Tensors, both grad_output and output are required to have the same "
                               f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and output[{i}] "
                               f"has a dtype of {out.dtype}.")
        result.append(g if g.dtype == out.dtype else g.to(out.dtype))
    if len(result) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(result)} gradients")
    return result


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate into ``.grad`` of the graph leaves the gradient of ``tensors`` (weighted by ``grad_tensors``).

    Args:
        tensors: tensor(s) to differentiate.
        grad_tensors: the gradient w.r.t. each tensor (None for scalars).
        retain_graph: keep the graph after this call (default: ``create_graph``).
        create_graph: record the backward pass for higher-order derivatives.
        inputs: when given, accumulate only into these tensors.
    """
    from .engine import run_backward
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    for t in tensors:
        if not t._requires_grad or (t._volatile and t._grad_fn is None):
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        import warnings
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter "
                      "and its gradient which can cause a memory leak. We recommend using autograd.grad when creating "
                      "the graph to avoid this. If you have to use this function, make sure to reset the .grad fields "
                      "of your parameters to None after use to break the cycle and avoid the leak.", UserWarning,
                      stacklevel=3)
    grads = _make_grads(tensors, grads)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    captured = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)
    if inputs is not None:
        # non-leaf inputs get their gradient in .grad too (leaves were handled by the engine)
        for t, g in zip(inputs, captured):
            if t._grad_fn is not None and g is not None:
                g = g if create_graph else g.detach().clone()
                t._grad = g if t._grad is None else t._grad + g


def _in_grad_dtype(grad, input):
    """``grad`` cast to the ``grad_dtype`` set on the leaf ``input`` (unset or None: as it is), as ``.grad`` gets."""
    dtype = input.__dict__.get("_grad_dtype")
    return grad if grad is None or dtype is None or grad.dtype is dtype else grad.to(dtype)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` w.r.t. ``inputs`` (a tuple), without touching ``.grad``.

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) to differentiate with respect to.
        grad_outputs: the gradient w.r.t. each output (None for scalars).
        retain_graph: keep the graph (default: ``create_graph``).
        create_graph: make the result differentiable (higher-order derivatives).
        allow_unused: return None (or zeros with ``materialize_grads``) for inputs not in the graph
            instead of raising.
    """
    from .engine import run_backward
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    grads = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    for t in outputs:
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    for t in inputs_t:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grads)
    result = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs_t, accumulate=False,
                          allow_unused=allow_unused)
    result = tuple(_in_grad_dtype(r, i) for r, i in zip(result, inputs_t))
    if materialize_grads:
        from ..ops.creation import zeros_like
        result = tuple(zeros_like(i) if r is None else r for r, i in zip(result, inputs_t))
    return result
