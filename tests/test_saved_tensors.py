"""grad_fn._saved_<name> / _raw_saved_<name> and autograd.SavedTensor's hooks, against PyTorch."""
import numpy as np
import pytest
import torch

import ember


def _pair(data, requires_grad=True):
    return (ember.tensor(data, requires_grad=requires_grad), torch.tensor(data, requires_grad=requires_grad))


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


def test_mul_saves_each_operand_the_other_needs():
    (xe, xt), (we, wt) = _pair([1.0, 2.0]), _pair([3.0, 4.0])
    fe, ft = (xe * we).grad_fn, (xt * wt).grad_fn
    assert fe._saved_self is xe and fe._saved_other is we
    assert ft._saved_self is xt and ft._saved_other is wt
    # tensor * number: the number is kept as a 0-d float64 tensor, self is not needed
    fe, ft = (xe * 1.5).grad_fn, (xt * 1.5).grad_fn
    assert fe._saved_self is None and ft._saved_self is None
    se, st = fe._saved_other, ft._saved_other
    assert str(se.dtype) == str(st.dtype) and se.shape == st.shape == ()
    assert se.item() == st.item() == 1.5


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "relu"])
def test_saved_result_is_the_output(name):
    xe, xt = _pair([0.5, -1.0, 2.0])
    ye, yt = getattr(xe, name)(), getattr(xt, name)()
    re_, rt = ye.grad_fn._saved_result, yt.grad_fn._saved_result
    np.testing.assert_allclose(re_.detach().numpy(), rt.detach().numpy(), rtol=1e-6)
    assert (re_ is ye) == (rt is yt) and re_.grad_fn is ye.grad_fn and rt.grad_fn is yt.grad_fn
    assert not hasattr(ye.grad_fn, "_saved_self") and not hasattr(yt.grad_fn, "_saved_self")


def test_saved_input_and_unknown_names():
    xe, xt = _pair([0.5, -1.0])
    fe, ft = xe.sin().grad_fn, xt.sin().grad_fn
    assert fe._saved_self is xe and ft._saved_self is xt
    assert type(fe._raw_saved_self).__name__ == type(ft._raw_saved_self).__name__ == "SavedTensor"
    assert isinstance(fe._raw_saved_self, ember.autograd.SavedTensor)
    assert fe._raw_saved_self.data is xe and fe._raw_saved_self.unpack() is xe
    for f in (fe, ft):
        with pytest.raises(AttributeError, match="_saved_other"):
            f._saved_other
    assert _error(ember.autograd.SavedTensor) == _error(torch.autograd.SavedTensor)


def test_saved_values_after_backward_and_after_inplace():
    (xe, xt), (we, wt) = _pair([1.0, 2.0]), _pair([3.0, 4.0])
    ye, yt = xe * we, xt * wt
    ye.sum().backward()
    yt.sum().backward()
    assert _error(lambda: ye.grad_fn._saved_self) == _error(lambda: yt.grad_fn._saved_self)
    hook = (lambda t: t, lambda t: t)
    assert _error(lambda: ye.grad_fn._raw_saved_self.register_hooks(*hook)) == \
        _error(lambda: yt.grad_fn._raw_saved_self.register_hooks(*hook))
    ae, at = _pair([1.0, 2.0])
    be, bt = ae * 2, at * 2
    ce, ct = be * we, bt * wt
    be.add_(1)
    bt.add_(1)
    (ke, me), (kt, mt) = _error(lambda: ce.grad_fn._saved_self), _error(lambda: ct.grad_fn._saved_self)
    assert ke is kt is RuntimeError and me.split(":")[0] == mt.split(":")[0]


def test_register_hooks_packs_now_and_unpacks_in_backward():
    results = []
    for lib, (x, w) in (("ember", (_pair([1.0, 2.0])[0], _pair([3.0, 4.0])[0])),
                        ("torch", (_pair([1.0, 2.0])[1], _pair([3.0, 4.0])[1]))):
        calls = []
        y = x * w
        raw = y.grad_fn._raw_saved_self
        assert raw.unpack_hook is None

        def pack(t):
            calls.append("pack")
            return t.detach() * 2   # what the graph keeps

        def unpack(p):
            calls.append("unpack")
            return p

        raw.register_hooks(pack, unpack)
        assert raw.unpack_hook is unpack
        assert calls == ["pack"]
        seen = y.grad_fn._saved_self.tolist()
        y.sum().backward()
        results.append((calls, seen, w.grad.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


def test_register_hooks_on_saved_result_and_errors():
    outs = []
    for lib in (ember, torch):
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        y = x.exp()
        raw = y.grad_fn._raw_saved_result
        raw.register_hooks(lambda t: t.detach() + 1, lambda p: p)
        twice = _error(lambda: raw.register_hooks(lambda t: t, lambda t: t))
        y.sum().backward()
        none = _error(lambda: (x * 1.5).grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t))
        bad = _error(lambda: (x * x).grad_fn._raw_saved_self.register_hooks(1, 2))
        outs.append((x.grad.tolist(), twice, none, (bad[0], bad[1].split(":")[0])))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-6)
    assert outs[0][1:] == outs[1][1:]


def test_profiler_config_and_event():
    for lib in (ember, torch):
        ag = lib.autograd
        with pytest.raises(TypeError, match="incompatible constructor arguments"):
            ag.ProfilerConfig(1, False, False, False, False, False, None)
        with pytest.raises(TypeError, match="incompatible constructor arguments"):
            ag.ProfilerConfig(ag.ProfilerState.CPU, 0, False, False, False, False, None)
        with pytest.raises(TypeError, match="No constructor defined"):
            ag.ProfilerEvent()
    config = torch._C._profiler._ExperimentalConfig()
    torch.autograd.ProfilerConfig(torch.autograd.ProfilerState.CPU, True, False, False, False, False, config)
    made = ember.autograd.ProfilerConfig(ember.autograd.ProfilerState.CPU, True, False, False, False, False, config)
    assert made._state is ember.autograd.ProfilerState.CPU and made._trace_id == ""
    start = ember.autograd.ProfilerEvent._record("aten::mul", "push", 10.0, shapes=[[2, 3]])
    end = ember.autograd.ProfilerEvent._record("aten::mul", "pop", 14.5)
    assert (start.name(), start.kind(), start.shapes(), start.cpu_elapsed_us(end)) == ("aten::mul", "push",
                                                                                       [[2, 3]], 4.5)
    names = {n for n in dir(torch.autograd.ProfilerEvent) if not n.startswith("_")}
    assert names <= set(dir(ember.autograd.ProfilerEvent))
