"""The ops a MaskedTensor supports, as PyTorch's MaskedTensor has them (torch/masked/maskedtensor/*.py).

Each row is one implementation, used both as the ``MaskedTensor.<name>`` method and as the MaskedTensor case
of ``ember.<name>`` (``ops/masked_tensor.py`` registers the cases); it receives the op's own arguments:

- unary: the op on the data, the mask kept; no other tensor arguments or keyword-only options.
- binary: the op on the two datas (masks of two MaskedTensors must be equal; a plain Tensor or number may be
  either operand), the MaskedTensor's mask broadcast to the result.
- reductions: the ``ember.masked`` reduction over the specified elements; the result is specified where any
  reduced element was.
- passthrough (views, indexing, splits): the op applied to the data and to the mask alike.
"""
import functools
import inspect

import ember

from . import _ops
from .maskedtensor import MaskedTensor, _validate, _wrap

UNARY = ("abs", "absolute", "acos", "arccos", "acosh", "arccosh", "angle", "asin", "arcsin", "asinh", "arcsinh",
         "atan", "arctan", "atanh", "arctanh", "bitwise_not", "ceil", "clamp", "clip", "conj_physical", "cos",
         "cosh", "deg2rad", "digamma", "erf", "erfc", "erfinv", "exp", "exp2", "expm1", "fix", "floor", "frac",
         "lgamma", "log", "log10", "log1p", "log2", "logit", "i0", "isnan", "nan_to_num", "neg", "negative",
         "positive", "pow", "rad2deg", "reciprocal", "round", "rsqrt", "sigmoid", "sign", "sgn", "signbit", "sin",
         "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc")
BINARY = ("add", "atan2", "arctan2", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
          "bitwise_right_shift", "div", "divide", "floor_divide", "fmod", "logaddexp", "logaddexp2", "mul",
          "multiply", "nextafter", "remainder", "sub", "subtract", "true_divide", "eq", "ne", "le", "ge", "greater",
          "greater_equal", "gt", "less_equal", "lt", "less", "maximum", "minimum", "fmax", "fmin", "not_equal")
REDUCTIONS = ("sum", "mean", "amin", "amax", "argmin", "argmax", "prod", "all", "var", "std")
PASSTHROUGH = ("select", "transpose", "swapaxes", "swapdims", "t", "narrow", "split", "chunk", "expand", "expand_as",
               "view", "view_as", "reshape", "flatten", "unsqueeze", "unfold")
# PyTorch has no in-place form of these for MaskedTensor
_NOT_INPLACE = {"angle", "positive", "signbit", "isnan", "logaddexp", "logaddexp2", "fmin", "minimum", "maximum",
                "fmax"}


@functools.lru_cache(maxsize=None)
def _signature(name):
    op = getattr(ember.Tensor, name, None) or getattr(ember, name)
    return op, inspect.signature(op)


def _given(name, args, kwargs):
    """The op ``name``'s bound arguments that differ from their defaults: ``{parameter: (kind, value)}``."""
    op, sig = _signature(name)
    bound = sig.bind(*args, **kwargs)
    given = {}
    for k, v in bound.arguments.items():
        p = sig.parameters[k]
        if p.default is inspect.Parameter.empty or v is not p.default and not (v == p.default) is True:
            given[k] = (p.kind, v)
    return given


def _is_tensor(x):
    return isinstance(x, (ember.Tensor, MaskedTensor))


def _part(x, which):
    """``x``'s data or mask when it is a MaskedTensor (inside lists and tuples too), else ``x``."""
    if isinstance(x, MaskedTensor):
        return x._data if which == "data" else x._mask
    if isinstance(x, (list, tuple)):
        return type(x)(_part(a, which) for a in x)
    return x


def _keyword_only_given(given):
    return any(kind is inspect.Parameter.KEYWORD_ONLY for kind, _ in given.values())


