"""linalg.ldl_factor / ldl_factor_ex / ldl_solve against torch: LAPACK's compact factors and pivots exactly
(Bunch-Kaufman, 1x1 and 2x2 blocks), solutions, batches, complex symmetric and Hermitian input, errors."""
import numpy as np
import pytest
import torch

import ember
import ember.linalg  # noqa: F401
from devices import TABLE_DEVICES
from parity import check_op

rng = np.random.default_rng(13)


def _sym(*shape, dtype=np.float64):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return (a + np.swapaxes(a, -1, -2)).astype(dtype)


def _herm(n):
    a = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    return a + a.conj().T


INDEF = _sym(5, 5)                      # indefinite: 2x2 pivot blocks appear
INDEF[0, 0] = INDEF[1, 1] = 0.0          # forces a 2x2 block at the start
BATCH = _sym(3, 4, 4)
RHS = rng.standard_normal((5, 2))
ROWS = [
    pytest.param(lambda m, a: m.linalg.ldl_factor(a), (INDEF,), id="factor_2x2_blocks"),
    pytest.param(lambda m, a: m.linalg.ldl_factor_ex(a), (BATCH,), id="factor_ex_batch"),
    pytest.param(lambda m, a: m.linalg.ldl_factor(a), (BATCH.astype(np.float32),), id="factor_float32"),
    pytest.param(lambda m, a: m.linalg.ldl_factor(a.tril()), (INDEF,), id="factor_reads_lower"),
    pytest.param(lambda m, a: m.linalg.ldl_factor(a), (_sym(4, 4, dtype=np.complex128),), id="factor_complex_sym"),
    pytest.param(lambda m, a: m.linalg.ldl_factor(a, hermitian=True), (_herm(4),), id="factor_hermitian"),
    pytest.param(lambda m, a: m.linalg.ldl_factor(a, hermitian=True), (_herm(3).astype(np.complex64),),
                 id="factor_hermitian_c64"),
    pytest.param(lambda m, a: m.linalg.ldl_factor_ex(a), (np.zeros((2, 3, 3)),), id="factor_ex_singular_info"),
    pytest.param(lambda m, a: m.linalg.ldl_factor(a), (np.zeros((2, 0, 0)),), id="factor_empty"),
    pytest.param(lambda m, a, b: m.linalg.ldl_solve(*m.linalg.ldl_factor(a), b), (INDEF, RHS), id="solve"),
    pytest.param(lambda m, a, b: m.linalg.ldl_solve(*m.linalg.ldl_factor(a), b), (BATCH, RHS[:4]),
                 id="solve_batch_broadcast_b"),
    pytest.param(lambda m, a, b: m.linalg.ldl_solve(*m.linalg.ldl_factor(a, hermitian=True), b, hermitian=True),
                 (_herm(5), RHS + 1j), id="solve_hermitian"),
    pytest.param(lambda m, a, b: m.linalg.ldl_solve(*m.linalg.ldl_factor(a), b), (_sym(5, 5, dtype=np.complex64),
                                                                                   (RHS + 2j).astype(np.complex64)),
                 id="solve_complex_sym"),
    pytest.param(lambda m, a, b: (lambda f: m.linalg.ldl_solve(f[0], f[1].long(), b))(m.linalg.ldl_factor(a)),
                 (INDEF, RHS), id="solve_long_pivots"),
]


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("fn,args", ROWS)
def test_row(fn, args, device):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, grad=False, device=device)


def test_solution_solves():
    LD, piv = ember.linalg.ldl_factor(ember.tensor(INDEF))
    x = ember.linalg.ldl_solve(LD, piv, ember.tensor(RHS))
    np.testing.assert_allclose(INDEF @ x.numpy(), RHS, atol=1e-10)


