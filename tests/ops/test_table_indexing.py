"""Op table: indexing (``t[key]``, ``t[key] = v``), gather/scatter family, index_* ops, masked ops, take, put,
nonzero — values, dtypes, gradients (and second derivatives on a third of the rows) against torch;
exception types for bad input; autograd through in-place writes into views."""
import numpy as np
import pytest
import torch

import ember
from devices import TABLE_DEVICES
from empty_variants import check_same_outcome, empty_rows
from parity import check_op, check_raises, assert_same

rng = np.random.default_rng(1)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((4,))
C = rng.standard_normal((2, 3, 4, 5))
S = np.array(0.7)
V2 = rng.standard_normal((2, 4))
SRC = rng.standard_normal((3, 4))
POS = rng.uniform(0.5, 2.0, (3, 4))
SRC_POS = rng.uniform(0.5, 2.0, (3, 4))
I64 = rng.integers(-5, 5, (3, 4))
MASK = rng.random((3, 4)) > 0.4


def _t(m, data, dtype=None):
    return m.tensor(data, dtype=dtype or m.int64)


def _set(key_fn, value_fn=None, value=None):
    """y = a * 1; y[key] = value; return y (value from the second input, or a number)."""
    def f(m, a, *v):
        y = a * 1
        y[key_fn(m)] = value_fn(m, *v) if value_fn else value
        return y
    return f


