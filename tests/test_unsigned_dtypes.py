"""uint16 / uint32 / uint64: PyTorch's limited-support unsigned dtypes (creation, casts, printing, the few
arithmetic and comparison kernels PyTorch has for them, its promotion errors, checkpoints), against torch."""
import numpy as np
import pytest
import torch

import ember
from parity import assert_same

UNSIGNED = ["uint16", "uint32", "uint64"]
ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
       "complex64", "complex128", *UNSIGNED]


def _outcome(fn):
    """What a call gives, as comparable text: its result's repr (module names dropped) or its exception."""
    try:
        result = fn()
    except Exception as e:   # the oracle's exception type and first message line are part of the behaviour
        return f"{type(e).__name__}: {str(e).splitlines()[0]}"
    return repr(result).replace("torch.", "").replace("ember.", "")


def _cases(m, u):
    a, b = m.tensor([1, 2, 3], dtype=u), m.tensor([4, 5, 6], dtype=u)
    return {
        "repr": lambda: a, "repr_0d": lambda: m.tensor(5, dtype=u), "repr_empty": lambda: m.tensor([], dtype=u),
        "wraps_negative": lambda: m.tensor([-1], dtype=u), "zeros": lambda: m.zeros(2, 2, dtype=u),
        "ones": lambda: m.ones(2, dtype=u), "full": lambda: m.full((2,), 7, dtype=u),
        "full_negative": lambda: m.full((1,), -1, dtype=u), "zeros_like": lambda: m.zeros_like(a),
        "new_zeros": lambda: a.new_zeros(3), "to_int64": lambda: a.to(m.int64), "float": lambda: a.float(),
        "from_float": lambda: m.tensor([1.5, 2.0]).to(u), "int": lambda: a.int(), "bool": lambda: a.bool(),
        "type": lambda: a.type(), "view_int16": lambda: m.tensor([65535], dtype=m.uint16).view(m.int16),
        "tolist": lambda: a.tolist(), "item": lambda: a[1].item(), "numpy": lambda: a.numpy().dtype,
        "mul": lambda: a * b, "mul_scalar": lambda: a * 2, "mul_": lambda: a.clone().mul_(2),
        "div": lambda: a / b, "div_scalar": lambda: a / 2, "add_float": lambda: a + 1.5,
        "mul_complex": lambda: a * 1j, "zero_dim_plus_float": lambda: m.tensor(3, dtype=u) + m.tensor([1.5]),
        "eq": lambda: a == b, "eq_scalar": lambda: a == 2, "ne": lambda: a != b, "equal": lambda: m.equal(a, a),
        "and": lambda: a & b, "or": lambda: a | b, "xor": lambda: a ^ b,
        "sum": lambda: a.sum(), "cumsum": lambda: a.cumsum(0), "prod": lambda: a.prod(),
        "sum_over": lambda: m.tensor([60000, 60000], dtype=u).sum(), "mean": lambda: a.mean(),
        "sqrt": lambda: a.sqrt(), "cat": lambda: m.cat([a, b]), "stack_sum": lambda: m.stack([a, b]).sum(1),
        "sort": lambda: a.sort(), "unique": lambda: a.unique(), "index": lambda: a[[0, 2]],
        "fill_": lambda: a.clone().fill_(3), "all": lambda: a.all(), "any": lambda: a.any(),
        "isnan": lambda: a.isnan(), "is_signed": lambda: a.is_signed(),
        "requires_grad": lambda: m.zeros(2, dtype=u).requires_grad_(),
        "with_int64": lambda: a + m.tensor([1]), "is_floating_point": lambda: u.is_floating_point,
        "itemsize": lambda: u.itemsize, "iinfo": lambda: (m.iinfo(u).min, m.iinfo(u).max, m.iinfo(u).bits),
    }


