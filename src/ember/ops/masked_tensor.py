"""MaskedTensor's cases of the ember ops: ``ember.sin(mt)``, ``ember.add(dense, mt)``, ``ember.sum(mt, 1)``,
``ember.where(cond, mt, x)`` run the rows of ``ember.masked._optable`` (PyTorch's MaskedTensor op table),
registered here so that they exist before the namespaces are built."""
from ._declare import case
from ..masked.maskedtensor import MaskedTensor
from ..masked._optable import CASES

for _position, _name, _fn in CASES:
    case(MaskedTensor, _position, _name)(_fn)
del _position, _name, _fn
