"""Named result tuples of ops such as ``max(dim)`` -> ``(values, indices)``, printed as PyTorch prints them."""
import collections

__all__ = []


def _define(name, fields):
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "torch.return_types",
                               "__doc__": f"Result of ``{name}``: a named tuple of ({', '.join(fields)})."})
    globals()[name] = cls
    __all__.append(name)
    return cls


for _name in ("max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin"):
    _define(_name, ("values", "indices"))
_define("aminmax", ("min", "max"))
_define("slogdet", ("sign", "logabsdet"))
_define("qr", ("Q", "R"))
_define("svd", ("U", "S", "V"))
_define("linalg_svd", ("U", "S", "Vh"))
_define("linalg_qr", ("Q", "R"))
_define("linalg_slogdet", ("sign", "logabsdet"))
_define("linalg_eigh", ("eigenvalues", "eigenvectors"))
_define("linalg_eig", ("eigenvalues", "eigenvectors"))
_define("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
_define("linalg_inv_ex", ("inverse", "info"))
_define("linalg_cholesky_ex", ("L", "info"))
_define("linalg_solve_ex", ("result", "info"))
_define("frexp", ("mantissa", "exponent"))
_define("histogram", ("hist", "bin_edges"))
_define("histogramdd", ("hist", "bin_edges"))
_define("linalg_lu_factor_ex", ("LU", "pivots", "info"))
_define("linalg_lu_factor", ("LU", "pivots"))
_define("linalg_ldl_factor_ex", ("LD", "pivots", "info"))
_define("linalg_ldl_factor", ("LD", "pivots"))
_define("linalg_lu", ("P", "L", "U"))
_define("lu_unpack", ("P", "L", "U"))
_define("triangular_solve", ("solution", "cloned_coefficient"))
_define("geqrf", ("a", "tau"))
_define("unique_consecutive", ("output", "inverse_indices", "counts"))
