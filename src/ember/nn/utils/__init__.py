"""``ember.nn.utils``: rnn (packed sequences) and the parameter utilities (``torch.nn.utils``)."""
from . import rnn
