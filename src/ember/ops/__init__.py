"""The op library: every differentiable op, by family, and the namespaces built from their declarations.

Importing the family modules runs their ``@op`` declarations (see ``_declare.py``);
``build_namespaces`` turns those into the ``ember.<name>`` functions exported here
and the ``Tensor`` methods and operators bound here.  Nothing else adds methods
to ``Tensor``.
"""
import importlib as _importlib
import pkgutil as _pkgutil

from .._tensor import Tensor

_CLASS_BODY = set(vars(Tensor))   # what _tensor.py defines itself; declarations must not clash with it
from . import _common, _declare  # noqa: E402

_FAMILIES = [_importlib.import_module(f"{__name__}.{m.name}") for m in _pkgutil.iter_modules(__path__)
             if not m.name.startswith("_")]

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
_LEGACY = [m for m in _FAMILIES if m.__name__ not in _declared_modules]
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
for _m in _LEGACY:
    if _m.__name__.rsplit(".", 1)[1] in ("conv", "pool", "resample", "rnn_ops"):
        _NOT_METHODS |= set(getattr(_m, "__all__", ()))
    _NOT_METHODS |= getattr(_m, "_NOT_METHODS", set())
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
_legacy_names = {m.__name__.rsplit(".", 1)[1]: m for m in _LEGACY}
if "complex_ops" in _legacy_names and not isinstance(vars(Tensor).get("real"), property):
    _c = _legacy_names["complex_ops"]
    Tensor.real = property(_c.real, lambda self, v: _c.real(self).copy_(v))
    Tensor.imag = property(_c.imag, lambda self, v: _c.imag(self).copy_(v))
if "__matmul__" not in _methods and "matmul" in globals():
    Tensor.__matmul__ = globals()["matmul"]
    Tensor.__rmatmul__ = lambda self, other: globals()["matmul"](other, self)
if "indexing" in _legacy_names:
    Tensor.__getitem__ = _legacy_names["indexing"].getitem
    Tensor.__setitem__ = _legacy_names["indexing"].setitem
