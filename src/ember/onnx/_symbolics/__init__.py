"""ember's symbolic functions, one module per op family; importing them registers them."""
from . import math, shape, nn, rnn, attention  # noqa: F401
