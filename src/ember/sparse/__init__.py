"""``torch.sparse``: products, reductions and softmax for sparse tensors, and the sparse layouts.

The sparse tensor itself is an ember ``Tensor`` (see ``ember.ops.sparse_tensor``); the functions here are the
sparse cases PyTorch names under ``torch.sparse``.  Importing this module does not import SciPy.
"""
from ..ops.sparse_tensor import SPARSE_COO as sparse_coo, SPARSE_CSR as sparse_csr, SPARSE_CSC as sparse_csc  # noqa: F401  (ember.sparse_coo & co. once ember/__init__ imports them)
from ..ops.sparse_math import sparse_sum, sparse_softmax, sparse_log_softmax
from ..ops.sparse_products import sparse_mm, sparse_addmm, sampled_addmm

__all__ = ["mm", "addmm", "sum", "softmax", "log_softmax", "sampled_addmm", "check_sparse_tensor_invariants",
           "as_sparse_gradcheck"]


def mm(mat1, mat2, reduce="sum"):
    """``mat1 @ mat2`` with a sparse ``mat1`` (or both sparse); the gradient into a sparse operand is sparse
    with its pattern.  Only ``reduce='sum'`` is supported."""
    if reduce != "sum":
        raise NotImplementedError(f"torch.sparse.mm: reduce={reduce!r} is not supported by ember")
    return sparse_mm(mat1, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``beta * mat + alpha * (mat1 @ mat2)`` with a sparse ``mat1``."""
    return sparse_addmm(mat, mat1, mat2, beta, alpha)


def sum(input, dim=None, dtype=None):
    """Sum of a sparse tensor over ``dim`` (all dims: a dense scalar; otherwise a sparse tensor)."""
    return sparse_sum(input, dim, dtype)


def softmax(input, dim, *, dtype=None):
    """Softmax along ``dim`` over the specified entries (unspecified entries count as -inf)."""
    return sparse_softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax along ``dim`` over the specified entries."""
    return sparse_log_softmax(input, dim, dtype)


class check_sparse_tensor_invariants:
    """Context manager / decorator enabling invariant checks: ember always checks sparse indices, so it only
    records the setting (``is_enabled``)."""

    _enabled = False

    def __init__(self, enable=True):
        self.state = enable

    @staticmethod
    def is_enabled():
        return check_sparse_tensor_invariants._enabled

    @staticmethod
    def enable():
        check_sparse_tensor_invariants._enabled = True

    @staticmethod
    def disable():
        check_sparse_tensor_invariants._enabled = False

    def __enter__(self):
        self.saved = check_sparse_tensor_invariants._enabled
        check_sparse_tensor_invariants._enabled = self.state

    def __exit__(self, *exc):
        check_sparse_tensor_invariants._enabled = self.saved

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with check_sparse_tensor_invariants(self.state):
                return fn(*args, **kwargs)
        return wrapped


def as_sparse_gradcheck(gradcheck):
    """``gradcheck`` for functions of sparse tensors: ember's gradcheck takes sparse inputs as they are."""
    return gradcheck
