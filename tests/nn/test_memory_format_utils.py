"""nn.utils.convert_conv2d/3d_weight_memory_format against torch: what comes back, which weights are re-laid out."""
import numpy as np
import pytest
import torch

import ember


def _model(m):
    m.manual_seed(0)
    inner = m.nn.Sequential(m.nn.ConvTranspose2d(4, 2, 2), m.nn.Conv3d(2, 2, 1))
    return m.nn.Sequential(m.nn.Conv2d(3, 4, 3), inner, m.nn.Linear(2, 2), m.nn.ConvTranspose3d(2, 1, 1))


@pytest.mark.parametrize("dims", [2, 3])
def test_converts_the_family_asked_for_as_torch(dims):
    def run(m):
        model = _model(m)
        params = list(model.parameters())
        before = [(p.data_ptr(), p.detach().clone()) for p in params]
        fmt = m.channels_last if dims == 2 else m.channels_last_3d
        out = getattr(m.nn.utils, f"convert_conv{dims}d_weight_memory_format")(model, fmt)
        after = list(model.parameters())
        assert out is model and all(a is b for a, b in zip(params, after))
        for p, (_, v) in zip(after, before):
            assert p.requires_grad and bool((p == v).all())
        converted = [p.data_ptr() != ptr for p, (ptr, _) in zip(after, before)]
        fmt_ok = [after[i].is_contiguous(memory_format=fmt) for i, c in enumerate(converted) if c]
        return converted, fmt_ok
    assert run(ember) == run(torch)
