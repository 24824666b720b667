"""``import torch.functional`` works as ``import ember.functional``."""
import pytest
import torch

import ember


def test_import_functional_module():
    import ember.functional
    import torch.functional
    assert sorted(ember.functional.__all__) == sorted(torch.functional.__all__)
    x = ember.arange(6.).reshape(2, 3)
    assert ember.functional.einsum("ij->j", x).tolist() == torch.functional.einsum(
        "ij->j", torch.arange(6.).reshape(2, 3)).tolist()
    with pytest.raises(AttributeError):
        ember.functional.not_a_name
