"""Eigen-decomposition of general (non-symmetric) matrices: ``linalg.eig`` and ``linalg.eigvals``, complex
results as PyTorch (eigenvectors of unit norm, LAPACK's order and phase), with the gradient of both."""
from .. import _dtype, return_types
from ._common import array_module, Tensor, Node, record, _make, dtype_name
from .creation import eye
from .linalg import linalg_solve


def _complex_np(t):
    return {"float32": "complex64", "float64": "complex128"}.get(t.dtype.name, t._data.dtype)


class LinalgEigBackward0(Node):
    """``gA = V^{-H} (diag(gL) + (V^H gV - V^H V diag(Re diag(V^H gV))) / conj(E)) V^H`` with
    ``E[i, j] = L[j] - L[i]`` off the diagonal (the diagonal term keeps the eigenvectors' unit norm)."""

    def backward(self, gL, gV=None):
        L, V = self.saved_tensors
        Vh = V.mH
        if gV is None:
            inner = gL.diag_embed()
        else:
            VhgV = Vh @ gV
            diag_re = VhgV.diagonal(dim1=-2, dim2=-1).real
            inner = VhgV - (Vh @ V) * diag_re.unsqueeze(-2).to(V.dtype)
            E = L.unsqueeze(-2) - L.unsqueeze(-1)            # E[i, j] = L[j] - L[i]
            diag = eye(L.shape[-1], dtype=_dtype.bool, device=L.device)
            inner = (inner / E.conj().masked_fill(diag, 1)).masked_fill(diag, 0)
            if gL is not None:
                inner = inner + gL.diag_embed()
        gA = linalg_solve(Vh, inner @ Vh)      # V^{-H} inner V^H
        return (gA.real if self.real_input else gA,)


def _eig_arrays(A, name):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{dtype_name(A.dtype)}")
    xp = array_module(A)
    w, v = xp.linalg.eig(a)
    ct = _complex_np(A)
    return w.astype(ct), v.astype(ct)


def linalg_eig(A, *, out=None):
    """``(eigenvalues, eigenvectors)`` of square matrices, complex: ``A V = V diag(L)``, unit-norm columns."""
    w, v = _eig_arrays(A, "linalg.eig")
    L, V = _make(w), _make(v)
    record((L, V), LinalgEigBackward0, (A,), (L, V), real_input=not A.dtype.is_complex)
    return return_types.linalg_eig(L, V)


def linalg_eigvals(A, *, out=None):
    """The (complex) eigenvalues of square matrices."""
    w, v = _eig_arrays(A, "linalg.eigvals")
    L = _make(w)
    node = record(L, LinalgEigBackward0, (A,), real_input=not A.dtype.is_complex)
    if node is not None:
        node.save(L, _make(v))
    return L
