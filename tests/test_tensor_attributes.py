"""Tensor attributes and conversions against torch: shape, strides, numpy sharing, item/tolist, dunder
conversions, dtype/device casts, new_* factories, Size."""
import copy
import math
import pickle

import numpy as np
import pytest
import torch

import ember
from parity import assert_same, check_raises

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def pair(a=A):
    return ember.from_numpy(a.copy()), torch.from_numpy(a.copy())


def test_shape_size_dim_numel():
    e, t = pair()
    assert e.shape == t.shape and isinstance(e.shape, ember.Size) and isinstance(e.shape, tuple)
    assert e.size() == t.size() and e.size(1) == t.size(1) and e.size(-1) == t.size(-1)
    assert e.dim() == t.dim() == e.ndim == e.ndimension()
    assert e.numel() == t.numel() == e.nelement()
    assert e.element_size() == t.element_size() and e.itemsize == t.itemsize and e.nbytes == t.nbytes
    assert repr(e.shape) == repr(t.shape) and str(e.shape) == str(t.shape)
    assert e.shape.numel() == t.shape.numel() == 24
    assert ember.Size([2, 3])[1:] == torch.Size([2, 3])[1:] and isinstance(ember.Size([2, 3])[1:], ember.Size)
    assert repr(ember.Size([2]) + (3,)) == repr(torch.Size([2]) + (3,))
    assert pickle.loads(pickle.dumps(ember.Size([1, 2]))) == ember.Size([1, 2])
    assert ember.Size([]).numel() == 1
    with pytest.raises(IndexError):
        e.size(3)
    with pytest.raises(IndexError):
        t.size(3)


def test_strides_offsets_contiguity():
    e, t = pair()
    for fe in [lambda x: x, lambda x: x.transpose(0, 2), lambda x: x[:, 1:], lambda x: x[..., ::2],
               lambda x: x[1], lambda x: x[1, 2], lambda x: x.permute(1, 0, 2), lambda x: x.expand(3, 2, 3, 4),
               lambda x: x.unsqueeze(1), lambda x: x[:, :, 1:3].contiguous(), lambda x: x.narrow(2, 1, 2),
               lambda x: x.select(1, 2), lambda x: x.view(6, 4)[2:], lambda x: x.diagonal(0, 1, 2),
               lambda x: x.t() if x.dim() == 2 else x.flatten()[3:].view(3, 7)]:
        a, b = fe(e), fe(t)
        assert a.stride() == b.stride(), a.shape
        assert a.storage_offset() == b.storage_offset(), a.shape
        assert a.is_contiguous() == b.is_contiguous(), a.shape
        for d in range(a.dim()):
            assert a.stride(d) == b.stride(d)


def test_contiguous_returns_self_or_copy():
    e = ember.ones(2, 3)
    assert e.contiguous() is e
    t = e.t()
    c = t.contiguous()
    assert c is not t and c.is_contiguous() and c.stride() == (2, 1)
    c[0, 0] = 7
    assert e[0, 0].item() == 1


def test_numpy_shares_memory_and_refuses_grad():
    e = ember.zeros(3)
    n = e.numpy()
    n[1] = 4
    assert e[1].item() == 4
    e[2] = 5
    assert n[2] == 5
    r = ember.zeros(2, requires_grad=True)
    check_raises(lambda x: r.numpy(), lambda x: torch.zeros(2, requires_grad=True).numpy(), None)
    assert np.shares_memory(r.detach().numpy(), r.detach().numpy())
    forced = r.numpy(force=True)
    assert isinstance(forced, np.ndarray)
    v = ember.arange(6.0).view(2, 3).t()
    assert v.numpy().strides == torch.arange(6.0).view(2, 3).t().numpy().strides


def test_array_protocol():
    e, t = pair()
    assert np.array_equal(np.asarray(e), np.asarray(t))
    assert np.asarray(e, dtype=np.float64).dtype == np.float64
    a = np.asarray(e)
    a[0, 0, 0] = 99
    assert e[0, 0, 0].item() == 99  # shares memory like torch
    assert np.array(e, copy=True) is not e._data
    assert (np.ones((2, 3, 4)) + e).__class__ in (np.ndarray, ember.Tensor)
    assert np.sum(ember.ones(3).numpy()) == 3
    r = ember.ones(2, requires_grad=True)
    check_raises(lambda: np.asarray(r), lambda: np.asarray(torch.ones(2, requires_grad=True)))
    assert np.asarray(r.detach()).tolist() == [1.0, 1.0]


