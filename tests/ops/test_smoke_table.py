"""A first op-table slice for the foundation: arithmetic, math, reductions, matmul family (values + grads)."""
import numpy as np
import pytest

from empty_variants import check_same_outcome, empty_rows
from parity import check_op

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((4,))
P = rng.uniform(0.5, 2.0, (3, 4))

ROWS = [
    ("add", lambda m, a, b: a + b, (A, B)),
    ("sub", lambda m, a, b: a - b, (A, B)),
    ("mul", lambda m, a, b: a * b, (A, B)),
    ("div", lambda m, a, b: a / b, (A, P[0])),
    ("rsub_scalar", lambda m, a: 2.0 - a, (A,)),
    ("pow_scalar", lambda m, a: a ** 3, (A,)),
    ("pow_tensor", lambda m, a, b: a ** b, (P, A)),
    ("exp", lambda m, a: a.exp(), (A,)),
    ("log", lambda m, a: m.log(a), (P,)),
    ("sqrt", lambda m, a: a.sqrt(), (P,)),
    ("tanh", lambda m, a: m.tanh(a), (A,)),
    ("sigmoid", lambda m, a: m.sigmoid(a), (A,)),
    ("relu", lambda m, a: m.relu(a), (A,)),
    ("abs", lambda m, a: a.abs(), (A,)),
    ("clamp", lambda m, a: a.clamp(-0.5, 0.5), (A,)),
    ("where", lambda m, a, b: m.where(a > 0, a, b), (A, B)),
    ("maximum", lambda m, a, b: m.maximum(a, b), (A, B)),
    ("sum_all", lambda m, a: a.sum(), (A,)),
    ("sum_dim", lambda m, a: a.sum(1, keepdim=True), (A,)),
    ("mean_tuple", lambda m, a: a.mean((0, 1)), (A,)),
    ("max_dim", lambda m, a: a.max(1), (A,)),
    ("min_all", lambda m, a: a.min(), (A,)),
    ("var", lambda m, a: a.var(0), (A,)),
    ("std_corr0", lambda m, a: a.std(1, correction=0), (A,)),
    ("matmul_mv", lambda m, a, b: a @ b, (A, B)),
    ("mm", lambda m, a, b: a.mm(b.t()), (A, A)),
    ("bmm", lambda m, a: m.bmm(a.reshape(1, 3, 4), a.reshape(1, 4, 3)), (A,)),
    ("einsum", lambda m, a, b: m.einsum("ij,j->i", a, b), (A, B)),
    ("cat", lambda m, a: m.cat([a, a * 2], 1), (A,)),
    ("stack", lambda m, a: m.stack([a, a], 0), (A,)),
    ("logsumexp", lambda m, a: a.logsumexp(1), (A,)),
    ("getitem_mixed", lambda m, a: a[1:, [0, 2]], (A,)),
    ("transpose_view", lambda m, a: a.t().reshape(12), (A,)),
]


@pytest.mark.parametrize("name,fn,args", ROWS, ids=[r[0] for r in ROWS])
def test_row(name, fn, args):
    import ember
    import torch
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, gradgrad=True)


@pytest.mark.parametrize("name,fn,args", empty_rows(ROWS, 2))
def test_row_empty(name, fn, args):
    """Each row again with a 0-size batch: PyTorch's result, or its exception type."""
    import ember
    import torch
    check_same_outcome(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, gradgrad=True)
