"""autograd.forward_ad (dual tensors) and func.linearize against torch's forward-mode AD."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw
import torch.func

import ember
import ember.autograd.forward_ad as efw

rng = np.random.default_rng(3)
X = rng.standard_normal((4, 5))
V = rng.standard_normal((4, 5))
W = rng.standard_normal((5, 3))
VW = rng.standard_normal((5, 3))

FUNCTIONS = {
    "poly": lambda m, x, w: x ** 3 - 2 * x * x.exp(),
    "matmul_softmax": lambda m, x, w: m.softmax(x @ w, dim=-1),
    "reductions": lambda m, x, w: m.stack([x.sum(0).sin(), x.norm(dim=0), x.max(0).values]),
    "views_index": lambda m, x, w: x.t()[1:4, ::2].reshape(-1).cumsum(0) * x[0, [1, 3, 4]].repeat(2),
    "linalg": lambda m, x, w: m.linalg.solve(x @ x.mT + m.eye(4, dtype=x.dtype), x).tanh(),
}


def _jvp(lib, fw, fn, both):
    with fw.dual_level():
        x = fw.make_dual(lib.tensor(X), lib.tensor(V))
        w = fw.make_dual(lib.tensor(W), lib.tensor(VW)) if both else lib.tensor(W)
        primal, tangent = fw.unpack_dual(fn(lib, x, w))
        return primal.detach().numpy(), tangent.detach().numpy()


@pytest.mark.parametrize("both", [False, True], ids=["one_dual", "two_duals"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_tangents_match_torch(name, both):
    pe, te = _jvp(ember, efw, FUNCTIONS[name], both)
    pt, tt = _jvp(torch, tfw, FUNCTIONS[name], both)
    np.testing.assert_allclose(pe, pt, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(te, tt, rtol=1e-10, atol=1e-12)


def test_tutorial_flow():
    """The forward-mode AD tutorial's steps: tangent identity, plain tensors, exit drops tangents, modules."""
    for lib, fw in ((ember, efw), (torch, tfw)):
        primal, tangent = lib.tensor(X), lib.tensor(V)
        with fw.dual_level() as level:
            assert level == 0
            dual = fw.make_dual(primal, tangent)
            assert fw.unpack_dual(dual).tangent is tangent
            plain = lib.tensor(W)
            assert fw.unpack_dual(plain).tangent is None
            out = dual.sin() @ plain
            inner = fw.unpack_dual(out)
            assert fw.unpack_dual(inner.primal).tangent is None
            np.testing.assert_allclose(inner.tangent.detach().numpy(), (np.cos(X) * V) @ W, rtol=1e-12)
        assert fw.unpack_dual(out).tangent is None
        assert fw.unpack_dual(dual).tangent is None


def test_module_parameters_as_duals_and_reverse_mode_through_them():
    results = {}
    for lib, fw in ((ember, efw), (torch, tfw)):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(5, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()
        with lib.no_grad():
            for p, a in zip(model.parameters(), _param_values()):
                p.copy_(lib.tensor(a))
        params = dict(model.named_parameters())
        inp = lib.tensor(X)
        with fw.dual_level():
            for name, p in params.items():
                mod, attr = name.rsplit(".", 1)
                sub = model.get_submodule(mod)
                delattr(sub, attr)
                setattr(sub, attr, fw.make_dual(p, lib.ones_like(p) * 0.5))
            out = model(inp)
            tangent = fw.unpack_dual(out).tangent.detach().numpy()
            out.sum().backward()     # duals are backward-differentiable: gradients reach the parameters
        results[lib.__name__] = tangent, [p.grad.numpy() for p in params.values()]
    np.testing.assert_allclose(results["ember"][0], results["torch"][0], rtol=1e-10)
    for a, b in zip(results["ember"][1], results["torch"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def _param_values():
    r = np.random.default_rng(5)
    return [r.standard_normal((4, 5)), r.standard_normal(4), r.standard_normal((2, 4)), r.standard_normal(2)]


def _message(fn, lib, fw):
    with pytest.raises((RuntimeError, ValueError)) as exc:
        fn(lib, fw)
    return type(exc.value), str(exc.value)


@pytest.mark.parametrize("case", ["no_level", "nested", "shape", "int_primal", "int_tangent", "exit_wrong",
                                  "exit_none"])
def test_errors_match_torch(case):
    def run(lib, fw):
        if case == "no_level":
            fw.make_dual(lib.ones(2), lib.ones(2))
        elif case == "exit_none":
            fw.exit_dual_level()
        else:
            with fw.dual_level():
                if case == "nested":
                    fw.enter_dual_level()
                elif case == "shape":
                    fw.make_dual(lib.ones(2), lib.ones(3))
                elif case == "int_primal":
                    fw.make_dual(lib.ones(2, dtype=lib.int64), lib.ones(2))
                elif case == "int_tangent":
                    fw.make_dual(lib.ones(2), lib.ones(2, dtype=lib.int64))
                elif case == "exit_wrong":
                    fw.exit_dual_level(level=3)
    assert _message(run, ember, efw) == _message(run, torch, tfw)


def test_decorator_form():
    @efw.dual_level()
    def tangent_of_square(x, v):
        return efw.unpack_dual(efw.make_dual(x, v) ** 2).tangent
    t = tangent_of_square(ember.tensor(X), ember.tensor(V))
    np.testing.assert_allclose(t.detach().numpy(), 2 * X * V, rtol=1e-12)
    assert efw.unpack_dual(ember.tensor(X)).tangent is None   # the level was exited


def test_linearize_matches_torch():
    def f(m):
        return lambda x, w: ((x @ w).sin(), (x * x).sum())
    oe, jfe = ember.func.linearize(f(ember), ember.tensor(X), ember.tensor(W))
    ot, jft = torch.func.linearize(f(torch), torch.tensor(X), torch.tensor(W))
    for a, b in zip(oe, ot):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12)
    for k in range(3):   # one trace, many tangents
        v, vw = rng.standard_normal(X.shape), rng.standard_normal(W.shape)
        for a, b in zip(jfe(ember.tensor(v), ember.tensor(vw)), jft(torch.tensor(v), torch.tensor(vw))):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad", ["dtype", "shape", "structure"])
def test_linearize_tangent_errors_match_torch(bad):
    msgs = []
    for lib in (ember, torch):
        _, jvp_fn = lib.func.linearize(lambda x: x.exp(), lib.tensor(X))
        t = {"dtype": lib.tensor(V, dtype=lib.float32), "shape": lib.tensor(V[:2])}.get(bad)
        with pytest.raises(RuntimeError) as exc:
            jvp_fn(t) if t is not None else jvp_fn(lib.tensor(V), lib.tensor(V))
        msgs.append(str(exc.value))
    if bad == "structure":      # the pytree specs print differently; both name the argspec mismatch
        assert all(m.startswith("Expected the tangents") for m in msgs)
    else:
        assert msgs[0] == msgs[1]