def unary(name):
    """The MaskedTensor form of the elementwise op ``name`` (``ember.sin(mt)``, ``mt.sin()``)."""
    def op(input, *args, **kwargs):
        given = _given(name, (input,) + args, kwargs)
        if _keyword_only_given(given):
            raise ValueError("MaskedTensor unary ops require that len(kwargs) == 0. "
                             "If you need support for this, please open an issue on Github.")
        if any(_is_tensor(v) for k, (_, v) in list(given.items())[1:]):
            raise TypeError("MaskedTensor unary ops do not support additional Tensor arguments")
        return _wrap(_signature(name)[0](input._data, *args, **kwargs), input._mask)
    return _named(op, name, f"``{name}`` of the data; the mask is kept.")


def _masks_match(a, b):
    if isinstance(a, MaskedTensor) and isinstance(b, MaskedTensor):
        return a._mask.dim() == b._mask.dim() and bool((a._mask == b._mask).all())
    return True


def binary(name):
    """The MaskedTensor form of the binary op ``name``: either operand may be the MaskedTensor."""
    def op(input, other, *args, **kwargs):
        given = _given(name, (input, other) + args, kwargs)
        if _keyword_only_given(given):
            raise ValueError("len(kwargs) must equal 0")
        if any(_is_tensor(v) for v in args):
            raise TypeError("MaskedTensor binary ops do not support Tensor arguments aside from the lhs and rhs")
        if not _masks_match(input, other):
            raise ValueError("Input masks must match. If you need support for this, please open an issue on Github.")
        data = _signature(name)[0](_part(input, "data"), _part(other, "data"), *args, **kwargs)
        mask = (input if isinstance(input, MaskedTensor) else other)._mask
        return _wrap(data, mask.expand_as(data))
    return _named(op, name, f"``{name}`` of the datas (the masks of two MaskedTensors must be equal).")


def _masked_all(data, dim=None, keepdim=False, dtype=None, mask=None):
    """``all`` of the specified elements (unspecified ones count as True)."""
    filled = data.masked_fill(~mask, True)
    return filled.all() if dim is None else filled.all(dim=dim, keepdim=keepdim)


def _any(mask, dim, keepdim):
    for d in sorted((dim,) if isinstance(dim, int) else dim, reverse=True):
        mask = mask.any(dim=d, keepdim=keepdim)
    return mask


def reduction(name):
    """The MaskedTensor form of the reduction ``name`` over all elements or over ``dim``."""
    masked_fn = _masked_all if name == "all" else getattr(_ops, name)

    def op(input, *args, **kwargs):
        given = _given(name, (input,) + args, kwargs)
        given.pop("out", None)
        extra = sorted(set(given) - {"input", "dim", "keepdim", "dtype"})
        if extra:
            raise TypeError(f"_reduce_dim_args() got an unexpected keyword argument '{extra[0]}'")
        data, mask = input._data, input._mask
        if "dim" not in given:
            if len(given) > 1:
                raise TypeError("_reduce_dim_args() missing 1 required positional argument: 'dim'")
            return _wrap(masked_fn(data, mask=mask), mask.any())
        dim, keepdim = given["dim"][1], bool(given.get("keepdim", (None, False))[1])
        dtype = given.get("dtype", (None, None))[1]
        return _wrap(masked_fn(data, dim, keepdim=keepdim, dtype=dtype, mask=mask), _any(mask, dim, keepdim))
    return _named(op, name, f"``ember.masked.{name}`` over the specified elements; specified where any was.")


def passthrough(name):
    """The MaskedTensor form of the view or selection ``name``: the op on the data and on the mask."""
    def op(input, *args, **kwargs):
        fn = _signature(name)[0]
        data = fn(_part(input, "data"), *_part(args, "data"), **_part(kwargs, "data"))
        mask = fn(_part(input, "mask"), *_part(args, "mask"), **_part(kwargs, "mask"))
        if isinstance(data, (tuple, list)):
            return type(data)(_checked(d, m) for d, m in zip(data, mask))
        return _checked(data, mask)
    return _named(op, name, f"``{name}`` of the data and of the mask.")


