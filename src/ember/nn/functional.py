"""``ember.nn.functional``: the functional form of every layer and loss (``torch.nn.functional``).

The functions live in ``ember/nn/_functional/<family>.py``; this module re-exports them.
Usual import: ``import ember.nn.functional as F``.  To add a family, create its module with an
``__all__`` and add one import line here.
"""
from ._functional.linear import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.vision import *  # noqa: F401,F403
from ._functional.activation import *  # noqa: F401,F403
from ._functional.dropout import *  # noqa: F401,F403
from ._functional.normalization import *  # noqa: F401,F403
from ._functional.sparse import *  # noqa: F401,F403
from ._functional.distance import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.loss import _Reduction  # noqa: F401
from ._functional.linear_loss import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
from ._functional.attention import _canonical_mask, _none_or_dtype, _mha_shape_check, _in_projection_packed, _in_projection  # noqa: F401,E501