ROWS = [
    # ---- getitem
    ("get_int", lambda m, a: a[1], (A,), True),
    ("get_neg_int", lambda m, a: a[-1, -2], (A,), False),
    ("get_slice_step", lambda m, a: a[::2, 1::2], (A,), True),
    ("get_slice_oob", lambda m, a: a[1:10, -10:2], (A,), False),
    ("get_none_ellipsis", lambda m, a: a[None, ..., None, 1], (C,), False),
    ("get_ellipsis_mid", lambda m, c: c[0, ..., 2], (C,), True),
    ("get_0d_tensor_int", lambda m, a: a[m.tensor(2)], (A,), False),
    ("get_list", lambda m, a: a[[0, 2, 2]], (A,), True),
    ("get_list_neg", lambda m, a: a[:, [-1, 0]], (A,), False),
    ("get_tensor_2d_index", lambda m, a: a[_t(m, [[0, 1], [2, 0]])], (A,), True),
    ("get_int32_index", lambda m, a: a[_t(m, [1, 2], m.int32)], (A,), False),
    ("get_range_and_tensor", lambda m, a: a[range(3), _t(m, [0, 3, 1])], (A,), True),
    ("get_range_step", lambda m, a: a[:, range(3, 0, -2)], (A,), False),
    ("set_range", _set(lambda m: (range(1, 3), 0), value=5.0), (A,), False),
    ("get_mask", lambda m, a: a[a > 0], (A,), True),
    ("get_mask_row", lambda m, a: a[m.tensor([True, False, True])], (A,), False),
    ("get_mask_partial", lambda m, c: c[:, m.tensor([True, False, True])], (C,), False),
    ("get_mask_2d_mid", lambda m, c: c[0, :, m.ones(4, 5, dtype=m.bool)], (C,), False),
    ("get_bool_true", lambda m, a: a[True], (A,), False),
    ("get_bool_false", lambda m, a: a[False], (A,), False),
    ("get_two_ellipsis", lambda m, c: c[..., 0, ...], (C,), False),
    ("get_adv_adjacent", lambda m, c: c[:, [0, 1], [1, 2]], (C,), True),
    ("get_adv_separated", lambda m, c: c[[0, 1], :, [1, 2]], (C,), True),
    ("get_adv_int_separated", lambda m, c: c[0, :, [1, 2]], (C,), False),
    ("get_adv_int_between", lambda m, c: c[:, [0, 1], 0, [1, 2]], (C,), False),
    ("get_adv_broadcast", lambda m, a: a[_t(m, [[0], [2]]), _t(m, [[1, 3]])], (A,), True),
    ("get_adv_none", lambda m, a: a[None, [0, 1], None], (A,), False),
    ("get_adv_slice_first", lambda m, c: c[1:, [0, 2]], (C,), False),
    ("get_tuple_in_tuple", lambda m, a: a[(0, 1), ], (A,), False),
    ("get_nested_list_index", lambda m, a: a[[[0, 1], [1, 2]]], (A,), False),
    ("get_empty_list", lambda m, a: a[[]], (A,), False),
    ("get_0d_input_ellipsis", lambda m, s: s[...], (S,), False),
    ("get_0d_input_none", lambda m, s: s[None], (S,), False),
    ("get_noncontig", lambda m, a: a.mT[1:, [0, 2]], (A,), True),
    ("get_int_tensor_dtype", lambda m, i: i[[0, 1], 2:], (I64,), False),
    ("get_uint8_mask", lambda m, a: a[m.tensor([1, 0, 1], dtype=m.uint8)], (A,), False),
    # ---- setitem (with autograd through the written tensor and the value)
    ("set_int_scalar", _set(lambda m: 1, value=2.5), (A,), False),
    ("set_int_tensor", _set(lambda m: 1, lambda m, v: v * 2), (A, B), True),
    ("set_slice_bcast", _set(lambda m: (slice(None), slice(1, 3)), lambda m, v: v[:2]), (A, B), True),
    ("set_step", _set(lambda m: (slice(None, None, 2),), lambda m, v: v), (A, V2), False),
    ("set_none", _set(lambda m: (None, 1), lambda m, v: v.unsqueeze(0)), (A, B), False),
    ("set_ellipsis", _set(lambda m: (Ellipsis, 0), lambda m, v: v[:3]), (A, B), False),
    ("set_list", _set(lambda m: [0, 2], lambda m, v: v), (A, V2), True),
    ("set_list_dup", _set(lambda m: [0, 0], lambda m, v: v[:1]), (A, V2), False),
    ("set_adv_pair", _set(lambda m: ([0, 1], [1, 3]), lambda m, v: v[:2]), (A, B), True),
    ("set_adv_separated", lambda m, c, v: _setitem_ret(c * 1, ([0, 1], slice(None), [1, 2]), v[:, :3, 0, :5]),
     (C, C), False),
    ("set_adv_int_separated", lambda m, c, v: _setitem_ret(c * 1, (0, slice(None), [1, 2]), v[0, :3, :2]),
     (C, C), False),
    ("set_mask_scalar", lambda m, a: _setitem_ret(a * 1, a > 0, 0.0), (A,), True),
    ("set_mask_tensor", lambda m, a, v: _setitem_ret(a * 1, m.tensor([True, False, True]), v), (A, B), False),
    ("set_0d_value", _set(lambda m: (1, 2), lambda m, s: s * 3), (A, S), True),
    ("set_value_leading_ones", _set(lambda m: 0, lambda m, v: v.reshape(1, 4)), (A, B), False),
    ("set_leaf_value_only", lambda m, v: _setitem_ret(m.zeros(3, 4, dtype=m.float64), 1, v), (B,), True),
    ("set_int_target_float_value", lambda m, i: _setitem_ret(i.clone(), 0, 2.7), (I64,), False),
    ("set_cast_basic", lambda m, a, i: _setitem_ret(a.float(), 0, i[0]), (A, I64), False),
    ("set_then_use_view", lambda m, a, v: _write_view_then_use(a, v), (A, B), True),
    ("set_through_view", lambda m, a, v: _set_through_view(a, v), (A, B), True),
    ("inplace_on_view_then_base", lambda m, a, v: _inplace_view(a, v), (A, B), True),
    ("inplace_base_then_view", lambda m, a: _base_then_view(a), (A,), True),
    ("inplace_view_of_view", lambda m, a, v: _view_of_view(a, v), (A, B), True),
    ("view_used_before_and_after_base_write", lambda m, a, v: _before_after(a, v), (A, B), True),
    ("setitem_adv_on_view", lambda m, a, v: _adv_on_view(a, v), (A, B), False),
    ("inplace_on_transpose", lambda m, a, v: _on_transpose(a, v), (A, B), True),
    ("copy_fill_zero_on_rows", lambda m, a, v: _copy_fill_zero(a, v), (A, B), True),
    ("augmented_assign_slices", lambda m, a, v: _augmented(a, v), (A, B), False),
    ("view_flat_then_setitem", lambda m, a, v: _flat_setitem(a, v), (A, B), False),
    ("setitem_into_zeros", lambda m, a, v: _into_zeros(m, a, v), (A, B), True),
    ("inplace_on_reshape_view", lambda m, a: _on_reshape(a), (A,), False),
    ("setitem_through_mT", lambda m, a, v: _through_mT(a, v), (A, B), False),
    # ---- gather / scatter
    ("gather", lambda m, a: a.gather(1, _t(m, [[0, 0], [1, 3], [2, 1]])), (A,), True),
    ("gather_dim0_neg", lambda m, a: m.gather(a, -2, _t(m, [[2, 1, 0, 0]])), (A,), False),
    ("gather_int32", lambda m, a: a.gather(0, _t(m, [[1]], m.int32)), (A,), False),
    ("gather_0d", lambda m, s: s.gather(0, _t(m, 0)), (S,), False),
    ("gather_noncontig", lambda m, a: a.mT.gather(1, _t(m, [[0, 2]] * 4)), (A,), True),
    ("scatter_src", lambda m, a, s: a.scatter(1, _t(m, [[0, 1], [2, 0], [3, 3]]), s[:, :2]), (A, SRC), True),
    ("scatter_src_larger_nograd", lambda m, a, s: a.detach().scatter(1, _t(m, [[0, 1]]), s.detach()),
     (A, SRC), False),
    ("scatter_value", lambda m, a: m.scatter(a, 0, _t(m, [[2, 0, 1, 2]]), 1.5), (A,), False),
    ("scatter_value_kw", lambda m, a: a.scatter(0, _t(m, [[2, 0]]), value=-1), (A,), False),
    ("scatter_reduce_add", lambda m, a, s: a.detach().scatter(1, _t(m, [[0, 0]]), s.detach(), reduce="add"),
     (A, SRC), False),
    ("scatter_reduce_mul", lambda m, a: a.detach().scatter(1, _t(m, [[1, 1]]), 2.0, reduce="multiply"), (A,), False),
    ("scatter_", lambda m, a, s: (a * 1).scatter_(1, _t(m, [[0], [1], [2]]), s[:, :1]), (A, SRC), True),
    ("scatter_int", lambda m, i: i.scatter(0, _t(m, [[0, 1, 2, 0]]), 7), (I64,), False),
    ("scatter_add", lambda m, a, s: a.scatter_add(0, _t(m, [[0, 0, 1, 1], [0, 2, 2, 0]]), s[:2]), (A, SRC), True),
    ("scatter_add_fn", lambda m, a, s: m.scatter_add(a, 1, _t(m, [[3], [3], [0]]), s[:, :1]), (A, SRC), False),
    ("scatter_add_", lambda m, a, s: (a * 1).scatter_add_(1, _t(m, [[1, 1]] * 3), s[:, 2:]), (A, SRC), False),
    ("scatter_add_0d", lambda m, s, t: s.scatter_add(0, _t(m, 0), t), (S, S), False),
    ("scatter_reduce_sum", lambda m, a, s: a.scatter_reduce(1, _t(m, [[0, 0, 1]] * 3), s[:, :3], "sum"),
     (A, SRC), True),
    ("scatter_reduce_sum_noself", lambda m, a, s: a.scatter_reduce(1, _t(m, [[0, 0, 1]] * 3), s[:, :3], "sum",
                                                                   include_self=False), (A, SRC), False),
    ("scatter_reduce_prod", lambda m, a, s: a.scatter_reduce(0, _t(m, [[0, 1, 1, 2]] * 2), s[:2], "prod"),
     (POS, SRC_POS), True),
    ("scatter_reduce_prod_noself", lambda m, a, s: a.scatter_reduce(0, _t(m, [[0, 1, 1, 2]] * 2), s[:2], "prod",
                                                                    include_self=False), (POS, SRC_POS), False),
    ("scatter_reduce_mean", lambda m, a, s: a.scatter_reduce(1, _t(m, [[0, 0, 1, 3]] * 3), s, "mean"), (A, SRC),
     True),
    ("scatter_reduce_mean_noself", lambda m, a, s: m.scatter_reduce(a, 1, _t(m, [[0, 0, 1, 3]] * 3), s, "mean",
                                                                    include_self=False), (A, SRC), False),
    ("scatter_reduce_amax", lambda m, a, s: a.scatter_reduce(1, _t(m, [[0, 0, 2]] * 3), s[:, :3], "amax"), (A, SRC),
     True),
    ("scatter_reduce_amax_noself", lambda m, a, s: a.scatter_reduce(1, _t(m, [[0, 0, 2]] * 3), s[:, :3], "amax",
                                                                    include_self=False), (A, SRC), False),
    ("scatter_reduce_amin", lambda m, a, s: a.scatter_reduce(0, _t(m, [[1, 1, 2, 0]]), s[:1], "amin"), (A, SRC),
     False),
    ("scatter_reduce_max_alias", lambda m, a, s: a.detach().scatter_reduce(0, _t(m, [[1, 1, 2, 0]]), s.detach(),
                                                                           "max"), (A, SRC), False),
    ("scatter_reduce_amax_ties", lambda m, a: m.zeros(2, 3, dtype=m.float64).scatter_reduce(
        1, _t(m, [[0, 0], [1, 1]]), a[:2, :2] * 0 + 1, "amax"), (A,), False),
    ("scatter_reduce_mean_int", lambda m, i: i.scatter_reduce(1, _t(m, [[0, 0]] * 3), i, "mean"), (I64,), False),
    ("scatter_reduce_", lambda m, a, s: (a * 1).scatter_reduce_(1, _t(m, [[0, 1]] * 3), s[:, :2], "sum"), (A, SRC),
     False),
    # ---- index_select / index_add / index_copy / index_fill
    ("index_select", lambda m, a: a.index_select(1, _t(m, [3, 0, 0])), (A,), True),
    ("index_select_0d_index", lambda m, a: m.index_select(a, 0, _t(m, 2)), (A,), False),
    ("index_select_int32", lambda m, a: a.index_select(-1, _t(m, [1], m.int32)), (A,), False),
    ("index_select_0d_input", lambda m, s: s.index_select(0, _t(m, [0])), (S,), False),
    ("index_select_empty", lambda m, a: a.index_select(0, _t(m, [])), (A,), False),
    ("index_add", lambda m, a, v: a.index_add(0, _t(m, [2, 0]), v), (A, V2), True),
    ("index_add_dup_alpha", lambda m, a, v: m.index_add(a, 0, _t(m, [1, 1]), v, alpha=-2.5), (A, V2), True),
    ("index_add_dim1", lambda m, a, v: a.index_add(1, _t(m, [0, 3, 0]), v[:, :3].mT), (A, SRC), False),
    ("index_add_", lambda m, a, v: (a * 1).index_add_(0, _t(m, [0, 1]), v), (A, V2), False),
    ("index_copy", lambda m, a, v: a.index_copy(0, _t(m, [2, 0]), v), (A, V2), True),
    ("index_copy_dim1", lambda m, a, v: m.index_copy(a, 1, _t(m, [1]), v[:, :1]), (A, SRC), False),
    ("index_copy_", lambda m, a, v: (a * 1).index_copy_(0, _t(m, [1, 2]), v), (A, V2), False),
    ("index_fill", lambda m, a: a.index_fill(1, _t(m, [0, 2]), -1.0), (A,), True),
    ("index_fill_tensor_value", lambda m, a, s: a.index_fill(0, _t(m, [1]), s), (A, S), True),
    ("index_fill_", lambda m, a: (a * 1).index_fill_(0, _t(m, [0, 0]), 3), (A,), False),
    ("index_fill_int", lambda m, i: i.index_fill(1, _t(m, [3]), 9), (I64,), False),
    # ---- index_put / put / take
    ("index_put", lambda m, a, v: a.index_put((_t(m, [0, 2]), _t(m, [1, 1])), v[:2]), (A, B), True),
    ("index_put_rows", lambda m, a, v: m.index_put(a, (_t(m, [2, 0]),), v), (A, V2), False),
    ("index_put_accumulate", lambda m, a, v: a.index_put((_t(m, [0, 0]), _t(m, [1, 1])), v[:2],
                                                         accumulate=True), (A, B), True),
    ("index_put_bcast_value", lambda m, a, s: a.index_put((_t(m, [0, 1]),), s), (A, S), False),
    ("index_put_mask", lambda m, a, s: a.index_put((a > 0,), s), (A, S), False),
    ("index_put_", lambda m, a, v: (a * 1).index_put_((_t(m, [1]),), v[:1]), (A, V2), False),
    ("index_put_fn_", lambda m, a, v: m.index_put_(a * 1, (_t(m, [1]), _t(m, [2])), v[0, :1], True), (A, V2), False),
    ("put", lambda m, a, v: a.put(_t(m, [0, 11, -1]), v[:3]), (A, B), True),
    ("put_accumulate", lambda m, a, v: a.put(_t(m, [[5, 5]]), v[:2].reshape(1, 2), accumulate=True), (A, B), True),
    ("put_", lambda m, a, v: (a * 1).put_(_t(m, [3, 4]), v[:2]), (A, B), False),
    ("take", lambda m, a: a.take(_t(m, [[0, 11], [5, -1]])), (A,), True),
    ("take_fn_noncontig", lambda m, a: m.take(a.mT, _t(m, [1, 2, 3])), (A,), False),
    ("take_0d", lambda m, s: s.take(_t(m, 0)), (S,), False),
    ("take_along_dim", lambda m, a: a.take_along_dim(_t(m, [[0], [3], [1]]), 1), (A,), True),
    ("take_along_dim_none", lambda m, a: m.take_along_dim(a, _t(m, [11, 0, 4])), (A,), False),
    ("take_along_dim_bcast", lambda m, a: m.take_along_dim(a, _t(m, [[0, 2]]), dim=1), (A,), True),
    ("take_along_dim_argmax", lambda m, a: a.take_along_dim(a.max(1, keepdim=True)[1], dim=1), (A,), False),
    # ---- masked
    ("masked_fill", lambda m, a: a.masked_fill(a > 0, 2.0), (A,), True),
    ("masked_fill_bcast_mask", lambda m, a: m.masked_fill(a, m.tensor([True, False, False, True]), -1), (A,), False),
    ("masked_fill_bcast_input", lambda m, b: b.masked_fill(m.ones(3, 4, dtype=m.bool).tril(), 0.5), (B,), True),
    ("masked_fill_tensor_value", lambda m, a, s: a.masked_fill(a < 0, s), (A, S), True),
    ("masked_fill_", lambda m, a: (a * 1).masked_fill_(a > 0.5, 0), (A,), False),
    ("masked_fill_int", lambda m, i: i.masked_fill(i > 0, 1.9), (I64,), False),
    ("masked_select", lambda m, a: a.masked_select(a > 0), (A,), True),
    ("masked_select_bcast", lambda m, a: m.masked_select(a, m.tensor([True, False, True, True])), (A,), True),
    ("masked_select_bcast_input", lambda m, b: b.masked_select(m.ones(2, 4, dtype=m.bool)), (B,), False),
    ("masked_scatter", lambda m, a, s: a.masked_scatter(a > 0, s), (A, SRC), True),
    ("masked_scatter_bcast", lambda m, a, s: a.masked_scatter(m.tensor([False, True, True, False]), s), (A, SRC),
     False),
    ("masked_scatter_", lambda m, a, s: (a * 1).masked_scatter_(a < 0, s), (A, SRC), False),
    # ---- nonzero / argwhere
    ("nonzero", lambda m, i: i.nonzero(), (I64,), False),
    ("nonzero_tuple", lambda m, i: m.nonzero(i, as_tuple=True), (I64,), False),
    ("nonzero_0d", lambda m, s: s.nonzero(), (S,), False),
    ("nonzero_0d_tuple", lambda m, s: s.nonzero(as_tuple=True), (S,), False),
    ("nonzero_bool", lambda m: m.tensor([[True, False], [False, True]]).nonzero(), (), False),
    ("argwhere", lambda m, a: m.argwhere(a > 0), (A,), False),
    ("argwhere_method", lambda m, c: (c[0] > 1).argwhere(), (C,), False),
    ("where_one_arg", lambda m, i: m.where(i > 1), (I64,), False),
]