def _missing_kernel_cases(m, u):
    """Ops whose PyTorch 2.13 CPU kernel is not built for uint16/32/64 (NotImplementedError naming the kernel),
    and the promotion of bool with them."""
    a, b = m.tensor([3, 1, 2], dtype=u), m.tensor([1, 2, 1], dtype=u)
    mask, idx = m.tensor([True, False, True]), m.tensor([0])
    return {
        "add": lambda: a + b, "add_scalar": lambda: a + 1, "sub": lambda: a - b, "rsub": lambda: 5 - a,
        "lt": lambda: a < b, "gt": lambda: a > b, "le": lambda: a <= b, "ge": lambda: a >= b,
        "lt_scalar": lambda: a < 2, "scalar_gt": lambda: 2 > a, "neg": lambda: -a, "abs": lambda: a.abs(),
        "max": lambda: a.max(), "min": lambda: a.min(), "max_dim": lambda: a.max(0), "min_dim": lambda: a.min(0),
        "amax": lambda: a.amax(), "amin": lambda: a.amin(), "maximum": lambda: m.maximum(a, b),
        "minimum": lambda: m.minimum(a, b), "argmax": lambda: a.argmax(), "argmin": lambda: a.argmin(0),
        "floordiv": lambda: a // b, "floordiv_scalar": lambda: a // 2, "remainder": lambda: a % b,
        "pow": lambda: a ** b, "pow_scalar": lambda: a ** 2, "square": lambda: a.square(),
        "lshift": lambda: a << b, "rshift": lambda: a >> b, "bitwise_not": lambda: ~a,
        "arange": lambda: m.arange(5, dtype=u), "sign": lambda: a.sign(), "clamp": lambda: a.clamp(1, 2),
        "clamp_min": lambda: a.clamp(min=1), "clamp_max": lambda: a.clamp(max=1), "topk": lambda: a.topk(2),
        "matmul": lambda: a @ b, "dot": lambda: a.dot(b), "mm": lambda: a.view(3, 1).mm(b.view(1, 3)),
        "logical_and": lambda: m.logical_and(a, b), "logical_or": lambda: m.logical_or(a, b),
        "logical_not": lambda: a.logical_not(), "nonzero": lambda: a.nonzero(),
        "count_nonzero": lambda: a.count_nonzero(), "flip": lambda: a.flip(0), "gather": lambda: a.gather(0, idx),
        "index_select": lambda: a.index_select(0, idx), "scatter": lambda: a.scatter(0, idx, b),
        "masked_fill": lambda: a.masked_fill(mask, 0), "bincount": lambda: a.bincount(),
        "bool_times_0d": lambda: mask * m.tensor(2, dtype=u), "bool_times_1d": lambda: mask * a,
        "with_int64_1d": lambda: a * m.tensor([1, 1, 1]), "pow_float": lambda: a ** 0.5,
        "number_pow": lambda: 2 ** a, "logical_xor": lambda: m.logical_xor(a, b),
        "aminmax": lambda: a.aminmax(), "scatter_add": lambda: a.scatter_add(0, idx, b),
        "scatter_value": lambda: a.scatter(0, idx, 5), "mv": lambda: a.expand(3, 3).mv(b),
        "matmul_3d": lambda: a.expand(2, 3, 3) @ a.expand(2, 3, 3), "matmul_3d_1d": lambda: a.expand(2, 3, 3) @ b,
        "matmul_1d_2d": lambda: b @ a.expand(3, 3), "matmul_2d_3d": lambda: a.expand(3, 3) @ a.expand(2, 3, 3),
        "bmm": lambda: a.expand(2, 3, 3).bmm(a.expand(2, 3, 3)),
    }


CASES = list(_cases(ember, ember.uint16))
MISSING = list(_missing_kernel_cases(ember, ember.uint16))


@pytest.mark.parametrize("name", UNSIGNED)
@pytest.mark.parametrize("case", CASES)
def test_unsigned_ops_match_torch(name, case):
    assert _outcome(_cases(ember, getattr(ember, name))[case]) == _outcome(_cases(torch, getattr(torch, name))[case])


@pytest.mark.parametrize("first", ALL)
@pytest.mark.parametrize("second", UNSIGNED)
def test_promote_types_matches_torch(first, second):
    for x, y in ((first, second), (second, first)):
        assert _outcome(lambda: ember.promote_types(getattr(ember, x), getattr(ember, y))) == \
            _outcome(lambda: torch.promote_types(getattr(torch, x), getattr(torch, y)))


@pytest.mark.parametrize("data", [[2 ** 63 + 5, 1], [[2 ** 64 - 1], [0]], [2 ** 63, -1], [2 ** 64], [[-1, 2]], -1,
                                  [1.5], 2.0, [True, False]])
def test_uint64_beyond_int64(data):
    assert _outcome(lambda: ember.tensor(data, dtype=ember.uint64)) == \
        _outcome(lambda: torch.tensor(data, dtype=torch.uint64))


@pytest.mark.parametrize("name", UNSIGNED)
@pytest.mark.parametrize("case", MISSING)
def test_missing_unsigned_kernels_raise_as_torch(name, case):
    got = _outcome(_missing_kernel_cases(ember, getattr(ember, name))[case])
    want = _outcome(_missing_kernel_cases(torch, getattr(torch, name))[case])
    assert got == want


@pytest.mark.parametrize("name", UNSIGNED)
def test_from_numpy_keeps_unsigned(name):
    arr = np.array([[1, 2], [3, np.iinfo(name).max]], dtype=name)
    assert_same(ember.from_numpy(arr.copy()), torch.from_numpy(arr.copy()))


def test_from_numpy_names_the_unsigned_types():
    arr = np.array(["a"])
    assert _outcome(lambda: ember.from_numpy(arr)) == _outcome(lambda: torch.from_numpy(arr))


@pytest.mark.parametrize("name", UNSIGNED)
def test_checkpoints_both_ways(tmp_path, name):
    arr = np.array([[1, 2, 3], [4, 5, np.iinfo(name).max]], dtype=name)
    e = ember.from_numpy(arr.copy())
    ember.save({"t": e, "view": e[:, 1:].t(), "p": ember.nn.Parameter(e[0], requires_grad=False)},
               tmp_path / "e.pt")
    loaded = torch.load(tmp_path / "e.pt")
    assert_same(e, loaded["t"])
    assert_same(e[:, 1:].t(), loaded["view"])
    assert isinstance(loaded["p"], torch.nn.Parameter) and loaded["p"].dtype == getattr(torch, name)
    assert loaded["view"].untyped_storage().data_ptr() == loaded["t"].untyped_storage().data_ptr()

    t = torch.from_numpy(arr.copy())
    torch.save({"t": t, "view": t[:, 1:].t()}, tmp_path / "t.pt")
    back = ember.load(tmp_path / "t.pt")
    assert_same(back["t"], t)
    assert_same(back["view"], t[:, 1:].t())
    back["t"][0, 1] = 9   # one storage, as in torch
    assert back["view"][0, 0].item() == 9
