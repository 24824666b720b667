"""Creation functions and legacy constructors: values, dtypes and shapes against torch."""
import collections
import warnings

import numpy as np
import pytest
import torch

import ember
from parity import assert_same, check_raises

DATA = [
    [1, 2, 3], [1.0, 2, 3], [[1, 2], [3, 4]], [True, False], (1, 2.5), [[1.5], [2.5]], 3, 2.5, True, [],
    [[]], [1 + 2j, 3], [[1, 2], (3, 4)], [False, 2], np.float64(3.5), np.int32(7), [np.float32(1.5), 2.0],
    [np.int16(3), 4], [np.float64(1.0), np.float64(2.0)], [[[1.0, 2.0]], [[3.0, 4.0]]], [1, np.float64(2.0)],
    [2.0, np.float32(1.5)], [np.int16(1), np.int16(2)], np.bool_(True), np.int32(3), [[1, 2.5], [np.float64(1), 2]],
]


@pytest.mark.parametrize("data", DATA, ids=[repr(d) for d in DATA])
def test_tensor_infers_like_torch(data):
    assert_same(ember.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8", "bool", "int8",
                                   "bfloat16", "complex64"])
def test_tensor_with_dtype(dtype):
    data = [[0.0, 1.7, -2.2], [3.9, 127.0, 1.0]] if dtype not in ("uint8", "bool") else [[0, 1, 2], [3, 255, 1]]
    assert_same(ember.tensor(data, dtype=getattr(ember, dtype)), torch.tensor(data, dtype=getattr(torch, dtype)))


def test_tensor_from_tensors_numpy_and_deque():
    e_parts = [ember.tensor(1.5), ember.tensor(2.5)]
    t_parts = [torch.tensor(1.5), torch.tensor(2.5)]
    assert_same(ember.tensor(e_parts), torch.tensor(t_parts))
    assert_same(ember.tensor([ember.tensor(1), ember.tensor(2)]), torch.tensor([torch.tensor(1), torch.tensor(2)]))
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    e = ember.tensor(a)
    assert_same(e, torch.tensor(a))
    a[0, 0] = 100
    assert e[0, 0].item() == 0  # tensor() copies
    assert_same(ember.tensor(collections.deque([1.0, 2.0])), torch.tensor(collections.deque([1.0, 2.0])))
    assert_same(ember.tensor(range(4)), torch.tensor(range(4)))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        c = ember.tensor(ember.ones(2))
    assert any("sourceTensor.detach().clone()" in str(x.message) for x in w)
    assert_same(c, torch.ones(2))


def test_tensor_bad_input():
    for bad in ([[1, 2], [3]], [[1], 2], [1, [2]], [[[1]], [[1, 2]]]):
        check_raises(ember.tensor, torch.tensor, bad)
    with pytest.raises(TypeError):
        torch.tensor("abc")
    with pytest.raises(TypeError):
        ember.tensor("abc")
    with pytest.raises((TypeError, RuntimeError)):
        ember.tensor([object()])
    for value, dt in [(256, "uint8"), (128, "int8"), (-129, "int8"), (300.0, "int8"), (2 ** 31, "int32"),
                      (1e20, "int64")]:
        with pytest.raises(RuntimeError, match="without overflow"):
            torch.tensor([value], dtype=getattr(torch, dt))
        with pytest.raises(RuntimeError, match="without overflow"):
            ember.tensor([value], dtype=getattr(ember, dt))
    assert_same(ember.tensor([-1], dtype=ember.uint8), torch.tensor([-1], dtype=torch.uint8))


def test_from_numpy_shares_memory():
    a = np.zeros((2, 3), dtype=np.float32)
    t = ember.from_numpy(a)
    a[1, 2] = 5
    assert t[1, 2].item() == 5
    t[0, 0] = 7
    assert a[0, 0] == 7
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    b = np.arange(10.0)[::2]
    assert_same(ember.from_numpy(b), torch.from_numpy(b))
    assert ember.from_numpy(b).stride() == torch.from_numpy(b).stride()
    with pytest.raises(ValueError):
        ember.from_numpy(np.arange(5.0)[::-1])
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


def test_as_tensor_and_asarray_sharing():
    a = np.ones(3)
    e = ember.as_tensor(a)
    a[0] = 9
    assert e[0].item() == 9
    e2 = ember.as_tensor(a, dtype=ember.float32)
    a[1] = 8
    assert e2[1].item() == 1 and e2.dtype is ember.float32
    x = ember.ones(3)
    assert ember.as_tensor(x) is x
    assert ember.asarray(x) is x or ember.asarray(x).data_ptr() == x.data_ptr()
    y = ember.asarray(x, copy=True)
    y[0] = 5
    assert x[0].item() == 1
    assert_same(ember.asarray([1, 2]), torch.asarray([1, 2]))
    assert_same(ember.as_tensor([1.0, 2.0], dtype=ember.float64), torch.as_tensor([1.0, 2.0], dtype=torch.float64))
    z = ember.asarray(a)
    a[2] = 6
    assert z[2].item() == 6


