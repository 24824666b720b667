"""The op library: every differentiable op, by family, and the namespaces built from their declarations.

Importing the family modules runs their ``@op`` declarations (see ``_declare.py``);
``build_namespaces`` turns those into the ``ember.<name>`` functions exported here
and the ``Tensor`` methods and operators bound here.  Nothing else adds methods
to ``Tensor``.
"""
import importlib as _importlib
import pkgutil as _pkgutil
import warnings as _warnings

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

# PyTorch computes x/0, log(0), inf-inf ... silently, with IEEE results.  The hottest ops compute without
# NumPy's errstate (it costs more than the op on small tensors): this filter keeps NumPy's RuntimeWarnings
# raised inside the op layer from reaching users, and where a user's filter turns them into errors the ops
# recompute quietly (``_ieee.retry_quietly``).
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.ops\.")