def _setitem_ret(t, key, value):
    t[key] = value
    return t


def _write_view_then_use(a, v):
    y = a * 2
    w = y[1]
    y[1] = v          # the view w now shows v, and its history must say so
    return w * y


def _set_through_view(a, v):
    y = a * 1
    row = y[1:]
    row[0, 1:3] = v[:2] * 3
    return y


def _inplace_view(a, v):
    y = a * 1
    y[:, 1].mul_(v[:3])
    return y.exp()


def _base_then_view(a):
    y = a * 1
    d = y.diagonal()
    y.mul_(2)
    return d * 2


def _view_of_view(a, v):
    y = a * 1
    w = y[1:][:, 1]
    w.mul_(v[:2])
    return y


def _before_after(a, v):
    y = a * 1
    row = y[0]
    first = row * 2
    y.add_(v)             # row is stale now; its next use re-derives its history from y
    return first + row * 3


def _adv_on_view(a, v):
    y = a * 1
    tail = y[1:]
    tail[[0]] = v.unsqueeze(0)
    return y.sin()


def _on_transpose(a, v):
    y = a * 1
    y.t().add_(v.unsqueeze(1))
    return y


def _copy_fill_zero(a, v):
    y = a * 1
    y[0].copy_(v)
    y[1].fill_(2.0)
    y[2].zero_()
    return y * a


