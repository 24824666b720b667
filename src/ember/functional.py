"""``torch.functional``: the module PyTorch defines its composite tensor functions in (``import
torch.functional``).  Its names are ember's own functions of the same names."""
from .ops import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, cartesian_prod, block_diag,
                  cdist, chain_matmul, einsum, istft, lu, norm, meshgrid, pca_lowrank, split, stft, svd_lowrank,
                  tensordot, unique, unique_consecutive, unravel_index)

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "cartesian_prod",
           "block_diag", "cdist", "chain_matmul", "einsum", "istft", "lu", "norm", "meshgrid", "pca_lowrank", "split",
           "stft", "svd_lowrank", "tensordot", "unique", "unique_consecutive", "unravel_index"]