def _checked(data, mask):
    _validate(data, mask)
    return _wrap(data, mask)


def where(condition, input=None, other=None, *, out=None):
    """``ember.where`` with MaskedTensor operands: plain ones count as fully specified."""
    x = input if isinstance(input, MaskedTensor) else _wrap(input, ember.ones_like(input, dtype=ember.bool))
    y = other if isinstance(other, MaskedTensor) else _wrap(other, ember.ones_like(other, dtype=ember.bool))
    return _wrap(ember.where(condition, x._data, y._data), ember.where(condition, x._mask, y._mask))


def softmax(input, dim, dtype=None):
    """Softmax over the specified elements along ``dim``; unspecified ones get 0."""
    data = input._data if dtype is None else input._data.to(dtype)
    return _wrap(_ops.softmax(data, dim, mask=input._mask), input._mask)


def ones_like(input, **kwargs):
    """Ones in the data's shape (``ember.ones_like`` options), the mask kept."""
    return _wrap(ember.ones_like(input._data, **kwargs), input._mask)


def _inplace(fn):
    def op(self, *args, **kwargs):
        result = fn(self, *args, **kwargs)
        self._data, self._mask = result._data, result._mask
        return self
    return _named(op, fn.__name__ + "_", f"In-place ``{fn.__name__}``: self holds the result.")


def _named(fn, name, doc):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _reversed(name):
    def op(self, other):
        return _wrap(getattr(self._data, name)(other), self._mask)
    return op


def _converting(dtype):
    def op(self):
        return self.to(dtype)
    return op


CASES = ([(0, n, unary(n)) for n in UNARY] + [(0, n, binary(n)) for n in BINARY]
         + [(0, n, reduction(n)) for n in REDUCTIONS] + [(0, n, passthrough(n)) for n in PASSTHROUGH]
         + [(0, "softmax", softmax), (0, "ones_like", ones_like)])
"""``(position, name, implementation)``: the MaskedTensor cases of ``ember.<name>``."""
_BINARY_FNS = {n: fn for _, n, fn in CASES if n in BINARY}
CASES += [(1, n, _BINARY_FNS[n]) for n in BINARY] + [(1, "where", where), (2, "where", where)]

for _, _name, _fn in CASES:
    if _name not in ("where", "ones_like"):
        setattr(MaskedTensor, _name, _fn)
        if _name not in _NOT_INPLACE and (_name in UNARY or _name in BINARY):
            setattr(MaskedTensor, _name + "_", _inplace(_fn))
for _dunder, _name in (("__add__", "add"), ("__radd__", "add"), ("__sub__", "sub"), ("__mul__", "mul"),
                       ("__rmul__", "mul"), ("__truediv__", "div"), ("__floordiv__", "floor_divide"),
                       ("__mod__", "remainder"), ("__pow__", "pow"), ("__eq__", "eq"), ("__ne__", "ne"),
                       ("__lt__", "lt"), ("__le__", "le"), ("__gt__", "gt"), ("__ge__", "ge"),
                       ("__and__", "bitwise_and"), ("__or__", "bitwise_or"), ("__xor__", "bitwise_xor"),
                       ("__neg__", "neg"), ("__abs__", "abs"), ("__invert__", "bitwise_not"), ("__pos__", "positive")):
    setattr(MaskedTensor, _dunder, getattr(MaskedTensor, _name))
MaskedTensor.__rtruediv__ = _reversed("__rtruediv__")
for _name, _dtype in (("float", "float32"), ("double", "float64"), ("half", "float16"), ("int", "int32"),
                      ("long", "int64"), ("short", "int16"), ("char", "int8"), ("bool", "bool")):
    setattr(MaskedTensor, _name, _named(_converting(getattr(ember, _dtype)), _name,
                                        f"The data as {_dtype}; the mask kept."))
MaskedTensor.type = lambda self, dtype: self.to(dtype)
MaskedTensor.type_as = lambda self, other: self.to(other.dtype)
del _name, _fn, _dunder, _dtype
