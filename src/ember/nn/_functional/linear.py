"""F.linear, F.bilinear."""
from ...ops.linear import linear as _linear
from ...ops.products import einsum as _einsum

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    """``y = input @ weight.T + bias``.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features) -> (*, out_features).
    """
    return _linear(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y_k = input1^T weight_k input2 + bias_k``.

    Shapes: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out) -> (*, out).
    """
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape)} and "
                           f"{list(input2.shape)}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got {weight.dim()}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {weight.shape[2]}")
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    y = _einsum("bi,kij,bj->bk", x1, weight, x2)
    if bias is not None:
        if bias.dim() != 1 or bias.shape[0] != weight.shape[0]:
            raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} but "
                               f"expected {weight.shape[0]}")
        y = y + bias
    return y.reshape(tuple(lead) + (weight.shape[0],))
