"""svd_lowrank / pca_lowrank against torch.

Both sketch with a random matrix, so their factors agree with torch's only where the answer is unique: on
matrices of rank <= q the singular values, the reconstruction and (up to sign) the singular vectors are exact.
Their gradients depend on the sketch (a perturbed matrix has full rank), so they are checked by finite
differences with the generator seeded before each evaluation.
"""
import numpy as np
import pytest
import torch

import ember
from devices import TABLE_DEVICES
from parity import check_op, check_raises

rng = np.random.default_rng(11)


def low_rank(*shape, rank):
    return rng.standard_normal(shape[:-1] + (rank,)) @ rng.standard_normal((rank, shape[-1]))


TALL = low_rank(9, 5, rank=3)
WIDE = low_rank(4, 7, rank=2)
BATCH = low_rank(2, 6, 4, rank=3)
MEAN = rng.standard_normal((1, 5))
SMALL = rng.standard_normal((2, 5, 3))    # default q = min(6, 5, 3): the whole spectrum


def _invariants(U, S, V):
    """Sign-free outputs: the values, the reconstruction, and the projectors onto the singular subspaces."""
    return S, (U * S.unsqueeze(-2)) @ V.mH, U @ U.mH, V @ V.mH


ROWS = [
    pytest.param(lambda m, a: _invariants(*m.svd_lowrank(a, q=3)), (TALL,), id="svd_tall"),
    pytest.param(lambda m, a: _invariants(*m.svd_lowrank(a, q=2, niter=0)), (WIDE,), id="svd_wide_niter0"),
    pytest.param(lambda m, a: _invariants(*m.svd_lowrank(a, q=3, niter=1)), (BATCH,), id="svd_batch"),
    pytest.param(lambda m, a, mu: _invariants(*m.svd_lowrank(a + mu, q=3, M=mu)), (TALL, MEAN), id="svd_with_M"),
    pytest.param(lambda m, a: _invariants(*m.pca_lowrank(a, q=3)), (TALL,), id="pca"),
    pytest.param(lambda m, a: _invariants(*m.pca_lowrank(a, q=2, center=False)), (WIDE,), id="pca_uncentered"),
    pytest.param(lambda m, a: _invariants(*m.functional.pca_lowrank(a)), (SMALL,), id="pca_default_q_full_rank"),
]


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("fn,args", ROWS)
def test_row(fn, args, device):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, grad=False, rtol=1e-7, atol=1e-9,
             device=device)


@pytest.mark.parametrize("fn", [lambda a: ember.svd_lowrank(a, q=2), lambda a: ember.svd_lowrank(a.mT, q=2, niter=1),
                                lambda a: ember.pca_lowrank(a, q=2)], ids=["svd", "svd_wide", "pca"])
def test_gradients_by_finite_differences(fn):
    def seeded(a):
        ember.manual_seed(0)
        return _invariants(*fn(a))
    a = ember.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(seeded, (a,))


def test_shapes_and_dtype():
    for lib in (ember, torch):
        U, S, V = lib.svd_lowrank(lib.tensor(BATCH, dtype=lib.float32), q=3)
        assert (tuple(U.shape), tuple(S.shape), tuple(V.shape)) == ((2, 6, 3), (2, 3), (2, 4, 3))
        assert U.dtype == S.dtype == V.dtype == lib.float32


@pytest.mark.parametrize("kwargs", [dict(q=6), dict(q=-1), dict(niter=-1)])
def test_pca_argument_errors(kwargs):
    exc = check_raises(lambda: ember.pca_lowrank(ember.tensor(TALL), **kwargs),
                       lambda: torch.pca_lowrank(torch.tensor(TALL), **kwargs))
    with pytest.raises(ValueError) as te:
        torch.pca_lowrank(torch.tensor(TALL), **kwargs)
    assert str(exc) == str(te.value)
