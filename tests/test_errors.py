"""Bad input raises PyTorch's exception type with a message naming the shapes / dtypes involved."""
import numpy as np
import pytest
import torch

import ember


def both(fn):
    """Run ``fn(lib)`` for torch and ember; both must raise the same type.  Returns (ember_msg, torch_msg)."""
    with pytest.raises(Exception) as t_info:
        fn(torch)
    with pytest.raises(Exception) as e_info:
        fn(ember)
    te, ee = t_info.value, e_info.value
    assert isinstance(ee, type(te)), f"ember raised {type(ee).__name__}: {ee}; torch raised {type(te).__name__}: {te}"
    return str(ee), str(te)


def same_message(fn):
    e, t = both(fn)
    assert e == t, f"\nember: {e}\ntorch: {t}"


CASES_SAME_MESSAGE = [
    ("broadcast_add", lambda m: m.ones(3, 4) + m.ones(5)),
    ("broadcast_mul", lambda m: m.ones(2, 3) * m.ones(3, 2)),
    ("broadcast_inplace", lambda m: m.ones(3).add_(m.ones(2, 3))),
    ("matmul_2d", lambda m: m.ones(2, 3) @ m.ones(4, 5)),
    ("mm", lambda m: m.mm(m.ones(2, 3), m.ones(4, 5))),
    ("mv", lambda m: m.mv(m.ones(2, 3), m.ones(4))),
    ("dot_size", lambda m: m.dot(m.ones(3), m.ones(4))),
    ("dot_dims", lambda m: m.dot(m.ones(3, 1), m.ones(3))),
    ("bmm_batch", lambda m: m.bmm(m.ones(2, 3, 4), m.ones(3, 4, 5))),
    ("matmul_dtype", lambda m: m.ones(2, 2) @ m.ones(2, 2, dtype=m.float64)),
    ("index_out_of_range", lambda m: m.ones(3)[5]),
    ("index_out_of_range_dim1", lambda m: m.ones(3, 4)[:, 7]),
    ("index_tensor_out_of_range", lambda m: m.ones(3)[m.tensor([0, 3])]),
    ("too_many_indices", lambda m: m.ones(3)[0, 0]),
    ("item_many", lambda m: m.ones(3).item()),
    ("backward_nonscalar", lambda m: (m.ones(3, requires_grad=True) * 2).backward()),
    ("backward_no_grad", lambda m: m.ones(3).sum().backward()),
    ("grad_no_grad_input", lambda m: m.autograd.grad((m.ones(2, requires_grad=True) * 2).sum(), m.ones(2))),
    ("view_bad_size", lambda m: m.ones(2, 3).view(4, 2)),
    ("reshape_bad_size", lambda m: m.ones(2, 3).reshape(5)),
    ("view_noncontig", lambda m: m.ones(2, 3).t().view(6)),
    ("dim_out_of_range", lambda m: m.ones(2, 3).sum(2)),
    ("dim_out_of_range_neg", lambda m: m.ones(2, 3).softmax(-3) if hasattr(m.Tensor, "softmax") else m.ones(2, 3).sum(-3)),
    ("cat_mismatch", lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)])),
    ("cat_dims", lambda m: m.cat([m.ones(2, 3), m.ones(3)])),
    ("stack_mismatch", lambda m: m.stack([m.ones(2), m.ones(3)])),
    ("gather_float_index", lambda m: m.ones(2, 2).gather(1, m.tensor([[0.0, 1.0]]))),
    ("expand_bad", lambda m: m.ones(2, 3).expand(4, 3)),
    ("requires_grad_int", lambda m: m.ones(2, dtype=m.int64).requires_grad_()),
    ("leaf_inplace", lambda m: m.ones(2, requires_grad=True).mul_(2)),
    ("int_pow_negative", lambda m: m.tensor([2, 3]) ** -1),
    ("inplace_float_into_int", lambda m: m.ones(2, dtype=m.int64).add_(1.5)),
    ("inplace_float_tensor_into_int", lambda m: m.ones(2, dtype=m.int64).mul_(m.ones(2))),
    ("bool_sub", lambda m: m.ones(2, dtype=m.bool) - m.ones(2, dtype=m.bool)),
    ("bitwise_float", lambda m: m.ones(2) & m.ones(2)),
    ("bool_ambiguous", lambda m: bool(m.ones(2))),
    ("index_select_dim", lambda m: m.ones(2, 3).index_select(2, m.tensor([0]))),
    ("masked_fill_not_bool", lambda m: m.ones(3).masked_fill(m.ones(3), 0.0)),
    ("where_bad_cond", lambda m: m.where(m.ones(3), m.ones(3), m.zeros(3))),
    ("multinomial_too_many", lambda m: m.multinomial(m.tensor([0.5, 0.5]), 3)),
    ("randint_bounds", lambda m: m.randint(5, 3, (2,))),
    ("arange_step_zero", lambda m: m.arange(0, 5, 0)),
    ("zeros_negative", lambda m: m.zeros(-2)),
    ("outer_dims", lambda m: m.outer(m.ones(2, 2), m.ones(2))),
    ("numpy_requires_grad", lambda m: m.ones(2, requires_grad=True).numpy()),
    ("t_3d", lambda m: m.ones(2, 2, 2).t()),
    ("squeeze_dim_range", lambda m: m.ones(2).squeeze(3)),
    ("permute_dims", lambda m: m.ones(2, 3).permute(0)),
    ("transpose_dim", lambda m: m.ones(2, 3).transpose(0, 2)),
    ("narrow_range", lambda m: m.ones(4).narrow(0, 2, 5)),
    ("select_range", lambda m: m.ones(4).select(0, 4)),
    ("mean_int", lambda m: m.ones(3, dtype=m.int64).mean()),
    ("clamp_none", lambda m: m.ones(3).clamp()),
]


