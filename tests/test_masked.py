"""ember.masked against torch.masked: values, dtypes, gradients and errors of the masked reductions and
normalizations, and the MaskedTensor basics of PyTorch's "MaskedTensor Overview"."""
import numpy as np
import pytest
import torch
import torch.masked  # noqa: F401

import ember
from parity import assert_same, check_op, check_raises

pytestmark = [pytest.mark.filterwarnings("ignore:The PyTorch API of MaskedTensors:UserWarning"),
              pytest.mark.filterwarnings("ignore:It is not recommended to create a MaskedTensor:UserWarning")]

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


def _same(e, t):
    """ember's result equals torch's: MaskedTensors by mask and specified values, tuples elementwise."""
    if isinstance(t, (tuple, list)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b)
    elif torch.masked.is_masked_tensor(t):
        assert_masked_same(e, t)
    else:
        assert e == t


D = np.array([[1.0, -2.0, 3.0], [0.5, 5.0, -6.0]])
M = np.array([[True, False, True], [False, True, True]])
ROW = np.array([1.0, 2.0, 3.0])
# (lib, mt, dense, mask) -> result: each runs on ember and on torch
TOP_LEVEL = {
    "sin": lambda L, mt, d, m: L.sin(mt), "exp": lambda L, mt, d, m: L.exp(mt),
    "abs": lambda L, mt, d, m: L.abs(mt), "neg": lambda L, mt, d, m: L.neg(mt),
    "sigmoid": lambda L, mt, d, m: L.sigmoid(mt), "sqrt_abs": lambda L, mt, d, m: L.sqrt(L.abs(mt)),
    "clamp": lambda L, mt, d, m: L.clamp(mt, -1.0, 2.0), "clamp_kw": lambda L, mt, d, m: L.clamp(mt, min=0.0),
    "pow": lambda L, mt, d, m: L.pow(mt, 2), "trunc": lambda L, mt, d, m: L.trunc(mt),
    "isnan": lambda L, mt, d, m: L.isnan(mt), "nan_to_num": lambda L, mt, d, m: L.nan_to_num(mt),
    "add": lambda L, mt, d, m: L.add(mt, mt), "add_scalar": lambda L, mt, d, m: L.add(mt, 1),
    "add_dense": lambda L, mt, d, m: L.add(mt, d), "dense_add": lambda L, mt, d, m: L.add(d, mt),
    "dense_method": lambda L, mt, d, m: d.mul(mt), "other_kw": lambda L, mt, d, m: L.add(mt, other=mt),
    "row": lambda L, mt, d, m: L.sub(mt, L.tensor(ROW)), "maximum": lambda L, mt, d, m: L.maximum(mt, d),
    "atan2": lambda L, mt, d, m: L.atan2(mt, d), "fmod": lambda L, mt, d, m: L.fmod(mt, 2.0),
    "logaddexp": lambda L, mt, d, m: L.logaddexp(mt, mt), "gt": lambda L, mt, d, m: L.gt(mt, 0.0),
    "eq": lambda L, mt, d, m: L.eq(mt, mt), "floor_divide": lambda L, mt, d, m: L.floor_divide(mt, 2),
    "sum": lambda L, mt, d, m: L.sum(mt), "sum_dim": lambda L, mt, d, m: L.sum(mt, 1),
    "sum_kw": lambda L, mt, d, m: L.sum(mt, dim=0, keepdim=True), "sum_dims": lambda L, mt, d, m: L.sum(mt, (0, 1)),
    "sum_dtype": lambda L, mt, d, m: L.sum(mt, 1, dtype=L.float32), "mean": lambda L, mt, d, m: L.mean(mt),
    "mean_dim": lambda L, mt, d, m: L.mean(mt, 0), "amax": lambda L, mt, d, m: L.amax(mt, 1),
    "amin": lambda L, mt, d, m: L.amin(mt), "argmax": lambda L, mt, d, m: L.argmax(mt),
    "argmin_dim": lambda L, mt, d, m: L.argmin(mt, 0), "prod": lambda L, mt, d, m: L.prod(mt, 1),
    "var": lambda L, mt, d, m: L.var(mt, 1), "std": lambda L, mt, d, m: L.std(mt),
    "all": lambda L, mt, d, m: L.all(mt > 0), "all_dim": lambda L, mt, d, m: L.all(mt > 0, 1),
    "where": lambda L, mt, d, m: L.where(m, mt, mt), "where_dense": lambda L, mt, d, m: L.where(~m, mt, d),
    "where_dense_first": lambda L, mt, d, m: L.where(m, d, mt),
    "softmax": lambda L, mt, d, m: L.softmax(mt, 1), "softmax_dtype": lambda L, mt, d, m: L.softmax(mt, -1, L.float32),
    "transpose": lambda L, mt, d, m: L.transpose(mt, 0, 1), "t": lambda L, mt, d, m: L.t(mt),
    "select": lambda L, mt, d, m: L.select(mt, 1, 0), "narrow": lambda L, mt, d, m: L.narrow(mt, 1, 1, 2),
    "reshape": lambda L, mt, d, m: L.reshape(mt, (3, 2)), "flatten": lambda L, mt, d, m: L.flatten(mt),
    "unsqueeze": lambda L, mt, d, m: L.unsqueeze(mt, 0), "split": lambda L, mt, d, m: L.split(mt, 1),
    "chunk": lambda L, mt, d, m: L.chunk(mt, 3, 1), "swapaxes": lambda L, mt, d, m: L.swapaxes(mt, 0, 1),
    "ones_like": lambda L, mt, d, m: L.ones_like(mt), "to": lambda L, mt, d, m: mt.to(L.int32),
    "to_kw": lambda L, mt, d, m: mt.to(dtype=L.float32), "type_as": lambda L, mt, d, m: mt.type_as(d.float()),
}
METHODS = {
    "getitem_int": lambda mt: mt[0], "getitem_slice": lambda mt: mt[:, 1:], "getitem_mask": lambda mt: mt[mt.get_mask()],
    "getitem_list": lambda mt: mt[[1, 0]], "getitem_none": lambda mt: mt[None, ..., 0],
    "view": lambda mt: mt.view(3, 2), "view_flat": lambda mt: mt.view(-1), "reshape": lambda mt: mt.reshape(3, 2),
    "transpose": lambda mt: mt.transpose(0, 1), "t": lambda mt: mt.t(), "expand": lambda mt: mt[0:1].expand(3, 3),
    "select": lambda mt: mt.select(1, 0), "unsqueeze": lambda mt: mt.unsqueeze(0), "flatten": lambda mt: mt.flatten(),
    "flatten_dims": lambda mt: mt.unsqueeze(0).flatten(1), "split_kw": lambda mt: mt.split(1, dim=1),
    "unfold": lambda mt: mt.unfold(1, 2, 1), "narrow": lambda mt: mt.narrow(1, 0, 2),
    "double": lambda mt: mt.double(),
    "float": lambda mt: mt.float(), "bool": lambda mt: mt.bool(), "detach": lambda mt: mt.detach(),
    "clone": lambda mt: mt.clone(), "contiguous": lambda mt: mt.t().contiguous(),
    "any_true": lambda mt: (mt > 0)._is_any_true(), "sum_dim": lambda mt: mt.sum(1), "var": lambda mt: mt.var(0),
    "amax": lambda mt: mt.amax(), "softmax": lambda mt: mt.softmax(0), "pow": lambda mt: mt ** 2,
    "rtruediv": lambda mt: 2 / mt, "radd": lambda mt: 2 + mt, "rmul": lambda mt: 3 * mt, "floordiv": lambda mt: mt // 2,
    "and": lambda mt: (mt > 0) & (mt < 2), "invert": lambda mt: ~(mt > 0), "lt": lambda mt: mt < 1.0,
    "add_": lambda mt: mt.clone().add_(1), "sin_": lambda mt: mt.clone().sin_(), "item": lambda mt: mt.sum().item(),
    "float_of": lambda mt: float(mt[0, 0]), "numel": lambda mt: mt.numel(), "len": lambda mt: len(mt),
    "is_contiguous": lambda mt: mt.t().is_contiguous(),
}


