"""Every differentiable op, by family, and the Tensor methods and operators bound to them.

Ops are plain functions whose first argument is the input tensor, so the
same function object serves as ``ember.exp(x)`` and as ``x.exp()``.
"""
import types as _types

from .._tensor import Tensor
from . import creation, elementwise, fill, indexing, linalg, random, reduction, shape
from . import conv, pool, resample
from . import rnn_ops
from . import special_math, pointwise_extra, cumulative, reduction_extra, sorting, counting, norms  # issue 3
from .elementwise import inplace, write_out

_FAMILIES = (creation, elementwise, fill, indexing, linalg, random, reduction, shape, conv, pool, resample, rnn_ops)
_FAMILIES += (special_math, pointwise_extra, cumulative, reduction_extra, sorting, counting, norms)
_INTERNAL_ISSUE3 = {"erf_kernel", "vector_norm", "matrix_norm"}  # ember.linalg has these two
_NOT_METHODS_ISSUE3 = {"searchsorted", "bucketize", "std_mean", "var_mean"}
# PyTorch computes x/0, log(0), inf-inf ... silently, with IEEE results; NumPy's RuntimeWarnings raised
# inside ember's ops would be noise (a filter costs nothing until a warning is actually raised)
import warnings as _warnings  # noqa: E402
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.ops\.")
_INTERNAL = {"write_out", "inplace", "embed", "scatter_grad", "index_add_windows", "convert_key", "getitem",
             "setitem"}
# functions that are ember.<name> but not Tensor methods
_NOT_METHODS = {"tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "empty", "full", "arange", "range",
                "linspace", "logspace", "eye", "rand", "randn", "randint", "randperm", "normal", "cat", "concat",
                "concatenate", "stack", "einsum", "zeros_like", "ones_like", "empty_like", "full_like", "rand_like",
                "randn_like", "randint_like"}
_NOT_METHODS |= set(conv.__all__) | set(pool.__all__) | set(resample.__all__)
_NOT_METHODS |= set(rnn_ops.__all__)
_INTERNAL.add("rnn_layer")
# issue 3, shape / indexing / linalg families; the functions that are ember.<name> only
from . import joining, scatter, products, complex_ops, linalg_decomp  # noqa: E402
_FAMILIES += (joining, scatter, products, complex_ops, linalg_decomp)
_INTERNAL |= {"split_key", "positions_in"}
Tensor.real = property(complex_ops.real, lambda self, v: complex_ops.real(self).copy_(v))
Tensor.imag = property(complex_ops.imag, lambda self, v: complex_ops.imag(self).copy_(v))
_NOT_METHODS |= {"hstack", "vstack", "dstack", "column_stack", "row_stack", "tril_indices", "triu_indices",
                 "broadcast_tensors", "broadcast_shapes", "meshgrid", "atleast_1d", "atleast_2d", "atleast_3d",
                 "block_diag", "cartesian_prod", "combinations", "tensordot", "cdist", "chain_matmul", "poisson",
                 "view_as_real", "view_as_complex", "complex", "polar"}
# issue 4 (nn): softmax family, activations, dropout, norms, embedding
from . import nn_ops  # noqa: E402
_FAMILIES += (nn_ops,)
_NOT_METHODS |= nn_ops._NOT_METHODS
_NOT_METHODS |= _NOT_METHODS_ISSUE3


def _public_functions(module):
    return {n: v for n, v in vars(module).items()
            if not n.startswith("_") and isinstance(v, _types.FunctionType) and n not in _INTERNAL
            and n not in _INTERNAL_ISSUE3 and v.__module__ != "ember.ops._common"
            and v.__module__.startswith("ember.ops")}


OPS = {}
for _m in _FAMILIES:
    OPS.update(_public_functions(_m))
globals().update(OPS)
__all__ = sorted(OPS)


