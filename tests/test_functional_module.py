"""``import torch.functional`` works as ``import ember.functional``."""
import torch
import torch.functional

import ember
import ember.functional


def test_import_functional_module():
    assert set(ember.functional.__all__) == set(torch.functional.__all__)
    for name in ember.functional.__all__:
        assert getattr(ember.functional, name) is getattr(ember, name)
    x = ember.arange(6.).reshape(2, 3)
    assert ember.functional.einsum("ij->j", x).tolist() == torch.functional.einsum(
        "ij->j", torch.arange(6.).reshape(2, 3)).tolist()
    ns = {}
    exec("from ember.functional import *", ns)
    assert set(ember.functional.__all__) <= set(ns)
