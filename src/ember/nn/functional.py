"""``ember.nn.functional``: the functional form of every layer and loss (``torch.nn.functional``).

The functions live in ``ember/nn/_functional/<family>.py``; this module re-exports them.
Usual import: ``import ember.nn.functional as F``.
"""
from ._functional.linear import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.vision import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
