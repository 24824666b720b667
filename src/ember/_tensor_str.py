"""Printing tensors as PyTorch prints them."""


def tensor_repr(t):
    return "tensor(" + repr(t._data.tolist()) + ")"


def set_printoptions(*args):
    pass
