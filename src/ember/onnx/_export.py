"""``ember.onnx.export``: trace one run of the model, lower each traced op, check and write the model."""
import contextlib
import enum
import inspect
import os
import warnings

import onnx
from onnx import helper

import ember
from . import _symbolics  # noqa: F401  (registers the symbolic functions)
from ._graph import onnx_dtype
from ._lower import Lowering, array_dtype
from ._trace import Tracer, op_table, tensors_in

DEFAULT_OPSET = 18
MIN_OPSET, MAX_OPSET = 13, 20


class TrainingMode(enum.IntEnum):
    """Which mode the model is exported in: EVAL (default), PRESERVE (as it is), TRAINING."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """How ops are exported; ember exports plain ONNX ops (ONNX) only."""
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


class _State:
    exporting = False


def is_in_onnx_export():
    """Whether an ``ember.onnx.export`` call is running (tracing the model) right now."""
    return _State.exporting


@contextlib.contextmanager
def select_model_mode_for_export(model, mode):
    """Put ``model`` in the train/eval mode ``mode`` (a TrainingMode) asks for, and restore it afterwards."""
    if not isinstance(mode, TrainingMode):
        raise TypeError(f"'mode' should be a torch.onnx.TrainingMode enum, but got '{type(mode)}'.")
    was_training = getattr(model, "training", False)
    if mode != TrainingMode.PRESERVE and hasattr(model, "train"):
        model.train(mode == TrainingMode.TRAINING)
    try:
        yield
    finally:
        if mode != TrainingMode.PRESERVE and hasattr(model, "train"):
            model.train(was_training)


class ONNXProgram:
    """What ``export(..., dynamo=True)`` returns: the exported model.

    Attributes:
        model_proto: the ``onnx.ModelProto``.
    """

    def __init__(self, model_proto):
        self.model_proto = model_proto

    def save(self, destination):
        """Write the model to ``destination`` (a path or a binary file object)."""
        _write(self.model_proto, destination)

    def __repr__(self):
        return f"ONNXProgram(\n{onnx.printer.to_text(self.model_proto.graph)}\n)"


def _write(model, f):
    data = model.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    else:
        f.write(data)


def _split_args(args, kwargs):
    if isinstance(args, ember.Tensor):
        args = (args,)
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kwargs = {**args[-1], **kwargs}
        args = args[:-1]
    return args, kwargs


def _input_names(model, args, kwargs, given):
    """Names of the flattened input tensors: ``given`` first, then the forward parameter names."""
    try:
        params = list(inspect.signature(model.forward if hasattr(model, "forward") else model).parameters)
    except (TypeError, ValueError):
        params = []
    names = []
    for i, a in enumerate(args):
        base = params[i] if i < len(params) and params[i] not in ("args", "kwargs") else f"input_{i}"
        ts = tensors_in(a)
        names += [base] if isinstance(a, ember.Tensor) else [f"{base}.{j}" for j in range(len(ts))]
    for k, a in kwargs.items():
        ts = tensors_in(a)
        names += [k] if isinstance(a, ember.Tensor) else [f"{k}.{j}" for j in range(len(ts))]
    given = list(given or [])
    return given + names[len(given):]


def _dynamic_dims(dynamic_axes, names, shapes):
    """``{value name: {axis: dim name}}`` from ``dynamic_axes`` (dicts or lists of axes)."""
    dims = {}
    for key, axes in (dynamic_axes or {}).items():
        if key not in names:
            warnings.warn(f"Provided key {key} for dynamic axes is not a valid input/output name")
            continue
        if isinstance(axes, dict):
            named = {int(a): str(n) for a, n in axes.items()}
        else:
            named = {int(a): f"{key}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
        rank = len(shapes[key])
        for a, n in named.items():
            if a >= rank or a < -rank:
                raise RuntimeError(f"Dynamic shape axis should be no more than the shape dimension for {n}")
        dims[key] = {a % rank: n for a, n in named.items()}
    return dims


def _value_info(name, dtype, shape, dyn):
    return helper.make_tensor_value_info(name, onnx_dtype(dtype),
                                         [dyn.get(i, s) for i, s in enumerate(shape)] if shape is not None else None)


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None, output_names=None,
           opset_version=None, dynamo=True, external_data=True, dynamic_shapes=None, custom_translation_table=None,
           report=False, optimize=True, verify=False, profile=False, dump_exported_program=False,
           artifacts_dir=".", export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None,
           training=TrainingMode.EVAL, operator_export_type=OperatorExportTypes.ONNX, do_constant_folding=True,
           custom_opsets=None, export_modules_as_functions=False, autograd_inlining=True):
    """Export ``model`` to ONNX by tracing one run of it on ``args``.

    Args:
        model: an ``nn.Module`` (or a callable) to run.
        args: a tensor, or a tuple of positional arguments, optionally ending with a dict of keyword arguments.
        f: where to write the model: a path or a binary file object (None: do not write).
        kwargs: more keyword arguments for the model.
        verbose: print the exported graph in ONNX's text form.
        input_names, output_names: names of the flattened input and output tensors.
        opset_version: the ONNX opset, 13 to 20 (default 18).
        dynamo: accepted for compatibility; ember always traces. When True an ``ONNXProgram`` is returned.
        export_params: store parameters and buffers as initializers named as in ``state_dict``
            (else they become graph inputs).
        keep_initializers_as_inputs: also list the initializers as graph inputs.
        dynamic_axes: ``{name: [axis, ...]}`` or ``{name: {axis: dim name}}``: sizes that may change.
        training: TrainingMode.EVAL (default), PRESERVE or TRAINING.
        do_constant_folding: fold ops whose inputs are all constants.
        The other arguments belong to PyTorch's dynamo exporter and are accepted and ignored.

    Returns None, or an ``ONNXProgram`` when ``dynamo`` is True.  Python control flow is unrolled
    for the traced inputs; a ``TracerWarning`` marks where a tensor became a Python value.
    """
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise RuntimeError(f"Unsupported onnx_opset_version: {opset}")
    args, kwargs = _split_args(args, kwargs)
    flat_in = tensors_in(list(args)) + tensors_in(kwargs)
    in_names = _input_names(model, args, kwargs, input_names)[:len(flat_in)]

    params = {}
    if isinstance(model, ember.nn.Module):
        for name, t in model.state_dict(keep_vars=True).items():
            params.setdefault(id(t), name)
        modules = {id(m): n for n, m in model.named_modules()}
    else:
        modules = {}
    tracer = Tracer(op_table(), flat_in, modules)
    mode = select_model_mode_for_export(model, training) if isinstance(model, ember.nn.Module) \
        else contextlib.nullcontext()
    with mode, ember.no_grad():
        _State.exporting = True
        try:
            with tracer:
                result = model(*args, **kwargs)
        finally:
            _State.exporting = False

    flat_out = tensors_in(result)
    out_names = list(output_names or [])
    out_names += [f"output_{i}" if len(flat_out) > 1 else "output" for i in range(len(out_names), len(flat_out))]
    out_names = out_names[:len(flat_out)]
    shapes = {n: tuple(t.shape) for n, t in zip(in_names + out_names, flat_in + flat_out)}
    dyn = _dynamic_dims(dynamic_axes, set(shapes), shapes)

    g = Lowering(opset, params, export_params=export_params, fold=do_constant_folding)
    for name, t in zip(in_names, flat_in):
        g.add_input(t, name, _value_info(name, array_dtype(t), tuple(t.shape), dyn.get(name, {})),
                    dyn.get(name, {}))
    for call in tracer.calls:
        g.lower(call)

    outputs = []
    for name, t in zip(out_names, flat_out):
        g.output(g.v(t), name)
        outputs.append(_value_info(name, array_dtype(t), None, {}))
    inputs = list(g.graph_inputs)
    inputs += [_value_info(n, a.dtype, a.shape, {}) for n, a in g.param_inputs]
    if keep_initializers_as_inputs:
        inputs += [helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in g.initializers]
    model_proto = g.model(inputs, outputs, type(model).__name__, producer="ember")
    _output_shapes(model_proto, flat_out, out_names, dyn, any(dyn.get(n) for n in in_names))
    if verbose:
        print(_text(model_proto))
    if f is not None:
        _write(model_proto, f)
    return ONNXProgram(model_proto) if dynamo else None


def _text(model):
    """The model in ONNX's text form, initializers shown as typed inputs instead of their values."""
    shown = onnx.ModelProto()
    shown.CopyFrom(model)
    shown.graph.ClearField("initializer")
    listed = {i.name for i in shown.graph.input}
    shown.graph.input.extend(helper.make_tensor_value_info(i.name, i.data_type, list(i.dims))
                             for i in model.graph.initializer if i.name not in listed)
    return onnx.printer.to_text(shown)


