"""Every layer class, importable as ``ember.nn.modules.<family>.<Class>`` and ``ember.nn.<Class>``.

One file per family; to add a family, create ``<family>.py`` with an ``__all__`` and add one
import line below.
"""
from .module import Module
from .container import Container, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .linear import Identity, Linear, Bilinear, NonDynamicallyQuantizableLinear
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from ._attention import MultiheadAttention
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .channelshuffle import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
