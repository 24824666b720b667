"""The ONNX graph a symbolic function writes into: values, nodes, constants and initializers.

A ``Value`` names one ONNX tensor.  Symbolic functions call ``g.op("Relu", x)``
(PyTorch's style: attributes as keywords, an optional ``_i``/``_f``/``_s``/``_t``
suffix on their names) and ``g.const(array)``; ``Value.shape`` and
``Value.dtype`` tell the traced size and dtype where the value was a traced
tensor.
"""
import re

import numpy
import onnx
from onnx import helper, numpy_helper

_ATTR_SUFFIX = re.compile(r"^(.*)_(i|f|s|t|g|is|fs|ss|ts|gs)$")


class Value:
    """One ONNX tensor of the graph being built.

    Attributes:
        name: its ONNX name.
        array: the NumPy array when it is a literal constant (folds), else None.
        shape: its size at trace time (a tuple of ints) when known, else None.
        dtype: its NumPy dtype when known, else None.
    """

    __slots__ = ("name", "array", "shape", "dtype")

    def __init__(self, name, array=None, shape=None, dtype=None):
        self.name, self.array = name, array
        self.shape = tuple(array.shape) if array is not None else shape
        self.dtype = array.dtype if array is not None else dtype

    def __repr__(self):
        return f"Value({self.name!r}, shape={self.shape}, dtype={self.dtype})"

    def rank(self):
        """Its number of dimensions (the traced shape must be known)."""
        return len(self.shape)


def onnx_dtype(np_dtype):
    """The ONNX ``TensorProto`` element type of a NumPy dtype."""
    return helper.np_dtype_to_tensor_dtype(numpy.dtype(np_dtype))


class Graph:
    """The nodes, constants and initializers of one export, and the opset they target.

    Args:
        opset: the ONNX opset version.
    """

    def __init__(self, opset):
        self.opset = opset
        self.nodes = []
        self.initializers = []       # TensorProtos (parameters, buffers, folded weights)
        self._count = 0
        self._consts = {}            # (dtype, shape, bytes) -> Value, for small literal constants
        self._pending = {}           # name -> Value: constants not yet used by a node (never emitted if unused)
        self._shape_cache = (None, None)

    # ------------------------------------------------------------------ values
    def fresh(self, hint):
        """A new unique value name from ``hint``."""
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, array, dtype=None):
        """A constant holding ``array`` (a NumPy array or Python number); returns its Value.

        Its Constant node is added when a node first uses it, so constants that fold away leave nothing.
        """
        arr = numpy.asarray(array, dtype=dtype)
        key = None
        if arr.size <= 64:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        v = Value(self.fresh("onnx::Constant"), arr)
        self._pending[v.name] = v
        if key is not None:
            self._consts[key] = v
        return v

    def initializer(self, name, array):
        """Add ``array`` as an initializer called ``name``; returns its Value (not a literal: it does not fold)."""
        arr = numpy.ascontiguousarray(array)
        self.initializers.append(numpy_helper.from_array(arr, name))
        return Value(name, shape=tuple(arr.shape), dtype=arr.dtype)

    def ints(self, values):
        """An int64 1-D constant."""
        return self.const(numpy.asarray(list(values), dtype=numpy.int64).reshape(-1))

    # ------------------------------------------------------------------ nodes
    def op(self, op_type, *inputs, outputs=1, domain="", **attrs):
        """Add an ONNX node; returns its output Value, or a tuple when ``outputs`` > 1.

        ``inputs`` are Values (None for an omitted optional input); attribute names may carry
        PyTorch's type suffixes (``axis_i``).
        """
        names = [("" if i is None else self._use(i)) for i in inputs]
        clean = {}
        for k, v in attrs.items():
            if v is None:
                continue
            m = _ATTR_SUFFIX.match(k)
            clean[m.group(1) if m else k] = v
        outs = [Value(self.fresh(op_type)) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, names, [o.name for o in outs], domain=domain or None,
                                           **clean))
        return outs[0] if outputs == 1 else tuple(outs)

    def _use(self, value):
        pending = self._pending.pop(value.name, None)
        if pending is not None:
            self.nodes.append(helper.make_node("Constant", [], [value.name],
                                               value=numpy_helper.from_array(pending.array, value.name)))
        return value.name

    def output(self, value, name):
        """Make ``value`` the graph output called ``name`` (through an Identity node)."""
        self.nodes.append(helper.make_node("Identity", [self._use(value)], [name]))

    def cast(self, value, np_dtype):
        """``value`` converted to ``np_dtype`` (no node when it already has it)."""
        np_dtype = numpy.dtype(np_dtype)
        if value.dtype == np_dtype:
            return value
        if value.array is not None:
            return self.const(value.array.astype(np_dtype))
        out = self.op("Cast", value, to=onnx_dtype(np_dtype))
        out.shape, out.dtype = value.shape, np_dtype
        return out

    # ------------------------------------------------------------------ shapes
    def static_dims(self, value, inputs, outputs=()):
        """For each dimension of ``value``: True when ONNX shape inference proves it fixed.

        Shape inference runs on the graph built so far (cached until a node is added); a
        dimension the inference cannot prove fixed counts as dynamic.
        """
        if value.array is not None:
            return [True] * len(value.array.shape)
        n = len(self.nodes)
        if self._shape_cache[0] != n:
            model = self.model(inputs, outputs, "partial")
            try:
                inferred = onnx.shape_inference.infer_shapes(model)
                known = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.input)}
            except Exception:      # an inference failure only makes the export more dynamic
                known = {}
            self._shape_cache = (n, known)
        vi = self._shape_cache[1].get(value.name)
        if vi is None or not vi.type.tensor_type.HasField("shape"):
            return [False] * len(value.shape)
        dims = vi.type.tensor_type.shape.dim
        if len(dims) != len(value.shape):
            return [False] * len(value.shape)
        return [d.HasField("dim_value") for d in dims]

    def model(self, inputs, outputs, name, producer="ember"):
        """The ModelProto of this graph with ``inputs``/``outputs`` ValueInfoProtos."""
        graph = helper.make_graph(self.nodes, name, list(inputs), list(outputs), initializer=self.initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                 producer_name=producer)
