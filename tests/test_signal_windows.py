"""ember.signal.windows against torch.signal.windows: every window, symmetric and periodic, both dtypes."""
import numpy as np
import pytest
import torch
import torch.signal.windows as tw

import ember
import ember.signal.windows as ew
from parity import check_raises

EXTRA = {"general_cosine": {"a": [0.5, 0.3, 0.2]}, "general_hamming": {"alpha": 0.6}, "kaiser": {"beta": 4.0},
         "gaussian": {"std": 1.7}, "exponential": {"tau": 2.0}}


@pytest.mark.parametrize("name", ew.__all__)
def test_window_matches_torch(name):
    assert sorted(ew.__all__) == sorted(tw.__all__)
    for M in (0, 1, 2, 7, 10):
        for sym in (True, False):
            for dt in ("float32", "float64"):
                kw = EXTRA.get(name, {})
                e = getattr(ew, name)(M, sym=sym, dtype=getattr(ember, dt), **kw)
                t = getattr(tw, name)(M, sym=sym, dtype=getattr(torch, dt), **kw)
                assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
                np.testing.assert_allclose(e.detach().numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


def test_exponential_center_and_errors():
    e = ew.exponential(6, center=1.5, sym=False, dtype=ember.float64)
    np.testing.assert_allclose(e.numpy(), tw.exponential(6, center=1.5, sym=False, dtype=torch.float64).numpy())
    for fn in (lambda m: m.signal.windows.hann(-1), lambda m: m.signal.windows.hann(3, dtype=m.float16),
               lambda m: m.signal.windows.gaussian(3, std=0), lambda m: m.signal.windows.exponential(3, tau=-1),
               lambda m: m.signal.windows.exponential(3, center=1.0), lambda m: m.signal.windows.kaiser(3, beta=-1),
               lambda m: m.signal.windows.general_cosine(3, a=[])):
        check_raises(lambda: fn(ember), lambda: fn(torch))
