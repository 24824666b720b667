"""ember.lobpcg against torch.lobpcg: eigenvalues and eigenvectors (up to sign) of standard, generalized,
preconditioned and batched problems on well-separated spectra, the gradient in A, and torch's errors."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
M = 24
_Q = np.linalg.qr(RNG.standard_normal((M, M)))[0]
A = (_Q * np.arange(1, M + 1, dtype=np.float64) ** 1.5) @ _Q.T
_C = RNG.standard_normal((M, M))
B = _C @ _C.T / M + np.eye(M)
X0 = RNG.standard_normal((M, 3))
W = RNG.standard_normal((M, M))


def both(*arrays, **kwargs):
    """``(ember's, torch's)`` lobpcg results on the same arrays (None passes through), same seed."""
    results = []
    for mod in (ember, torch):
        mod.manual_seed(0)
        tensors = [None if a is None else mod.tensor(a) for a in arrays]
        options = {key: mod.tensor(v) if isinstance(v, np.ndarray) else v for key, v in kwargs.items()}
        results.append(mod.lobpcg(*tensors, **options))
    return results


def assert_pairs_close(ours, theirs, rtol):
    (E, X), (Et, Xt) = ours, theirs
    assert E.shape == Et.shape and X.shape == Xt.shape and str(E.dtype) == str(Et.dtype)
    np.testing.assert_allclose(E.numpy(), Et.numpy(), rtol=rtol)
    np.testing.assert_allclose(np.linalg.norm(X.numpy(), axis=-2), np.linalg.norm(Xt.numpy(), axis=-2), rtol=rtol)
    cosines = np.abs((X.numpy() * Xt.numpy()).sum(-2)) / np.linalg.norm(Xt.numpy(), axis=-2) ** 2
    np.testing.assert_allclose(cosines, 1, atol=rtol)      # the same vectors up to sign


@pytest.mark.parametrize("k,largest,n", [(1, None, None), (3, True, None), (4, False, None), (2, False, 5)])
def test_standard_problem(k, largest, n):
    assert_pairs_close(*both(A, k=k, largest=largest, n=n), rtol=1e-7)


def test_generalized_problem_with_initial_block():
    ours, theirs = both(A, 2, B, X0)
    assert_pairs_close(ours, theirs, rtol=1e-7)


def test_preconditioner_and_float32():
    assert_pairs_close(*both(A, k=2, largest=False, n=3, iK=np.diag(1 / np.diag(A))), rtol=1e-7)
    assert_pairs_close(*both(A.astype(np.float32), k=2), rtol=1e-4)


def test_batch():
    assert_pairs_close(*both(np.stack([A, 2 * A]), k=2), rtol=1e-7)


def test_tracker_sees_each_step_and_can_stop():
    steps = []

    def tracker(worker):
        steps.append((worker.ivars["istep"], worker.E.shape, worker.X.shape))
        worker.bvars["force_stop"] = worker.ivars["istep"] == 2

    ember.lobpcg(ember.tensor(A), k=2, tracker=tracker)
    assert steps == [(i, (2,), (M, 2)) for i in range(3)]


@pytest.mark.parametrize("k", [2, 8])
def test_gradient_in_A(k):
    """Sign-invariant loss of the top-k pairs; also against the exact eigen-decomposition's gradient."""
    grads = []
    for mod in (ember, torch):
        mod.manual_seed(0)
        a = mod.tensor(A, requires_grad=True)
        E, X = mod.lobpcg(a, k=k, tol=1e-12)
        ((E ** 2).sum() + ((X @ X.mT) * mod.tensor(W)).sum()).backward()
        grads.append(a.grad.numpy())
    a = torch.tensor(A, requires_grad=True)
    w, V = torch.linalg.eigh((a + a.mT) / 2)
    E, X = w.flip(0)[:k], V.flip(1)[:, :k]
    ((E ** 2).sum() + ((X @ X.mT) * torch.tensor(W)).sum()).backward()
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-7 * np.abs(grads[1]).max())
    np.testing.assert_allclose(grads[0], a.grad.numpy(), atol=1e-9 * np.abs(grads[1]).max())
    np.testing.assert_allclose(grads[0], grads[0].T)


@pytest.mark.parametrize("args,kwargs", [
    ((A,), {"k": 9}),
    ((A,), {"X": RNG.standard_normal((M, 9))}),
    ((A,), {"B": np.eye(3)}),
    ((np.zeros((M, M - 1)),), {}),
    ((A,), {"k": 2, "X": np.zeros((M - 1, 2))}),
])
def test_errors(args, kwargs):
    caught = []
    for mod in (ember, torch):
        with pytest.raises((ValueError, AssertionError)) as err:
            mod.lobpcg(*[mod.tensor(a) for a in args], **{key: mod.tensor(v) if isinstance(v, np.ndarray) else v
                                                         for key, v in kwargs.items()})
        caught.append((type(err.value), str(err.value)))
    assert caught[0] == caught[1]


def test_backward_with_B_raises():
    for mod in (ember, torch):
        E, _ = mod.lobpcg(mod.tensor(A, requires_grad=True), k=2, B=mod.tensor(B))
        with pytest.raises(ValueError, match="does not support backward with B != I"):
            E.sum().backward()