@pytest.mark.parametrize("name,fn", CASES_SAME_MESSAGE, ids=[n for n, _ in CASES_SAME_MESSAGE])
def test_same_exception_and_message(name, fn):
    same_message(fn)


# cases where ember must raise the same type and name the same shapes / dtypes (wording may differ)
CASES_KEYWORDS = [
    ("einsum_operands", lambda m: m.einsum("ij,jk->ik", m.ones(2, 3), m.ones(4, 5)), ["3", "4"]),
    ("setitem_shape", lambda m: m.ones(3, 4).__setitem__(slice(None), m.ones(5)), ["5"]),
    ("tensor_ragged", lambda m: m.tensor([[1, 2], [3]]), ["length 2", "dim 1"]),
    ("from_numpy_object", lambda m: m.from_numpy(np.array([object()])), ["object"]),
    ("bool_index_shape", lambda m: m.ones(3, 4)[m.tensor([True, False])], ["[2]", "[3, 4]"]),
    ("maximum_broadcast", lambda m: m.maximum(m.ones(2, 3), m.ones(4)), ["3", "4"]),
    ("where_broadcast", lambda m: m.where(m.ones(2, 3) > 0, m.ones(2, 3), m.ones(4)), ["3", "4"]),
]


@pytest.mark.parametrize("name,fn,words", CASES_KEYWORDS, ids=[n for n, _, _ in CASES_KEYWORDS])
def test_same_exception_and_key_words(name, fn, words):
    e, t = both(fn)
    for w in words:
        assert w in t, f"torch message lacks {w!r} (test needs updating): {t}"
        assert w in e, f"ember message lacks {w!r}: {e}"


def test_no_silent_wrong_answers_on_mismatch():
    """Shapes that NumPy would broadcast or reinterpret but torch refuses must raise in ember too."""
    for fn in [lambda m: m.ones(3).add_(m.ones(1, 3)),                  # in-place cannot grow the output
               lambda m: m.ones(3).copy_(m.ones(4)),
               lambda m: m.ones(2, 3).view(3, 2).t().view(6),
               lambda m: m.ones(3).masked_fill(m.ones(4, dtype=m.bool), 0.0)]:
        both(fn)
