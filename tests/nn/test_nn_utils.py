"""nn.utils against torch: gradient clipping, parameter/vector conversion, weight_norm and spectral_norm (old hook
API and new parametrizations), register_parametrization, functional_call, BN fusion."""
import warnings

import numpy as np
import pytest
import torch

import ember
from nn_helpers import build_pair, compare_module, copy_state
from parity import assert_same


def _model(L):
    return L.nn.Sequential(L.nn.Linear(4, 5), L.nn.Tanh(), L.nn.Linear(5, 3), L.nn.Linear(3, 2))


def _with_grads(dtype=np.float64):
    e, t = build_pair(_model, dtype)
    x = np.random.default_rng(0).standard_normal((6, 4)) * 3
    e(ember.from_numpy(x.copy()).to(e[0].weight.dtype)).pow(2).sum().backward()
    t(torch.from_numpy(x.copy()).to(t[0].weight.dtype)).pow(2).sum().backward()
    e[3].weight.grad = None   # a parameter without grad is skipped
    t[3].weight.grad = None
    return e, t


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(norm_type, max_norm):
    e, t = _with_grads()
    ne = ember.nn.utils.clip_grad_norm_(e.parameters(), max_norm, norm_type)
    nt = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type)
    assert_same(ne, nt)
    for pe, pt in zip(e.parameters(), t.parameters()):
        if pt.grad is None:
            assert pe.grad is None
        else:
            assert_same(pe.grad, pt.grad)


def test_clip_grad_misc():
    e, t = _with_grads(np.float32)
    assert_same(ember.nn.utils.get_total_norm([p.grad for p in e.parameters() if p.grad is not None]),
                torch.nn.utils.get_total_norm([p.grad for p in t.parameters() if p.grad is not None]))
    ember.nn.utils.clip_grad_value_(e.parameters(), 0.1)
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.1)
    for pe, pt in zip(e.parameters(), t.parameters()):
        if pt.grad is not None:
            assert_same(pe.grad, pt.grad)
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.tensor([float("nan"), 1.0, 2.0])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        ember.nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert float(ember.nn.utils.clip_grad_norm_([], 1.0)) == 0.0
    q = ember.nn.Parameter(ember.ones(2))
    q.grad = ember.tensor([3.0, 4.0])
    assert float(ember.nn.utils.clip_grad_norm_(q, 1.0)) == 5.0   # a single tensor is accepted
    np.testing.assert_allclose(q.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_parameters_to_vector_and_back():
    e, t = build_pair(_model)
    ve = ember.nn.utils.parameters_to_vector(e.parameters())
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    assert_same(ve, vt)
    ember.nn.utils.vector_to_parameters(ve * 2, e.parameters())
    torch.nn.utils.vector_to_parameters(vt * 2, t.parameters())
    for pe, pt in zip(e.parameters(), t.parameters()):
        assert_same(pe, pt)
        assert isinstance(pe, ember.nn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        ember.nn.utils.vector_to_parameters([1.0], e.parameters())


def _check_twin(make_e, make_t, x, modes=(True, False), steps=2):
    em, tm = make_e(), make_t()
    assert list(em.state_dict()) == list(tm.state_dict())
    assert str(em) == str(tm)
    copy_state(em, tm)
    for mode in modes:
        em.train(mode)
        tm.train(mode)
        for _ in range(steps):
            em.zero_grad()
            tm.zero_grad()
            compare_module(em, tm, [x])


def test_weight_norm_old_and_new():
    x = np.random.default_rng(1).standard_normal((3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dim in (0, 1, None):
            _check_twin(lambda: ember.nn.utils.weight_norm(ember.nn.Linear(4, 5).double(), dim=dim),
                        lambda: torch.nn.utils.weight_norm(torch.nn.Linear(4, 5).double(), dim=dim), x)
    _check_twin(lambda: ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(4, 5).double()),
                lambda: torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 5).double()), x)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = ember.nn.utils.weight_norm(ember.nn.Linear(4, 5))
    assert any(issubclass(i.category, FutureWarning) and "weight_norm` is deprecated" in str(i.message) for i in w)
    ember.nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, ember.nn.Parameter)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        ember.nn.utils.remove_weight_norm(m)