def test_item_tolist():
    for data in [[1.5], [[2]], [True], 3.0, 7]:
        e, t = ember.tensor(data), torch.tensor(data)
        assert e.item() == t.item() and type(e.item()) is type(t.item())
    for dt in ["float16", "bfloat16", "float32", "float64", "int8", "uint8", "int32", "bool", "complex64"]:
        e = ember.tensor([[1, 0], [2, 3]], dtype=getattr(ember, dt))
        t = torch.tensor([[1, 0], [2, 3]], dtype=getattr(torch, dt))
        assert e.tolist() == t.tolist()
        assert [type(v) for v in e.tolist()[0]] == [type(v) for v in t.tolist()[0]]
        assert type(e[0, 0].item()) is type(t[0, 0].item())
    assert ember.tensor(2.5).tolist() == 2.5
    check_raises(lambda: ember.ones(2).item(), lambda: torch.ones(2).item())


def test_dunder_conversions():
    e, t = ember.tensor(3), torch.tensor(3)
    assert [1, 2, 3, 4][e] == [1, 2, 3, 4][t] == 4
    assert int(ember.tensor(2.7)) == int(torch.tensor(2.7)) == 2
    assert float(ember.tensor(2)) == 2.0 and isinstance(float(ember.tensor(2)), float)
    assert complex(ember.tensor(1.5)) == complex(torch.tensor(1.5))
    assert bool(ember.tensor([0.0])) is False and bool(ember.tensor(2)) is True
    assert bool(ember.tensor([1])) is bool(torch.tensor([1]))
    for fmt in ["", ".2f", "8.3e", ">6", "+.1f"]:
        assert format(ember.tensor(3.14159), fmt) == format(torch.tensor(3.14159), fmt)
    assert format(ember.tensor(7), "04d") == format(torch.tensor(7), "04d")
    assert f"{ember.tensor([1.0, 2.0])}" == f"{torch.tensor([1.0, 2.0])}"
    assert len(ember.ones(5, 2)) == len(torch.ones(5, 2)) == 5
    assert [x.tolist() for x in ember.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    assert hash(e) != hash(ember.tensor(3)) or e is not ember.tensor(3)
    assert 2.0 in ember.tensor([1.0, 2.0]) and 5 not in ember.tensor([1, 2])
    # any one-element integer or bool tensor is an index, whatever its dims
    assert [1, 2][ember.tensor([[1]])] == [1, 2][torch.tensor([[1]])] == 2
    assert [1, 2][ember.tensor([True])] == [1, 2][torch.tensor([True])] == 2
    check_raises(lambda: format(ember.ones(2), ".2f"), lambda: format(torch.ones(2), ".2f"))
    check_raises(lambda: bool(ember.ones(0)), lambda: bool(torch.ones(0)))
    check_raises(lambda: complex(ember.ones(2)), lambda: complex(torch.ones(2)))
    check_raises(lambda x: [1, 2][ember.tensor(1.0)], lambda x: [1, 2][torch.tensor(1.0)], None)
    check_raises(lambda: bool(ember.ones(2)), lambda: bool(torch.ones(2)))
    check_raises(lambda: len(ember.tensor(1)), lambda: len(torch.tensor(1)))
    check_raises(lambda: iter(ember.tensor(1)), lambda: iter(torch.tensor(1)))
    check_raises(lambda: int(ember.ones(2)), lambda: int(torch.ones(2)))
    check_raises(lambda: float(ember.ones(2)), lambda: float(torch.ones(2)))
    assert math.floor(ember.tensor(2.5)) == 2 if hasattr(ember.Tensor, "__floor__") else True
    assert range(10)[ember.tensor(2):ember.tensor(5)] == range(2, 5)


def test_to_and_casts():
    e, t = pair(np.array([1.7, -2.2, 0.0], dtype=np.float32))
    for name in ["float", "double", "half", "bfloat16", "long", "int", "short", "char", "byte", "bool"]:
        assert_same(getattr(e, name)(), getattr(t, name)())
    for dt in ["float64", "int32", "bool", "float16", "complex64"]:
        assert_same(e.to(getattr(ember, dt)), t.to(getattr(torch, dt)))
        assert_same(e.to(dtype=getattr(ember, dt)), t.to(dtype=getattr(torch, dt)))
        assert_same(e.to("cpu", getattr(ember, dt)), t.to("cpu", getattr(torch, dt)))
    assert e.to(ember.float32) is e and e.float() is e and e.to("cpu") is e and e.cpu() is e
    assert e.to(ember.float32, copy=True) is not e
    other = ember.zeros(1, dtype=ember.float64)
    assert e.to(other).dtype is ember.float64
    assert e.to(ember.device("cpu")) is e
    assert e.type() == t.type() == "torch.FloatTensor"
    assert e.double().type() == "torch.DoubleTensor"
    assert_same(e.type_as(ember.zeros(1, dtype=ember.int16)), t.type_as(torch.zeros(1, dtype=torch.int16)))
    with pytest.raises((AssertionError, RuntimeError), match="CUDA"):
        e.cuda()
    with pytest.raises((AssertionError, RuntimeError), match="CUDA"):
        e.to("cuda")
    assert e.device == ember.device("cpu") and str(e.device) == str(t.device) and repr(e.device) == repr(t.device)
    assert e.is_cuda is False and e.is_cpu and e.get_device() == t.get_device() == -1
    assert e.layout == "torch.strided" or str(e.layout) == str(t.layout)


def test_clone_detach():
    e = ember.tensor([1.0, 2.0], requires_grad=True)
    c = e.clone()
    assert c.requires_grad and c.grad_fn is not None and type(c.grad_fn).__name__ == "CloneBackward0"
    d = e.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 5
    assert e[0].item() == 5  # detach shares storage
    assert d._version == e._version
    x = ember.ones(3)
    y = x.clone()
    y[0] = 2
    assert x[0].item() == 1


def test_new_factories():
    e = ember.ones(2, dtype=ember.float64)
    t = torch.ones(2, dtype=torch.float64)
    assert_same(e.new_zeros(3), t.new_zeros(3))
    assert_same(e.new_zeros((2, 3)), t.new_zeros((2, 3)))
    assert_same(e.new_ones(2, 2), t.new_ones(2, 2))
    assert_same(e.new_full((2,), 7), t.new_full((2,), 7))
    assert_same(e.new_tensor([1, 2]), t.new_tensor([1, 2]))
    assert_same(e.new_tensor([1, 2], dtype=ember.int32), t.new_tensor([1, 2], dtype=torch.int32))
    assert e.new_empty(4).shape == t.new_empty(4).shape and e.new_empty(4).dtype is ember.float64
    assert e.new_zeros(2, requires_grad=True).requires_grad
    i = ember.ones(2, dtype=ember.int32)
    assert_same(i.new_ones(2), torch.ones(2, dtype=torch.int32).new_ones(2))


def test_T_mT_H():
    e, t = pair(np.arange(6.0).reshape(2, 3))
    assert_same(e.T, t.T)
    assert_same(e.mT, t.mT)
    e3, t3 = pair()
    assert_same(e3.mT, t3.mT)
    assert_same(ember.ones(3).T, torch.ones(3).T)
    check_raises(lambda: ember.ones(3).mT, lambda: torch.ones(3).mT)


def test_grad_attribute_rules():
    x = ember.ones(2, requires_grad=True)
    x.grad = ember.zeros(2)
    assert x.grad.tolist() == [0.0, 0.0]
    check_raises(lambda: setattr(ember.ones(2, requires_grad=True), "grad", ember.zeros(3)),
                 lambda: setattr(torch.ones(2, requires_grad=True), "grad", torch.zeros(3)))
    check_raises(lambda: setattr(ember.ones(2, requires_grad=True), "grad", ember.zeros(2, dtype=ember.float64)),
                 lambda: setattr(torch.ones(2, requires_grad=True), "grad", torch.zeros(2, dtype=torch.float64)))
    check_raises(lambda: setattr(ember.ones(2, requires_grad=True), "grad", 3),
                 lambda: setattr(torch.ones(2, requires_grad=True), "grad", 3))
    del x.grad
    assert x.grad is None
    check_raises(lambda: ember.ones(2, dtype=ember.int64).requires_grad_(),
                 lambda: torch.ones(2, dtype=torch.int64).requires_grad_())
    y = x * 2
    check_raises(lambda: setattr(y, "requires_grad", False),
                 lambda: setattr(torch.ones(2, requires_grad=True) * 2, "requires_grad", False))
    with pytest.warns(UserWarning, match="is not a leaf"):
        assert y.grad is None


def test_pickle_and_deepcopy():
    e = ember.arange(6.0).view(2, 3)
    e2 = pickle.loads(pickle.dumps(e))
    assert_same(e2, torch.arange(6.0).view(2, 3))
    r = ember.ones(2, requires_grad=True)
    r2 = copy.deepcopy(r)
    assert r2.requires_grad and r2.is_leaf and r2._data is not r._data
    check_raises(lambda: copy.deepcopy(r * 2), lambda: copy.deepcopy(torch.ones(2, requires_grad=True) * 2))


def test_data_attribute():
    w = ember.ones(3, requires_grad=True)
    d = w.data
    assert not d.requires_grad and d.is_leaf
    w.data -= 0.5 * ember.ones(3)
    assert w.tolist() == [0.5, 0.5, 0.5] and w.requires_grad and w.is_leaf
    w.data = ember.zeros(3)
    assert w.tolist() == [0.0, 0.0, 0.0] and w.requires_grad
    g = ember.full((3,), 2.0)
    w.grad = g
    w.data -= 0.1 * w.grad.data
    assert np.allclose(w.detach().numpy(), -0.2)