def _augmented(a, v):
    y = a.clone()
    y[:, ::2] *= 2
    y[1] += v
    return y


def _flat_setitem(a, v):
    y = a * 1
    flat = y.view(12)
    flat[3:5] = v[:2]
    return y


def _into_zeros(m, a, v):
    y = m.zeros(3, 4, dtype=m.float64)
    y[1] = v
    y[:, 0] = a[:, 0]
    return y


def _on_reshape(a):
    y = a * 1
    y.reshape(4, 3).mul_(2)
    return y


def _through_mT(a, v):
    y = a * 1
    y.mT[0] = v[:3]
    return y


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("name,fn,args,gradgrad", ROWS, ids=[r[0] for r in ROWS])
def test_row(name, fn, args, gradgrad, device):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, gradgrad=gradgrad, device=device)


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("name,fn,args,gradgrad", empty_rows(ROWS, 2))
def test_row_empty(name, fn, args, gradgrad, device):
    """Each row again with a 0-size batch: PyTorch's result, or its exception type."""
    check_same_outcome(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, gradgrad=gradgrad, device=device)


def test_row_count():
    assert len(ROWS) >= 120
    assert sum(r[3] for r in ROWS) * 3 >= len(ROWS)


def test_grad_fn_names_of_indexing():
    def chain(g):
        out = []
        while g is not None and type(g).__name__ != "AccumulateGrad":
            out.append(type(g).__name__)
            g = g.next_functions[0][0]
        return out
    keys = [0, (0, 1), slice(1, None), (slice(None), 0), None, (None, 0), (0, None, slice(1, 2)), [0, 1],
            (0, [0, 1]), Ellipsis, (Ellipsis, 0), slice(None), (slice(None), slice(None)), (slice(1, None), [0, 1])]
    xe = ember.tensor(A, requires_grad=True)
    xt = torch.tensor(A, requires_grad=True)
    for key in keys:
        assert chain(xe[key].grad_fn) == chain(xt[key].grad_fn), key
    ye, yt = xe * 1, xt * 1
    ye[0] = 1.0
    yt[0] = 1.0
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__ == "CopySlices"
    ye[[0]] = 1.0
    yt[[0]] = 1.0
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__