SIZES = [(), (3,), (2, 3), (2, 0, 4)]


@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_zeros_ones(name):
    for size in SIZES:
        if size:
            assert_same(getattr(ember, name)(*size), getattr(torch, name)(*size))
        assert_same(getattr(ember, name)(size), getattr(torch, name)(size))
        assert_same(getattr(ember, name)(list(size), dtype=ember.int32), getattr(torch, name)(list(size),
                                                                                             dtype=torch.int32))
        assert_same(getattr(ember, name)(ember.Size(size)), getattr(torch, name)(torch.Size(size)))
    src_e, src_t = ember.ones(2, 3, dtype=ember.float64), torch.ones(2, 3, dtype=torch.float64)
    assert_same(getattr(ember, name + "_like")(src_e), getattr(torch, name + "_like")(src_t))
    assert_same(getattr(ember, name + "_like")(src_e, dtype=ember.int16),
                getattr(torch, name + "_like")(src_t, dtype=torch.int16))
    r = getattr(ember, name)(2, requires_grad=True)
    assert r.requires_grad and r.is_leaf


def test_empty_full():
    for size in SIZES:
        e, t = ember.empty(size), torch.empty(size)
        assert e.shape == t.shape and e.dtype is ember.float32
        assert ember.empty_like(ember.ones(size, dtype=ember.int8)).dtype is ember.int8
    for fill in (2, 2.5, True, 1 + 1j):
        assert_same(ember.full((2, 3), fill), torch.full((2, 3), fill))
        assert_same(ember.full([2], fill, dtype=ember.float64), torch.full([2], fill, dtype=torch.float64)) \
            if not isinstance(fill, complex) else None
    assert_same(ember.full((2,), ember.tensor(3.0)), torch.full((2,), torch.tensor(3.0)))
    assert_same(ember.full_like(ember.ones(2, dtype=ember.int32), 7), torch.full_like(torch.ones(2, dtype=torch.int32), 7))
    assert_same(ember.full_like(ember.ones(2), 7, dtype=ember.float64),
                torch.full_like(torch.ones(2), 7, dtype=torch.float64))
    with pytest.raises(RuntimeError):
        ember.zeros(-1, 2)
    with pytest.raises(RuntimeError):
        torch.zeros(-1, 2)
    with pytest.raises(TypeError):
        ember.zeros(2.5)
    with pytest.raises(TypeError):
        torch.zeros(2.5)


def test_full_keeps_the_value_and_refuses_what_torch_refuses():
    # -0.0 keeps its sign (it is no zeros() call); values at a dtype's edge go in, complex ones into a real type
    # when their imaginary part is 0; other complex numbers and numbers beyond the dtype's range raise as in torch
    for fill, dt in [(-0.0, "float32"), (-0.0, "float64"), (0, "float32"), (65504.0, "float16"), (-128, "int8"),
                     (255, "uint8"), (-1, "uint8"), (float("inf"), "float32"), (float("nan"), "bfloat16"),
                     (2.5, "int32"), (True, "float32"), (1 + 2j, "complex64"), (1 + 0j, "float32"),
                     (2.5 + 0j, "int64"), (1j, "bool"), (0j, "bool")]:
        e, t = ember.full((3,), fill, dtype=getattr(ember, dt)), torch.full((3,), fill, dtype=getattr(torch, dt))
        assert_same(e, t)
        np.testing.assert_array_equal(np.signbit(e.float().numpy()), np.signbit(t.float().numpy()))
    for fill, dt in [(1 + 2j, "float32"), (300 + 0j, "uint8"), (256, "uint8"), (1e5, "float16"),
                     (float("inf"), "int32"), (float("nan"), "int64")]:
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match="value cannot be converted to type .* without overflow"):
                lib.full((2,), fill, dtype=getattr(lib, dt))


ARANGE = [(5,), (1, 5), (0, 10, 3), (5, 0, -1), (0.0, 1.0, 0.1), (0, 1, 0.25), (1.5,), (-3, 3), (0, 0), (10, 0, -2.5),
          (0, 5, 1.5), (0.1, 0.9, 0.2)]


@pytest.mark.parametrize("args", ARANGE, ids=[repr(a) for a in ARANGE])
def test_arange(args):
    assert_same(ember.arange(*args), torch.arange(*args))
    assert_same(ember.arange(*args, dtype=ember.float64), torch.arange(*args, dtype=torch.float64))
    if all(isinstance(a, int) for a in args):
        assert_same(ember.arange(*args, dtype=ember.int32), torch.arange(*args, dtype=torch.int32))