def _libs_pair(lib, requires_grad=False, data=D, mask=M):
    mt = lib.masked.masked_tensor(lib.tensor(data), lib.tensor(mask), requires_grad=requires_grad)
    return mt, lib.tensor(data), lib.tensor(mask)


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_top_level_functions_dispatch_as_torch(name):
    _same(TOP_LEVEL[name](ember, *_libs_pair(ember)), TOP_LEVEL[name](torch, *_libs_pair(torch)))


@pytest.mark.parametrize("name", sorted(METHODS))
def test_methods_indexing_and_views_match_torch(name):
    e, t = _libs_pair(ember)[0], _libs_pair(torch)[0]
    _same(METHODS[name](e), METHODS[name](t))


def test_passthrough_keeps_unspecified_values():
    e, t = _libs_pair(ember)[0], _libs_pair(torch)[0]
    for op in (lambda m: m[:, 1:], lambda m: m.view(3, 2), lambda m: m.t(), lambda m: m.exp(), lambda m: m + m):
        assert_same(op(e).get_data(), op(t).get_data())


GRADIENTS = {
    "view": lambda mt: mt.view(3, 2).sum(), "reshape": lambda mt: (mt.reshape(3, 2) * 2.0).sum(),
    "transpose": lambda mt: mt.t().exp().sum(), "select": lambda mt: mt.select(0, 1).sum(),
    "slice": lambda mt: mt[:, 1:].sin().sum(), "expand": lambda mt: mt[0:1].expand(3, 3).sum(),
    "flatten": lambda mt: mt.flatten().sin().sum(), "clone_contiguous": lambda mt: mt.t().contiguous().clone().sum(),
    "mean_dim": lambda mt: mt.mean(1).sum(), "amax": lambda mt: mt.amax(0).sum(), "to": lambda mt: mt.to(mt.dtype).sum(),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradients_flow_through_views_as_torch(name):
    """Gradient values equal torch's where torch's gradient is specified; ember's ``.grad`` keeps the leaf's mask
    (torch narrows it to the selected elements, which get gradient 0 in ember)."""
    e, t = _libs_pair(ember, True)[0], _libs_pair(torch, True)[0]
    GRADIENTS[name](e).backward()
    GRADIENTS[name](t).backward()
    assert_same(e.grad.get_mask(), t.get_mask())
    assert not bool((t.grad.get_mask() & ~t.get_mask()).any())
    assert_same(e.grad.to_tensor(0), t.grad.to_tensor(0))


def test_top_level_gradient():
    e, t = _libs_pair(ember, True)[0], _libs_pair(torch, True)[0]
    ember.sum(ember.mul(ember.sin(e), e), 1).sum().backward()
    torch.sum(torch.mul(torch.sin(t), t), 1).sum().backward()
    assert_masked_same(e.grad, t.grad)


ERRORS = {
    "masks_differ": lambda L, mt, d, m: L.add(mt, L.masked.masked_tensor(d, ~m)),
    "masks_differ_operator": lambda L, mt, d, m: mt * L.masked.masked_tensor(d, ~m),
    "binary_kwargs": lambda L, mt, d, m: L.add(mt, mt, alpha=2),
    "div_rounding": lambda L, mt, d, m: L.div(mt, 2, rounding_mode="floor"),
    "unary_kwargs": lambda L, mt, d, m: L.round(mt, decimals=1),
    "unary_tensor_arg": lambda L, mt, d, m: L.clamp(mt, d, d), "pow_tensor": lambda L, mt, d, m: L.pow(mt, d),
    "reduce_extra_kw": lambda L, mt, d, m: mt.var(1, unbiased=False),
    "reduce_no_dim": lambda L, mt, d, m: mt.sum(keepdim=True),
    "mean_int": lambda L, mt, d, m: L.masked.masked_tensor(d.long(), m).mean(),
    "squeeze": lambda L, mt, d, m: mt.unsqueeze(0).squeeze(0), "permute": lambda L, mt, d, m: mt.permute(1, 0),
    "relu": lambda L, mt, d, m: mt.relu(), "logical_not": lambda L, mt, d, m: mt.logical_not(),
    "isinf": lambda L, mt, d, m: mt.isinf(), "rsub": lambda L, mt, d, m: 1 - mt, "rpow": lambda L, mt, d, m: 2 ** mt,
    "any_true_float": lambda L, mt, d, m: mt._is_any_true(),
    "item_unspecified": lambda L, mt, d, m: mt[0, 1].item(),
    "bad_dtype": lambda L, mt, d, m: L.masked.masked_tensor(d.to(L.uint8), m),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_torch(name):
    e = check_raises(lambda: ERRORS[name](ember, *_libs_pair(ember)), lambda: ERRORS[name](torch, *_libs_pair(torch)))
    if name.startswith("masks_differ"):
        assert str(e) == "Input masks must match. If you need support for this, please open an issue on Github."


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