def test_views_of_leaf_and_version_checks():
    for lib in (ember, torch):
        w = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            w[0].mul_(2)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            w[1:][0] = 2.0
        with pytest.raises(RuntimeError, match="leaf Variable"):
            w[[0]] = 2.0
        with lib.no_grad():
            w[0] = 5.0            # allowed without grad
        assert float(w[0]) == 5.0
        y = w * 2
        z = y.exp()               # saves its output
        y[0] = 0.0
        z.sum().backward()        # exp's saved result is not y: fine
        y2 = w * 1
        s = y2.sin()              # saves y2
        y2[1] = 3.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            s.sum().backward()


def test_inplace_view_errors_and_detached_aliases():
    def attempts(lib):
        out = []
        for f in (lambda w: (w * 1).unbind(0)[0].mul_(2), lambda w: (w * 1).split(2)[1].add_(1),
                  lambda w: (w * 1).chunk(2)[0].zero_(), _nograd_view_then_inplace,
                  lambda w: w[0].detach().mul_(2), lambda w: w.detach()[0].mul_(2), lambda w: w.data[0].zero_(),
                  lambda w: w[0].detach().__setitem__(0, 1.0)):
            w = lib.ones(4, 3, requires_grad=True)
            try:
                f(w)
                out.append("ok")
            except RuntimeError as exc:
                out.append(str(exc)[:60])
        return out
    assert attempts(ember) == attempts(torch)