def test_out():
    a, b = ember.tensor(INDEF), ember.tensor(RHS)
    LD, piv = ember.empty(0, dtype=ember.float64), ember.empty(0, dtype=ember.int32)
    r = ember.linalg.ldl_factor(a, out=(LD, piv))
    assert r.LD is LD and r.pivots is piv
    tr = torch.linalg.ldl_factor(torch.tensor(INDEF))
    np.testing.assert_array_equal(piv.numpy(), tr.pivots.numpy())
    x = ember.empty(0, dtype=ember.float64)
    assert ember.linalg.ldl_solve(LD, piv, b, out=x) is x
    np.testing.assert_allclose(x.numpy(), torch.linalg.ldl_solve(*tr, torch.tensor(RHS)).numpy())


def _solve_args(m, ld=None, piv=None, b=None):
    LD, pivots = m.linalg.ldl_factor(m.eye(3, dtype=m.float64))
    return (LD if ld is None else ld(LD), pivots if piv is None else piv(pivots),
            m.ones(3, 1, dtype=m.float64) if b is None else b(m))


ERRORS = [
    ("vector", lambda m: m.linalg.ldl_factor(m.ones(3))),
    ("int_vector", lambda m: m.linalg.ldl_factor(m.ones(3, dtype=m.int64))),
    ("not_square", lambda m: m.linalg.ldl_factor_ex(m.ones(2, 3))),
    ("int", lambda m: m.linalg.ldl_factor(m.ones(2, 2, dtype=m.int64))),
    ("half", lambda m: m.linalg.ldl_factor(m.ones(2, 2, dtype=m.float16))),
    ("bfloat16", lambda m: m.linalg.ldl_factor(m.ones(2, 2, dtype=m.bfloat16))),
    ("not_a_tensor", lambda m: m.linalg.ldl_factor([[1.0]])),
    ("singular", lambda m: m.linalg.ldl_factor(m.zeros(3, 3))),
    ("singular_check_errors", lambda m: m.linalg.ldl_factor_ex(m.zeros(2, 3, 3), check_errors=True)),
    ("solve_b_dtype", lambda m: m.linalg.ldl_solve(*_solve_args(m, b=lambda m: m.ones(3, 1)))),
    ("solve_b_dtype_first", lambda m: m.linalg.ldl_solve(*_solve_args(m, piv=lambda p: p[:2],
                                                                      b=lambda m: m.ones(2, 1)))),
    ("solve_b_rows", lambda m: m.linalg.ldl_solve(*_solve_args(m, b=lambda m: m.ones(2, 1, dtype=m.float64)))),
    ("solve_b_vector", lambda m: m.linalg.ldl_solve(*_solve_args(m, b=lambda m: m.ones(3, dtype=m.float64)))),
    ("solve_pivots_shape", lambda m: m.linalg.ldl_solve(*_solve_args(m, piv=lambda p: p[:2]))),
    ("solve_pivots_float", lambda m: m.linalg.ldl_solve(*_solve_args(m, piv=lambda p: p.double()))),
    ("solve_ld_vector", lambda m: m.linalg.ldl_solve(*_solve_args(m, ld=lambda a: a[0]))),
    ("solve_ld_not_square", lambda m: m.linalg.ldl_solve(*_solve_args(m, ld=lambda a: a[:2], piv=lambda p: p[:2]))),
    ("solve_ld_int", lambda m: m.linalg.ldl_solve(*_solve_args(m, ld=lambda a: a.long(),
                                                               b=lambda m: m.ones(3, 1, dtype=m.int64)))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, fn):
    """torch's exception type and message (its singular-matrix error is an internal assert whose text ends
    with the part ember gives)."""
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(ember)
    assert type(got.value).__name__ == type(expected.value).__name__
    assert str(expected.value).endswith(str(got.value)), (str(got.value), str(expected.value))


def test_no_gradient_as_torch():
    a = torch.tensor(INDEF, requires_grad=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        torch.linalg.ldl_factor(a).LD.sum().backward()
    e = ember.linalg.ldl_factor(ember.tensor(INDEF, requires_grad=True))
    assert not e.LD.requires_grad and e.LD.grad_fn is None


def test_missing_scipy_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "scipy.linalg", None)
    with pytest.raises(ImportError, match=r"ember\[sparse\]"):
        ember.linalg.ldl_factor(ember.eye(2))
