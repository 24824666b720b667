"""ember.masked against torch.masked: values, dtypes, gradients and errors of the masked reductions and
normalizations, and the MaskedTensor basics of PyTorch's "MaskedTensor Overview"."""
import warnings

import numpy as np
import pytest
import torch
import torch.masked  # noqa: F401

import ember
from parity import assert_same, check_op, check_raises

warnings.filterwarnings("ignore", "The PyTorch API of MaskedTensors", UserWarning)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)).astype(np.float64)
MASK = np.array([[True, False, True, True], [False, False, False, False], [True, True, False, True]])
ROW_MASK = np.array([True, False, True, False])      # broadcast over the rows
XI = np.array([[1, 5, 2], [7, 3, 4]], dtype=np.int64)
MASK_I = np.array([[True, False, True], [False, True, True]])


def both(name, *args, **kwargs):
    """ember.masked.<name>(x, mask=...) and torch.masked.<name>(x, mask=...), with extra arguments."""
    mask_key = kwargs.pop("mask_key", "mask")

    def run(module):
        return lambda x, m: getattr(module.masked, name)(x, *args, **{mask_key: m}, **kwargs)
    return run(ember), run(torch)


REDUCTIONS = [
    ("sum", (), {}), ("sum", (1,), {}), ("sum", ((0, 1),), {"keepdim": True}), ("sum", (0,), {"dtype": ember}),
    ("prod", (1,), {}), ("prod", (), {}), ("amax", (1,), {}), ("amin", (1,), {"keepdim": True}),
    ("amax", (), {}), ("mean", (1,), {}), ("mean", (), {}), ("mean", (0,), {"keepdim": True}),
    ("logsumexp", (1,), {}), ("norm", (2.0, 1), {}), ("norm", (1.0,), {}), ("norm", (float("inf"), 1), {}),
    ("norm", (float("-inf"), 1), {}), ("var", (1,), {}), ("var", (1,), {"correction": 0}),
    ("var", (0, False), {}), ("std", (1,), {}), ("std", (0,), {"keepdim": True}),
    ("softmax", (1,), {}), ("log_softmax", (1,), {}), ("softmin", (0,), {}), ("cumsum", (1,), {}),
    ("cumprod", (0,), {}), ("normalize", (2.0, 1), {}), ("median", (1,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", REDUCTIONS, ids=[f"{r[0]}{r[1]}{sorted(r[2])}" for r in REDUCTIONS])
@pytest.mark.parametrize("mask", [MASK, ROW_MASK], ids=["full", "broadcast"])
def test_functional_matches_torch(name, args, kwargs, mask):
    kwargs = dict(kwargs)
    if kwargs.get("dtype") is ember:
        kwargs_e, kwargs_t = dict(kwargs, dtype=ember.float32), dict(kwargs, dtype=torch.float32)
    else:
        kwargs_e = kwargs_t = kwargs
    fe = lambda x, m: getattr(ember.masked, name)(x, *args, mask=m, **kwargs_e)   # noqa: E731
    ft = lambda x, m: getattr(torch.masked, name)(x, *args, mask=m, **kwargs_t)   # noqa: E731
    check_op(fe, ft, X.copy(), mask)


@pytest.mark.parametrize("name", ["sum", "prod", "amax", "mean", "var", "softmax", "logsumexp"])
def test_no_mask_is_the_plain_reduction(name):
    check_op(*both(name, 1), X.copy(), None)


@pytest.mark.parametrize("name,args", [("argmax", (1,)), ("argmin", (1,)), ("argmax", ()), ("argmin", (0,))])
def test_arg_reductions_give_indices_in_the_input_dtype(name, args):
    check_op(*both(name, *args), X.copy(), MASK, grad=False)
    check_op(*both(name, *args), XI, MASK_I)


@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "cumsum", "var", "logsumexp", "median"])
def test_integer_inputs(name):
    check_op(*both(name, 1), XI, MASK_I)


def test_integer_sum_with_dtype_and_small_ints():
    check_op(*both("sum", 1, dtype=None), XI.astype(np.int32), MASK_I)
    fe = lambda x, m: ember.masked.sum(x, 1, mask=m, dtype=ember.float64)   # noqa: E731
    ft = lambda x, m: torch.masked.sum(x, 1, mask=m, dtype=torch.float64)   # noqa: E731
    check_op(fe, ft, XI, MASK_I)


def test_logaddexp_with_two_masks():
    other = RNG.standard_normal((3, 4))
    fe = lambda a, b: ember.masked.logaddexp(a, b, input_mask=ember.tensor(MASK), other_mask=ember.tensor(ROW_MASK))  # noqa: E731,E501
    ft = lambda a, b: torch.masked.logaddexp(a, b, input_mask=torch.tensor(MASK), other_mask=torch.tensor(ROW_MASK))  # noqa: E731,E501
    check_op(fe, ft, X.copy(), other)


@pytest.mark.parametrize("call", [
    lambda m, x, k: m.masked.mean(x, 1, mask=k),                       # integer mean: no output dtype
    lambda m, x, k: m.masked.median(x, 1, mask=k[:, :1].expand(2, 3) & False),   # fully masked integer row
    lambda m, x, k: m.masked.sum(x, 1, mask=k.reshape(1, 2, 3)),       # mask of more dims than the input
    lambda m, x, k: m.masked.norm(x, 2.0, 1, mask=k),                 # integer norm
])
def test_errors_match_torch(call):
    check_raises(lambda: call(ember, ember.tensor(XI), ember.tensor(MASK_I)),
                 lambda: call(torch, torch.tensor(XI), torch.tensor(MASK_I)))


def test_mean_error_message():
    with pytest.raises(ValueError, match="Could not infer output dtype. Input dtype must be either a floating"):
        ember.masked.mean(ember.tensor(XI), mask=ember.tensor(MASK_I))


def test_public_names_match_torch():
    assert sorted(ember.masked.__all__) == sorted(torch.masked.__all__)


# -- MaskedTensor ---------------------------------------------------------------------------------------------
def _pair(data=X, mask=MASK, requires_grad=False):
    e = ember.masked.masked_tensor(ember.tensor(data), ember.tensor(mask), requires_grad=requires_grad)
    t = torch.masked.masked_tensor(torch.tensor(data), torch.tensor(mask), requires_grad=requires_grad)
    return e, t


def assert_masked_same(e, t):
    assert ember.masked.is_masked_tensor(e) and torch.masked.is_masked_tensor(t)
    assert_same(e.get_mask(), t.get_mask())
    assert_same(e.to_tensor(0), t.to_tensor(0))


@pytest.mark.parametrize("op", [
    lambda m: m.sin(), lambda m: m.exp(), lambda m: -m, lambda m: m.abs(), lambda m: m + m, lambda m: m * 2.0,
    lambda m: 2.0 * m, lambda m: m - 1.0, lambda m: m / m.exp(), lambda m: m > 0.0, lambda m: m.sum(), lambda m: m.sum(1),
    lambda m: m.amax(1), lambda m: m.amin(0), lambda m: m.mean(), lambda m: m.mean(1), lambda m: m.prod(1),
    lambda m: m.sum(1, keepdim=True),
])
def test_masked_tensor_ops_match_torch(op):
    e, t = _pair()
    assert_masked_same(op(e), op(t))


def test_masked_tensor_parts():
    e, t = _pair()
    assert_same(e.get_data(), t.get_data())
    assert_same(e.to_tensor(float("nan")), t.to_tensor(float("nan")))
    assert tuple(e.shape) == tuple(t.shape) and e.dim() == t.dim() and str(e.dtype) == str(t.dtype)
    assert repr(e) == repr(t)


def test_masked_tensor_gradient():
    e, t = _pair(requires_grad=True)
    (e * e).sum().backward()
    (t * t).sum().backward()
    assert_masked_same(e.grad, t.grad)


def test_as_masked_tensor_keeps_the_graph():
    xe, xt = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ember.masked.as_masked_tensor(xe, ember.tensor(MASK)).exp().sum().backward()
    torch.masked.as_masked_tensor(xt, torch.tensor(MASK)).exp().sum().backward()
    assert_same(xe.grad, xt.grad.to_tensor(0.0))      # torch's is a MaskedTensor; masked-out elements get 0


@pytest.mark.parametrize("make", [
    lambda m: m.masked.masked_tensor(m.ones(2), m.ones(2)),                             # mask not bool
    lambda m: m.masked.masked_tensor(m.ones(2), m.ones(3, dtype=m.bool)),               # shapes differ
    lambda m: m.masked.masked_tensor(m.ones(2), m.tensor([True, False]))
    + m.masked.masked_tensor(m.ones(2), m.tensor([True, True])),                        # masks differ
])
def test_masked_tensor_errors(make):
    check_raises(lambda: make(ember), lambda: make(torch))


def test_construction_warns_prototype():
    with pytest.warns(UserWarning, match="prototype stage"):
        ember.masked.masked_tensor(ember.ones(2), ember.tensor([True, False]))
