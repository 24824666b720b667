"""ember.optim.swa_utils against torch.optim.swa_utils: averaged models, SWALR, update_bn."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.optim as eoptim
from ember.optim import swa_utils as eswa
from torch.optim import swa_utils as tswa


def arr(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach()._data)


def make_model(lib, seed=0):
    """Linear -> BatchNorm1d -> ReLU -> Linear with weights from a fixed seed (float64)."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1)).double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.from_numpy(rng.standard_normal(tuple(p.shape))))
    return model


def train_steps(lib, model, opt, k0, k1, averaged=None):
    rng = np.random.default_rng(100)
    xs = rng.standard_normal((k1, 8, 3))
    ys = rng.standard_normal((k1, 8, 1))
    for k in range(k0, k1):
        opt.zero_grad()
        loss = ((model(lib.from_numpy(xs[k])) - lib.from_numpy(ys[k])) ** 2).mean()
        loss.backward()
        opt.step()
        if averaged is not None:
            averaged.update_parameters(model)


def assert_models_close(me, mt, rtol=1e-10):
    se, st = me.state_dict(), mt.state_dict()
    assert list(se.keys()) == list(st.keys())
    for k in st:
        np.testing.assert_allclose(arr(se[k]), arr(st[k]), rtol=rtol, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("kind", ["swa", "ema-multi", "ema-avg", "swa-multi", "ema-buffers"])
def test_averaged_model_matches_torch(kind):
    def build(swa, model):
        if kind == "swa":
            return swa.AveragedModel(model)
        if kind == "ema-multi":
            return swa.AveragedModel(model, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9))
        if kind == "ema-avg":
            return swa.AveragedModel(model, avg_fn=swa.get_ema_avg_fn(0.8))
        if kind == "swa-multi":
            return swa.AveragedModel(model, multi_avg_fn=swa.get_swa_multi_avg_fn())
        return swa.AveragedModel(model, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9), use_buffers=True)

    me, mt = make_model(ember), make_model(torch)
    ae, at = build(eswa, me), build(tswa, mt)
    oe = eoptim.SGD(me.parameters(), lr=0.05, momentum=0.9)
    ot = torch.optim.SGD(mt.parameters(), lr=0.05, momentum=0.9)
    train_steps(ember, me, oe, 0, 12, ae)
    train_steps(torch, mt, ot, 0, 12, at)
    assert int(ae.n_averaged) == int(at.n_averaged) == 12
    assert_models_close(ae, at)
    # the average differs from the final weights
    assert not np.allclose(arr(ae.module[0].weight), arr(me[0].weight))
    x = np.random.default_rng(1).standard_normal((5, 3))
    ae.eval()
    at.eval()
    np.testing.assert_allclose(arr(ae(ember.from_numpy(x))), arr(at(torch.from_numpy(x))), rtol=1e-10)


def test_update_bn_matches_torch():
    me, mt = make_model(ember), make_model(torch)
    ae, at = eswa.AveragedModel(me), tswa.AveragedModel(mt)
    ae.update_parameters(me)
    at.update_parameters(mt)
    batches = [np.random.default_rng(i).standard_normal((6, 3)) for i in range(5)]
    eswa.update_bn([(ember.from_numpy(b), 0) for b in batches], ae)
    tswa.update_bn([(torch.from_numpy(b), 0) for b in batches], at)
    assert_models_close(ae, at)
    assert ae.training and ae.module[1].momentum == 0.1
    eswa.update_bn([], eswa.AveragedModel(ember.nn.Linear(2, 2)))  # no batch norm: nothing to do


@pytest.mark.parametrize("kw", [dict(swa_lr=0.05), dict(swa_lr=[0.02, 0.5], anneal_epochs=5,
                                                        anneal_strategy="linear"),
                                dict(swa_lr=0.01, anneal_epochs=0)])
def test_swalr_matches_torch(kw):
    def opt(lib):
        ps = [lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)]
        return lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=0.1)

    oe, ot = opt(ember), opt(torch)
    se, st = eswa.SWALR(oe, **kw), tswa.SWALR(ot, **kw)
    for k in range(30):
        oe.step()
        ot.step()
        se.step()
        st.step()
        assert se.get_last_lr() == st.get_last_lr(), f"step {k}"
        if k == 12:
            state = se.state_dict()
            assert list(state) == list(st.state_dict())
            oe2 = opt(ember)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                se = eswa.SWALR(oe2, **kw)
            oe2.load_state_dict(oe.state_dict())
            se.load_state_dict(state)
            oe = oe2


@pytest.mark.parametrize("fn", [
    lambda swa: swa.get_ema_multi_avg_fn(1.5),
    lambda swa: swa.get_ema_avg_fn(-0.1),
    lambda swa: swa.SWALR(torch.optim.SGD([torch.zeros(1, requires_grad=True)]) if swa is tswa
                          else eoptim.SGD([ember.zeros(1, requires_grad=True)]), 0.1,
                          anneal_strategy="exp"),
    lambda swa: swa.SWALR(torch.optim.SGD([torch.zeros(1, requires_grad=True)]) if swa is tswa
                          else eoptim.SGD([ember.zeros(1, requires_grad=True)]), 0.1,
                          anneal_epochs=-1),
])
def test_bad_arguments_like_torch(fn):
    caught = []
    for swa in (eswa, tswa):
        with pytest.raises(Exception) as info:
            fn(swa)
        caught.append(info.value)
    assert type(caught[0]) is type(caught[1]) and str(caught[0]) == str(caught[1])