def _nograd_view_then_inplace(w):
    lib = ember if isinstance(w, ember.Tensor) else torch
    with lib.no_grad():
        v = w[0]
    v.mul_(2)


# ---------------------------------------------------------------------------- bad input
RAISE_ROWS = [
    ("get_oob_int", lambda m, a: a[3], (A,)),
    ("get_oob_neg", lambda m, a: a[0, -5], (A,)),
    ("get_too_many", lambda m, a: a[0, 0, 0], (A,)),
    ("get_too_many_slices", lambda m, a: a[:, :, :], (A,)),
    ("get_0d_int", lambda m, s: s[0], (S,)),
    ("get_oob_list", lambda m, a: a[[0, 3]], (A,)),
    ("get_oob_tensor", lambda m, a: a[:, m.tensor([4])], (A,)),
    ("get_float_tensor", lambda m, a: a[m.tensor([1.0])], (A,)),
    ("get_float", lambda m, a: a[1.5], (A,)),
    ("get_str", lambda m, a: a["a"], (A,)),
    ("get_neg_step", lambda m, a: a[::-1], (A,)),
    ("get_zero_step", lambda m, a: a[::0], (A,)),
    ("get_mask_shape", lambda m, a: a[m.tensor([True, False])], (A,)),
    ("get_mask_2d_shape", lambda m, a: a[m.ones(3, 5, dtype=m.bool)], (A,)),
    ("get_adv_no_bcast", lambda m, a: a[[0, 1], [1, 2, 3]], (A,)),
    ("set_shape_basic", lambda m, a: a.__setitem__(0, m.ones(3, dtype=m.float64)), (A,)),
    ("set_shape_adv", lambda m, a: a.__setitem__([0, 1], m.ones(3, dtype=m.float64)), (A,)),
    ("set_too_many_dims", lambda m, a: a.__setitem__(0, m.ones(2, 1, 4, dtype=m.float64)), (A,)),
    ("set_dtype_adv", lambda m, a: a.__setitem__([0], m.ones(4, dtype=m.float32)), (A,)),
    ("set_list_none", lambda m, a: a.__setitem__(0, None), (A,)),
    ("set_oob", lambda m, a: a.__setitem__((0, 9), 1.0), (A,)),
    ("set_leaf", lambda m, a: m.ones(2, requires_grad=True).__setitem__(0, 1.0), ()),
    ("set_expanded", lambda m, b: b.expand(3, 4).__setitem__((slice(None), 0), 1.0), (B,)),
    ("gather_float_index", lambda m, a: a.gather(1, m.tensor([[0.0]])), (A,)),
    ("gather_oob", lambda m, a: a.gather(1, m.tensor([[4]])), (A,)),
    ("gather_ndim", lambda m, a: a.gather(1, m.tensor([0])), (A,)),
    ("gather_size", lambda m, a: a.gather(1, m.tensor([[0]] * 4)), (A,)),
    ("gather_dim", lambda m, a: a.gather(2, m.tensor([[0]])), (A,)),
    ("scatter_dtype", lambda m, a: a.scatter(1, m.tensor([[0]]), m.ones(1, 1)), (A,)),
    ("scatter_oob", lambda m, a: a.scatter(1, m.tensor([[9]]), 1.0), (A,)),
    ("scatter_src_small", lambda m, a: a.scatter(1, m.tensor([[0, 1]]), m.ones(1, 1, dtype=m.float64)), (A,)),
    ("scatter_index_big", lambda m, a: a.scatter(1, m.tensor([[0]] * 4), 1.0), (A,)),
    ("scatter_bad_reduce", lambda m, a: a.scatter(1, m.tensor([[0]]), 1.0, reduce="max"), (A,)),
    ("scatter_reduce_bad", lambda m, a: a.scatter_reduce(1, m.tensor([[0]]), a, "foo"), (A,)),
    ("scatter_reduce_backward", lambda m, a: a.requires_grad_().scatter(1, m.tensor([[0]]), 2.0, reduce="add").sum()
     .backward(), (A,)),
    ("masked_fill_uint8", lambda m, a: a.masked_fill(m.tensor([1, 0, 0, 1], dtype=m.uint8), 3.0), (A,)),
    ("index_select_0d_many", lambda m, s: s.index_select(0, m.tensor([0, 0])), (S,)),
    ("scatter_add_float_index", lambda m, a: a.scatter_add(1, m.tensor([[0.0]]), a), (A,)),
    ("scatter_add_dtype", lambda m, a: a.scatter_add(1, m.tensor([[0]]), a.float()), (A,)),
    ("index_select_2d", lambda m, a: a.index_select(0, m.tensor([[0]])), (A,)),
    ("index_select_oob", lambda m, a: a.index_select(0, m.tensor([3])), (A,)),
    ("index_select_float", lambda m, a: a.index_select(0, m.tensor([0.0])), (A,)),
    ("index_add_count", lambda m, a: a.index_add(0, m.tensor([0]), a), (A,)),
    ("index_add_oob", lambda m, a: a.index_add(0, m.tensor([5]), a[:1]), (A,)),
    ("index_add_float", lambda m, a: a.index_add(0, m.tensor([0.0]), a[:1]), (A,)),
    ("index_add_slice_shape", lambda m, a: a.index_add(0, m.tensor([0]), a[:1, :2]), (A,)),
    ("index_copy_dtype", lambda m, a: a.index_copy(0, m.tensor([0]), a[:1].float()), (A,)),
    ("index_fill_value_1d", lambda m, a: a.index_fill(1, m.tensor([0]), m.tensor([1.0, 2.0])), (A,)),
    ("index_fill_oob", lambda m, a: a.index_fill(1, m.tensor([7]), 1.0), (A,)),
    ("index_put_dtype", lambda m, a: a.index_put((m.tensor([0]),), m.ones(4)), (A,)),
    ("index_put_shape", lambda m, a: a.index_put((m.tensor([0, 1]),), m.ones(3, dtype=m.float64)), (A,)),
    ("index_put_float_index", lambda m, a: a.index_put((m.tensor([0.0]),), a[0]), (A,)),
    ("put_oob", lambda m, a: a.put(m.tensor([12]), a[0, :1]), (A,)),
    ("put_count", lambda m, a: a.put(m.tensor([0, 1]), a[0, :3]), (A,)),
    ("take_oob", lambda m, a: a.take(m.tensor([12])), (A,)),
    ("take_float", lambda m, a: a.take(m.tensor([1.0])), (A,)),
    ("take_along_dim_ndim", lambda m, a: a.take_along_dim(m.tensor([0]), 1), (A,)),
    ("take_along_dim_bcast", lambda m, a: m.take_along_dim(a, m.tensor([[0], [1]]), 1), (A,)),
    ("masked_fill_float_mask", lambda m, a: a.masked_fill(m.ones(3, 4), 1.0), (A,)),
    ("masked_fill_value_1d", lambda m, a: a.masked_fill(a > 0, m.tensor([1.0])), (A,)),
    ("masked_fill_bcast", lambda m, a: a.masked_fill(m.ones(2, dtype=m.bool), 1.0), (A,)),
    ("masked_select_float", lambda m, a: a.masked_select(m.ones(3, 4)), (A,)),
    ("masked_scatter_short", lambda m, a: a.masked_scatter(a > -10, a[0]), (A,)),
    ("masked_scatter_dtype", lambda m, a: a.masked_scatter(a > 0, a.float()), (A,)),
]