def _bind_methods():
    for name, fn in OPS.items():
        if name in _NOT_METHODS or name in vars(Tensor):
            continue
        setattr(Tensor, name, fn)
    # in-place variants recorded through the out-of-place op
    for name in ("exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs", "neg",
                 "sign", "floor", "ceil", "trunc", "frac", "round", "reciprocal", "square", "clamp", "clamp_min",
                 "clamp_max", "pow", "log1p", "expm1", "log2", "log10", "exp2", "asin", "acos", "atan", "sinh",
                 "cosh", "asinh", "acosh", "atanh", "floor_divide", "maximum", "minimum", "masked_fill", "scatter",
                 "scatter_add", "index_add", "logical_not", "logical_and", "logical_or", "logical_xor",
                 "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "eq", "ne", "lt", "le", "gt", "ge"):
        if not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", inplace(OPS[name]))
    Tensor.clip_ = Tensor.clamp_
    Tensor.negative_ = Tensor.neg_
    Tensor.absolute_ = Tensor.abs_
    for name in ("add_", "sub_", "mul_", "div_", "uniform_", "normal_", "bernoulli_", "exponential_", "random_"):
        setattr(Tensor, name, OPS[name])
    Tensor.multiply_, Tensor.divide_, Tensor.true_divide_, Tensor.subtract_ = \
        Tensor.mul_, Tensor.div_, Tensor.div_, Tensor.sub_
    Tensor.subtract = OPS["sub"]
    Tensor.where = lambda self, condition, y: elementwise.where(condition, self, y)
    Tensor.__getitem__ = indexing.getitem
    Tensor.__setitem__ = indexing.setitem

    # operators
    ew = elementwise
    Tensor.__add__ = Tensor.__radd__ = ew.add
    Tensor.__sub__ = ew.sub
    Tensor.__rsub__ = lambda self, other: ew.sub(other, self)
    Tensor.__mul__ = Tensor.__rmul__ = ew.mul
    Tensor.__truediv__ = ew.div
    Tensor.__rtruediv__ = ew._rdiv
    Tensor.__floordiv__ = ew.floor_divide
    Tensor.__rfloordiv__ = lambda self, other: ew.floor_divide(other, self)
    Tensor.__mod__ = ew.remainder
    Tensor.__rmod__ = lambda self, other: ew.remainder(other, self)
    Tensor.__pow__ = ew.pow
    Tensor.__rpow__ = lambda self, other: ew.pow(other, self)
    Tensor.__matmul__ = linalg.matmul
    Tensor.__rmatmul__ = lambda self, other: linalg.matmul(other, self)
    Tensor.__neg__ = ew.neg
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = ew.abs
    Tensor.__invert__ = ew._invert
    Tensor.__and__ = Tensor.__rand__ = ew.bitwise_and
    Tensor.__or__ = Tensor.__ror__ = ew.bitwise_or
    Tensor.__xor__ = Tensor.__rxor__ = ew.bitwise_xor
    Tensor.__lshift__ = ew.bitwise_left_shift
    Tensor.__rshift__ = ew.bitwise_right_shift
    Tensor.__eq__ = lambda self, other: False if other is None else ew.eq(self, other)
    Tensor.__ne__ = lambda self, other: True if other is None else ew.ne(self, other)
    Tensor.__lt__, Tensor.__le__, Tensor.__gt__, Tensor.__ge__ = ew.lt, ew.le, ew.gt, ew.ge
    Tensor.__iadd__ = ew.add_
    Tensor.__isub__ = ew.sub_
    Tensor.__imul__ = ew.mul_
    Tensor.__itruediv__ = ew.div_
    Tensor.__ifloordiv__ = Tensor.floor_divide_
    Tensor.__ipow__ = Tensor.pow_
    Tensor.__iand__ = Tensor.bitwise_and_
    Tensor.__ior__ = Tensor.bitwise_or_
    Tensor.__ixor__ = Tensor.bitwise_xor_


_bind_methods()
