"""F.linear, F.bilinear."""
from ...ops.linear import linear as _linear
from ...ops.linear import bilinear  # noqa: F401  torch.bilinear, re-exported

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    """``y = input @ weight.T + bias``.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features) -> (*, out_features).
    """
    return _linear(input, weight, bias)