@pytest.mark.parametrize("name,fn,args", RAISE_ROWS, ids=[r[0] for r in RAISE_ROWS])
def test_raises(name, fn, args):
    te = [ember.from_numpy(a.copy()) for a in args]
    tt = [torch.from_numpy(a.copy()) for a in args]
    check_raises(lambda *_: fn(ember, *te), lambda *_: fn(torch, *tt))


def test_index_error_messages():
    e, t = ember.from_numpy(A.copy()), torch.from_numpy(A.copy())
    for key in [3, (0, 7), [0, 5], (slice(None), ember.tensor([9]))]:
        tkey = (slice(None), torch.tensor([9])) if isinstance(key, tuple) and isinstance(key[1], ember.Tensor) \
            else key
        try:
            t[tkey]
        except IndexError as exc:
            msg = str(exc)
        with pytest.raises(IndexError) as info:
            e[key]
        assert str(info.value) == msg


def test_setitem_values_and_versions():
    for key in [0, (1, 2), slice(1, None), (slice(None), 1), [0, 2], ([0, 1], [1, 2]), (Ellipsis, 0), (None, 1)]:
        for value in [7.0, -1, True]:
            e, t = ember.from_numpy(A.copy()), torch.from_numpy(A.copy())
            e[key] = value
            t[key] = value
            assert_same(e, t)
            assert e._version_count == t._version
