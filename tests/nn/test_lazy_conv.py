"""Lazy convolutions (LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d) against torch: the inferred in_channels,
the class they become, parameter shapes, outputs with equal weights, lazy state_dict loading, errors."""
import numpy as np
import pytest
import torch

import ember
from parity import check_raises

CASES = [
    ("LazyConv1d", dict(out_channels=4, kernel_size=3, padding=1), (2, 6, 9)),
    ("LazyConv1d", dict(out_channels=4, kernel_size=3), (6, 9)),                       # unbatched
    ("LazyConv2d", dict(out_channels=4, kernel_size=3, groups=2, bias=False), (2, 6, 5, 5)),
    ("LazyConv3d", dict(out_channels=2, kernel_size=2, stride=2), (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", dict(out_channels=3, kernel_size=2, stride=2), (2, 4, 7)),
    ("LazyConvTranspose2d", dict(out_channels=4, kernel_size=3, groups=2, output_padding=1, stride=2), (1, 6, 4, 4)),
    ("LazyConvTranspose3d", dict(out_channels=2, kernel_size=2, bias=False), (3, 3, 3, 3)),   # unbatched
]


@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=[f"{c[0]}-{len(c[2])}d" for c in CASES])
def test_lazy_conv_matches_torch(name, kwargs, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    me, mt = getattr(ember.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert me.has_uninitialized_params() and isinstance(me.weight, ember.nn.UninitializedParameter)
    ye, yt = me(ember.tensor(x)), mt(torch.tensor(x))
    assert type(me).__name__ == type(mt).__name__ == name[4:]
    assert me.in_channels == mt.in_channels and tuple(me.weight.shape) == tuple(mt.weight.shape)
    assert (me.bias is None) == (mt.bias is None) and tuple(ye.shape) == tuple(yt.shape)
    bound = 1 / np.sqrt(np.prod(mt.weight.shape[1:]))        # kaiming_uniform(a=sqrt(5)) bound
    assert float(me.weight.detach().abs().max()) <= bound + 1e-6
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    np.testing.assert_allclose(me(ember.tensor(x)).detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_lazy_conv_loads_state_dict_before_first_forward():
    mt = torch.nn.Conv2d(3, 5, 3)
    me = ember.nn.LazyConv2d(5, 3)
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(me(ember.tensor(x)).detach().numpy(), mt(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    assert type(me) is ember.nn.Conv2d


def test_lazy_conv_errors():
    check_raises(lambda: ember.nn.LazyConv2d(4, 3, groups=2)(ember.ones(1, 3, 5, 5)),
                 lambda: torch.nn.LazyConv2d(4, 3, groups=2)(torch.ones(1, 3, 5, 5)))
    check_raises(lambda: ember.nn.LazyConv1d(3, 3, groups=2)(ember.ones(1, 4, 5)),
                 lambda: torch.nn.LazyConv1d(3, 3, groups=2)(torch.ones(1, 4, 5)))
    assert isinstance(ember.nn.UninitializedBuffer(), ember.Tensor)