def test_arange_errors():
    for args in [(0, 5, 0), (5, 0, 1)]:
        with pytest.raises(RuntimeError):
            torch.arange(*args)
        with pytest.raises(RuntimeError):
            ember.arange(*args)


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 2, 1), (0, 10, 0), (1, 0, 7), (0, 1, 100), (-1.5, 3.25, 11),
                                  (0, 100, 3)])
def test_linspace_logspace(args):
    assert_same(ember.linspace(*args), torch.linspace(*args))
    assert_same(ember.linspace(*args, dtype=ember.float64), torch.linspace(*args, dtype=torch.float64))
    assert_same(ember.logspace(*args), torch.logspace(*args), rtol=1e-5)
    assert_same(ember.logspace(*args, base=2), torch.logspace(*args, base=2), rtol=1e-5)
    assert_same(ember.logspace(*args, dtype=ember.float64), torch.logspace(*args, dtype=torch.float64))


def test_linspace_integer_dtype():
    assert_same(ember.linspace(0, 10, 4, dtype=ember.int64), torch.linspace(0, 10, 4, dtype=torch.int64))
    assert_same(ember.linspace(0, 10, 7, dtype=ember.int32), torch.linspace(0, 10, 7, dtype=torch.int32))


def test_eye():
    for args in [(3,), (2, 4), (4, 2), (0,), (1, 1)]:
        assert_same(ember.eye(*args), torch.eye(*args))
        assert_same(ember.eye(*args, dtype=ember.int64), torch.eye(*args, dtype=torch.int64))
        assert_same(ember.eye(*args, dtype=ember.bool), torch.eye(*args, dtype=torch.bool))


def test_random_creation_shapes_and_dtypes():
    cases = [
        (lambda m: m.rand(2, 3), None), (lambda m: m.rand((4,), dtype=m.float64), None),
        (lambda m: m.randn(3), None), (lambda m: m.randn(2, 2, dtype=m.float16), None),
        (lambda m: m.randint(10, (3, 2)), None), (lambda m: m.randint(-5, 5, (4,)), None),
        (lambda m: m.randint(0, 3, (2,), dtype=m.int32), None), (lambda m: m.randperm(7), None),
        (lambda m: m.randperm(5, dtype=m.int32), None),
        (lambda m: m.normal(0.0, 1.0, (2, 3)), None), (lambda m: m.normal(m.zeros(3), 1.0), None),
        (lambda m: m.normal(m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64)), None),
        (lambda m: m.normal(2.0, m.ones(2, 2)), None),
        (lambda m: m.bernoulli(m.full((5,), 0.5)), None), (lambda m: m.bernoulli(m.ones(3, dtype=m.float64)), None),
        (lambda m: m.multinomial(m.tensor([0.2, 0.3, 0.5]), 2), None),
        (lambda m: m.multinomial(m.tensor([[0.2, 0.8], [0.5, 0.5]]), 5, replacement=True), None),
        (lambda m: m.rand_like(m.ones(2, dtype=m.float64)), None), (lambda m: m.randn_like(m.ones(3)), None),
        (lambda m: m.randint_like(m.ones(2, 2), 5), None), (lambda m: m.randint_like(m.ones(4), 2, 5), None),
    ]
    for fn, _ in cases:
        e, t = fn(ember), fn(torch)
        assert tuple(e.shape) == tuple(t.shape)
        assert str(e.dtype) == str(t.dtype)


def test_random_values_in_range():
    ember.manual_seed(1)
    u = ember.rand(2000)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.05
    n = ember.randn(4000, dtype=ember.float64)
    assert abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    r = ember.randint(3, 7, (1000,))
    assert set(r.tolist()) == {3, 4, 5, 6}
    assert sorted(ember.randperm(20).tolist()) == list(range(20))
    b = ember.bernoulli(ember.tensor([0.0, 1.0] * 50))
    assert b.tolist() == [0.0, 1.0] * 50
    m = ember.multinomial(ember.tensor([0.0, 1.0, 0.0, 2.0]), 2)
    assert sorted(m.tolist()) == [1, 3]
    m = ember.multinomial(ember.tensor([[0.0, 1.0], [1.0, 0.0]]), 3, replacement=True)
    assert m.tolist() == [[1, 1, 1], [0, 0, 0]]
    nm = ember.normal(ember.tensor([100.0, -100.0]), ember.tensor([0.001, 0.001]))
    assert abs(nm[0].item() - 100) < 0.1 and abs(nm[1].item() + 100) < 0.1


