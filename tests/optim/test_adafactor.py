"""Adafactor against torch.optim.Adafactor: same parameters, gradients and hyper-parameters give the same
trajectory (matrices use the factored second moment, vectors the full one)."""
import numpy as np
import pytest
import torch

import ember

CONFIGS = [dict(), dict(lr=0.05, weight_decay=0.1), dict(beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5),
           dict(maximize=True), dict(lr=torch.tensor(0.02))]


def _run(lib, config, steps=5):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), requires_grad=True) for s in ((4, 3), (2, 3, 5), (6,), ())]
    cfg = {k: (lib.tensor(v.item()) if isinstance(v, torch.Tensor) else v) for k, v in config.items()}
    opt = lib.optim.Adafactor(params, **cfg)
    for i in range(steps):
        opt.zero_grad()
        loss = sum(((p * (i + 1)).sin() * p).sum() for p in params)
        loss.backward()
        opt.step()
    return [p.detach().numpy() for p in params], opt.state_dict()["state"]


@pytest.mark.parametrize("config", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
def test_trajectory_matches_torch(config):
    pe, se = _run(ember, config)
    pt, st = _run(torch, config)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for i in st:
        assert sorted(se[i]) == sorted(st[i])
        for key in st[i]:
            np.testing.assert_allclose(np.asarray(se[i][key].numpy()), st[i][key].numpy(), rtol=1e-10, atol=1e-14)


def test_argument_errors_match_torch():
    for kwargs in (dict(lr=-1.0), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)), dict(eps=(None, -1.0)),
                   dict(d=0.5), dict(weight_decay=-1.0)):
        with pytest.raises(ValueError) as te:
            torch.optim.Adafactor([torch.ones(2, requires_grad=True)], **kwargs)
        with pytest.raises(ValueError) as ee:
            ember.optim.Adafactor([ember.ones(2, requires_grad=True)], **kwargs)
        assert str(ee.value) == str(te.value)