def _output_shapes(model, flat_out, names, dyn, dynamic_inputs):
    """Give each graph output its shape: traced sizes, dim names from ``dynamic_axes``, and where inputs are
    dynamic, what shape inference proves."""
    inferred = {}
    if dynamic_inputs:
        try:
            got = onnx.shape_inference.infer_shapes(model)
            inferred = {vi.name: vi for vi in got.graph.output}
        except Exception:
            inferred = {}
    for vi, t, name in zip(model.graph.output, flat_out, names):
        shape = vi.type.tensor_type.shape
        vi.type.tensor_type.ClearField("shape")
        shape = vi.type.tensor_type.shape
        named = dyn.get(name, {})
        inf = inferred.get(name)
        inf_dims = list(inf.type.tensor_type.shape.dim) if inf is not None and \
            inf.type.tensor_type.HasField("shape") else None
        for i, size in enumerate(t.shape):
            d = shape.dim.add()
            if i in named:
                d.dim_param = named[i]
            elif not dynamic_inputs:
                d.dim_value = int(size)
            elif inf_dims is not None and i < len(inf_dims) and inf_dims[i].HasField("dim_value"):
                d.dim_value = inf_dims[i].dim_value
            elif inf_dims is not None and i < len(inf_dims) and inf_dims[i].HasField("dim_param"):
                d.dim_param = inf_dims[i].dim_param


