"""Muon against torch.optim.Muon: the bfloat16 Newton-Schulz orthogonalization and whole trajectories."""
import numpy as np
import pytest
import torch
import torch.optim._muon as torch_muon

import ember
from ember.optim.muon import orthogonalize

CONFIGS = [dict(lr=0.02), dict(lr=0.05, weight_decay=0.0, nesterov=False, momentum=0.9),
           dict(lr=0.01, adjust_lr_fn="match_rms_adamw", ns_steps=3)]


@pytest.mark.parametrize("shape", [(4, 6), (5, 3), (16, 32)])
def test_newton_schulz_matches_torch_bit_for_bit(shape):
    g = np.random.default_rng(0).standard_normal(shape)
    coeffs = (3.4445, -4.7750, 2.0315)
    e = orthogonalize(ember.tensor(g), coeffs, 5, 1e-7)
    t = torch_muon._zeropower_via_newtonschulz(torch.tensor(g), coeffs, 5, 1e-7)
    assert e.dtype == ember.bfloat16
    np.testing.assert_array_equal(e.float().numpy(), t.float().numpy())


@pytest.mark.parametrize("config", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
def test_trajectory_matches_torch(config):
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal((4, 6)), rng.standard_normal((5, 3))]
    out = {}
    for lib in (ember, torch):
        params = [lib.tensor(w, requires_grad=True) for w in weights]
        opt = lib.optim.Muon(params, **config)
        for i in range(4):
            opt.zero_grad()
            sum(((p * (i + 1)).sin() * p).sum() for p in params).backward()
            opt.step()
        out[lib.__name__] = ([p.detach().numpy() for p in params],
                             [opt.state[p]["momentum_buffer"].numpy() for p in params])
    for a, b in zip(out["ember"][0] + out["ember"][1], out["torch"][0] + out["torch"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_errors_match_torch():
    for args, kwargs in (((ember.ones(2, 2, 2),), {}), ((ember.ones(2, 2),), dict(lr=-1.0)),
                         ((ember.ones(2, 2),), dict(momentum=-1.0)), ((ember.ones(2, 2),), dict(adjust_lr_fn="x"))):
        targs = tuple(torch.tensor(a.numpy(), requires_grad=True) for a in args)
        with pytest.raises(ValueError) as te:
            torch.optim.Muon(list(targs), **kwargs)
        with pytest.raises(ValueError) as ee:
            ember.optim.Muon([a.requires_grad_() for a in args], **kwargs)
        assert str(ee.value) == str(te.value)
