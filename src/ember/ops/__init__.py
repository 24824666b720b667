"""The op library: every differentiable op, by family, and the namespaces built from their declarations.

Importing the family modules runs their ``@op`` declarations (see ``_declare.py``);
``build_namespaces`` turns those into the ``ember.<name>`` functions exported here
and the ``Tensor`` methods and operators bound here.  Nothing else adds methods
to ``Tensor``.
"""
from .._tensor import Tensor

_CLASS_BODY = set(vars(Tensor))   # what _tensor.py defines itself; declarations must not clash with it
from . import _common, _declare  # noqa: E402
from . import creation, elementwise, fill, indexing, linalg, random, reduction, shape, conv, pool, resample, rnn_ops
from . import special_math, pointwise, cumulative, sorting, counting, norms
from . import joining, scatter, products, complex_ops, linalg_decomp, nn_ops

_functions, _methods = _declare.build_namespaces(Tensor, _common.inplace)
for _name, _fn in _methods.items():
    if _name in _CLASS_BODY:
        raise RuntimeError(f"Tensor.{_name} is defined in _tensor.py and also declared by {_fn.__module__}")
    setattr(Tensor, _name, _fn)
globals().update(_functions)
__all__ = sorted(_functions)

# ---------------------------------------------------------------------------- TRANSITION (issue 9)
# Families not converted to declarations yet keep the old rule: every public function is ember.<name> and
# Tensor.<name>.  This block goes once every family declares its ops.
import types as _types  # noqa: E402
import warnings as _warnings  # noqa: E402

_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.ops\.")
_declared_modules = {fn.__module__ for fn, _ in _declare.declarations()}
_LEGACY = [m for m in (creation, elementwise, fill, indexing, linalg, random, reduction, shape, conv, pool, resample,
                       rnn_ops, special_math, pointwise, cumulative, sorting, counting, norms,
                       joining, scatter, products, complex_ops, linalg_decomp, nn_ops)
           if m.__name__ not in _declared_modules]
_INTERNAL = {"write_out", "inplace", "embed", "scatter_grad", "index_add_windows", "convert_key", "getitem",
             "setitem", "split_key", "positions_in", "rnn_layer", "erf_kernel", "vector_norm", "matrix_norm"}
_NOT_METHODS = {"tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "empty", "full", "arange", "range",
                "linspace", "logspace", "eye", "rand", "randn", "randint", "randperm", "normal", "cat", "concat",
                "concatenate", "stack", "einsum", "zeros_like", "ones_like", "empty_like", "full_like", "rand_like",
                "randn_like", "randint_like", "hstack", "vstack", "dstack", "column_stack", "row_stack",
                "tril_indices", "triu_indices", "broadcast_tensors", "broadcast_shapes", "meshgrid", "atleast_1d",
                "atleast_2d", "atleast_3d", "block_diag", "cartesian_prod", "combinations", "tensordot", "cdist",
                "chain_matmul", "poisson", "view_as_real", "view_as_complex", "complex", "polar", "searchsorted",
                "bucketize", "std_mean", "var_mean"}
for _m in (conv, pool, resample, rnn_ops):
    _NOT_METHODS |= set(getattr(_m, "__all__", ()))
_NOT_METHODS |= getattr(nn_ops, "_NOT_METHODS", set())
for _m in _LEGACY:
    for _n, _v in vars(_m).items():
        if (_n.startswith("_") or not isinstance(_v, _types.FunctionType) or _n in _INTERNAL
                or not _v.__module__.startswith("ember.ops") or _v is getattr(_common, _n, None)
                or _n in _functions):
            continue
        globals()[_n] = _v
        __all__.append(_n)
        if _n not in _NOT_METHODS and _n not in vars(Tensor):
            setattr(Tensor, _n, _v)
__all__.sort()
OPS = {n: globals()[n] for n in __all__}
for _n in ("masked_fill", "scatter", "scatter_add", "index_add"):
    if not hasattr(Tensor, _n + "_") and _n in globals():
        setattr(Tensor, _n + "_", _common.inplace(globals()[_n]))
if "ember.ops.complex_ops" not in _declared_modules and not isinstance(vars(Tensor).get("real"), property):
    Tensor.real = property(complex_ops.real, lambda self, v: complex_ops.real(self).copy_(v))
    Tensor.imag = property(complex_ops.imag, lambda self, v: complex_ops.imag(self).copy_(v))
if "ember.ops.linalg" not in _declared_modules:
    Tensor.__matmul__ = linalg.matmul
    Tensor.__rmatmul__ = lambda self, other: linalg.matmul(other, self)
if "ember.ops.indexing" not in _declared_modules:
    Tensor.__getitem__ = indexing.getitem
    Tensor.__setitem__ = indexing.setitem
