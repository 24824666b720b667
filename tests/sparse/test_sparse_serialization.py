"""Sparse COO and CSR tensors save and load in PyTorch's checkpoint format, both ways, with weights_only."""
import io

import numpy as np
import pytest
import torch

import ember
from sparse_helpers import pair, same_sparse


def _cases():
    e, t = pair([[1, 0, 1, 2], [2, 0, 2, 1]], [1., 2., 3., 4.], (3, 3))
    a = np.array([[0, 1., 0], [2, 0, 3]], dtype=np.float32)
    yield e, t
    yield e.coalesce(), t.coalesce()
    yield pair([[2, 0]], [[1., 2.], [3., 4.]], (4, 2))
    yield ember.tensor(a).to_sparse_csr(), torch.tensor(a).to_sparse_csr()


@pytest.mark.parametrize("weights_only", [True, False])
def test_ember_to_torch_and_back(weights_only):
    for e, t in _cases():
        buf = io.BytesIO()
        ember.save({"adj": e}, buf)
        loaded = torch.load(io.BytesIO(buf.getvalue()), weights_only=weights_only)["adj"]
        same_sparse(e, loaded)
        buf = io.BytesIO()
        torch.save({"adj": t}, buf)
        back = ember.load(io.BytesIO(buf.getvalue()), weights_only=weights_only)["adj"]
        same_sparse(back, t)
        if t.layout == torch.sparse_coo:
            assert back.is_coalesced() == t.is_coalesced()


def test_load_checks_indices():
    t = torch.sparse_coo_tensor([[0, 5]], [1., 2.], (3,), check_invariants=False)
    buf = io.BytesIO()
    torch.save(t, buf)
    with pytest.raises(RuntimeError, match="for dim 0, size is 3 but found index 5"):
        ember.load(io.BytesIO(buf.getvalue()))