def test_spectral_norm_old_and_new():
    x = np.random.default_rng(2).standard_normal((3, 4))
    _check_twin(lambda: ember.nn.utils.spectral_norm(ember.nn.Linear(4, 5).double()),
                lambda: torch.nn.utils.spectral_norm(torch.nn.Linear(4, 5).double()), x)
    _check_twin(lambda: ember.nn.utils.spectral_norm(ember.nn.Linear(4, 5).double(), n_power_iterations=3),
                lambda: torch.nn.utils.spectral_norm(torch.nn.Linear(4, 5).double(), n_power_iterations=3), x)
    _check_twin(lambda: ember.nn.utils.parametrizations.spectral_norm(ember.nn.Linear(4, 5).double()),
                lambda: torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(4, 5).double()), x)
    m = ember.nn.utils.spectral_norm(ember.nn.Linear(4, 5))
    ember.nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]


class _Sym:
    @staticmethod
    def make(L):
        class Symmetric(L.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)
        return Symmetric()


def test_register_parametrization():
    import torch.nn.utils.parametrize as TP
    import ember.nn.utils.parametrize as EP
    x = np.random.default_rng(3).standard_normal((2, 4))

    def build(L, P):
        m = L.nn.Linear(4, 4).double()
        P.register_parametrization(m, "weight", _Sym.make(L))
        return m
    _check_twin(lambda: build(ember, EP), lambda: build(torch, TP), x, modes=(True,), steps=1)
    m = build(ember, EP)
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, ember.nn.Linear)
    assert EP.is_parametrized(m) and EP.is_parametrized(m, "weight") and not EP.is_parametrized(m, "bias")
    assert EP.type_before_parametrizations(m) is ember.nn.Linear
    w = m.weight
    np.testing.assert_array_equal(w.detach().numpy(), w.detach().numpy().T)
    with EP.cached():
        assert m.weight is m.weight
    EP.remove_parametrizations(m, "weight")
    assert type(m) is ember.nn.Linear and list(m.state_dict()) == ["bias", "weight"]
    np.testing.assert_array_equal(m.weight.detach().numpy(), w.detach().numpy())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        EP.remove_parametrizations(m, "weight")


def test_functional_call():
    e, t = build_pair(_model)
    x = np.random.default_rng(4).standard_normal((2, 4))
    new_e = {"0.weight": ember.ones(5, 4, dtype=ember.float64), "2.bias": ember.zeros(3, dtype=ember.float64)}
    new_t = {"0.weight": torch.ones(5, 4, dtype=torch.float64), "2.bias": torch.zeros(3, dtype=torch.float64)}
    oe = ember.nn.utils.stateless.functional_call(e, new_e, (ember.from_numpy(x.copy()),))
    ot = torch.nn.utils.stateless.functional_call(t, new_t, (torch.from_numpy(x.copy()),))
    assert_same(oe, ot)
    assert isinstance(e[0].weight, ember.nn.Parameter) and float(e[0].weight.sum()) != 20.0
    w = ember.ones(5, 4, dtype=ember.float64, requires_grad=True)
    ember.nn.utils.stateless.functional_call(e, {"0.weight": w}, ember.from_numpy(x.copy())).sum().backward()
    assert w.grad is not None and e[0].weight.grad is None
    with pytest.raises(RuntimeError, match="Missing key"):
        ember.nn.utils.stateless.functional_call(e, {"0.weight": w}, ember.from_numpy(x.copy()), strict=True)


def test_fuse_conv_bn_and_linear_bn():
    lin = ember.nn.Linear(4, 3).double().eval()
    bn = ember.nn.BatchNorm1d(3).double()
    bn.train()
    bn(ember.randn(8, 3, dtype=ember.float64) * 3 + 1)
    bn.eval()
    fused = ember.nn.utils.fuse_linear_bn_eval(lin, bn)
    x = ember.randn(5, 4, dtype=ember.float64)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    if hasattr(ember.nn, "Conv2d"):
        conv = ember.nn.Conv2d(2, 3, 3).double().eval()
        bn2 = ember.nn.BatchNorm2d(3).double()
        bn2(ember.randn(4, 3, 5, 5, dtype=ember.float64) * 2)
        bn2.eval()
        fc = ember.nn.utils.fuse_conv_bn_eval(conv, bn2)
        xi = ember.randn(2, 2, 6, 6, dtype=ember.float64)
        np.testing.assert_allclose(fc(xi).detach().numpy(), bn2(conv(xi)).detach().numpy(), rtol=1e-9, atol=1e-11)