def test_random_errors():
    for fn in [lambda m: m.randint(5, 5, (2,)), lambda m: m.multinomial(m.tensor([0.5, 0.5]), 3),
               lambda m: m.multinomial(m.tensor([-1.0, 1.0]), 1), lambda m: m.bernoulli(m.tensor([2.0])),
               lambda m: m.normal(m.zeros(2), -m.ones(2)), lambda m: m.rand(2, dtype=m.int64),
               lambda m: m.randperm(-1)]:
        with pytest.raises(RuntimeError):
            fn(torch)
        with pytest.raises(RuntimeError):
            fn(ember)


LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "ByteTensor",
          "CharTensor", "BoolTensor", "BFloat16Tensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_typed_constructors(name):
    E, T = getattr(ember, name), getattr(torch, name)
    e, t = E(2, 3), T(2, 3)
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    data = [[1, 0], [1, 1]]
    assert_same(E(data), T(data))
    assert_same(E(np.array([1.0, 0.0])), T(np.array([1.0, 0.0]))) if name != "BFloat16Tensor" else None
    assert_same(E(ember.Size([2])).zero_() if hasattr(ember.Tensor, "zero_") else E(2).fill_(0),
                T(torch.Size([2])).zero_())
    assert_same(E(), T())
    assert type(E(1)) is ember.Tensor
    assert isinstance(E(1), E) and isinstance(E(1), ember.Tensor)
    assert not isinstance(ember.ones(1, dtype=ember.complex64), E)
    assert E(1).type() == T(1).type() == "torch." + name


def test_legacy_tensor_constructor():
    assert_same(ember.Tensor([1, 2]), torch.Tensor([1, 2]))
    assert_same(ember.Tensor([[1.5, 2]]), torch.Tensor([[1.5, 2]]))
    assert tuple(ember.Tensor(3, 5).shape) == (3, 5) and ember.Tensor(3, 5).dtype is ember.float32
    assert_same(ember.Tensor(), torch.Tensor())
    assert_same(ember.Tensor(np.array([1, 2], dtype=np.int32)), torch.Tensor(np.array([1, 2], dtype=np.int32)))
    assert_same(ember.Tensor(ember.Size([2, 2])).fill_(1) if hasattr(ember.Tensor, "fill_") else ember.ones(2, 2),
                torch.ones(2, 2))
    assert isinstance(ember.Tensor(2), ember.Tensor)
    with pytest.raises(TypeError):
        torch.Tensor(2, 2.5)
    with pytest.raises(TypeError):
        ember.Tensor(2, 2.5)
    x = ember.ones(3)
    y = ember.Tensor(x)  # shares x
    y[0] = 5
    assert x[0].item() == 5


def test_type_conversions_by_name():
    e, t = ember.tensor([1.5, -2.5]), torch.tensor([1.5, -2.5])
    for name in ["torch.DoubleTensor", "torch.LongTensor", "torch.IntTensor", "torch.HalfTensor", "torch.BoolTensor"]:
        assert_same(e.type(name), t.type(name))
    assert_same(e.type(ember.IntTensor), t.type(torch.IntTensor))
    assert_same(e.type(ember.float64), t.type(torch.float64))


SIZE_KEYWORD_CALLS = ["empty(size=(2, 3))", "zeros(size=(2, 3))", "ones(size=[2, 3])", "rand(size=(2, 3))",
                      "randn(size=(2, 3))", "zeros(size=())", "zeros(2, 3)", "zeros((2, 3))", "zeros([])",
                      "empty_strided(size=(2, 3), stride=(3, 1))", "full(size=(2,), fill_value=1.5)",
                      "randint(10, size=(4,))", "ones(2).new_zeros(size=(2, 3))", "ones(2).new_ones(2, 3)",
                      "ones(2).new_empty((2, 3))", "ones(2).new_full(size=(2,), fill_value=3)",
                      # errors: both forms, a bare int, no size at all
                      "zeros(2, size=(2, 3))", "zeros(size=4)", "zeros()", "ones()", "empty()",
                      "ones(2).new_zeros(2, size=(3,))", "ones(2).new_empty()"]


@pytest.mark.parametrize("call", SIZE_KEYWORD_CALLS)
def test_size_keyword_as_torch(call):
    """Sizes as varargs, one sequence or ``size=`` (GAT's ``torch.empty(size=(2, 3))``); torch's TypeErrors."""
    outcomes = []
    for lib in (ember, torch):
        try:
            r = eval("lib." + call, {"lib": lib})
            outcomes.append((tuple(r.shape), str(r.dtype).split(".")[1]))
        except TypeError as e:
            outcomes.append(("TypeError", str(e)))
    assert outcomes[0] == outcomes[1]
