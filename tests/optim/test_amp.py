"""ember.amp (GradScaler, autocast) and ember.cuda.amp against torch.amp / torch.cuda.amp."""
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.amp
import ember.cuda.amp
import ember.optim as eoptim
from ember.amp import autocast_mode as am


def arr(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach()._data)


class Regression:
    """A least-squares problem run identically in both libraries."""

    def __init__(self, dtype=np.float32, seed=0):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((16, 5)).astype(dtype)
        self.y = rng.standard_normal((16, 1)).astype(dtype)
        self.w0 = (0.1 * rng.standard_normal((5, 1))).astype(dtype)
        self.b0 = np.zeros(1, dtype=dtype)

    def params(self, lib):
        return [lib.from_numpy(self.w0.copy()).requires_grad_(), lib.from_numpy(self.b0.copy()).requires_grad_()]

    def loss(self, lib, params):
        w, b = params
        pred = lib.from_numpy(self.x) @ w + b
        return ((pred - lib.from_numpy(self.y)) ** 2).mean()


def _train(lib, scaler_factory, opt_factory, steps=25, inf_steps=(4, 5, 13), clip=False):
    prob = Regression()
    params = prob.params(lib)
    opt = opt_factory(lib, params)
    scaler = scaler_factory(lib)
    log = []
    for k in range(steps):
        opt.zero_grad()
        scaled = scaler.scale(prob.loss(lib, params))
        scaled.backward()
        if k in inf_steps:  # an overflowing gradient: the step must be skipped, the scale backed off
            g = params[k % 2].grad
            bad = arr(g).copy()
            bad.flat[0] = np.inf if k % 2 == 0 else np.nan
            params[k % 2].grad = lib.from_numpy(bad)
        if clip:  # work on the true gradients between unscale_ and step (e.g. clipping)
            scaler.unscale_(opt)
            with lib.no_grad():
                for p in params:
                    p.grad.mul_(0.5)
        scaler.step(opt)
        scaler.update()
        log.append((float(arr(scaled)), scaler.get_scale(), scaler._get_growth_tracker(),
                    [arr(p).copy() for p in params], [arr(p.grad).copy() for p in params]))
    return log, scaler, opt


def _compare_logs(le, lt):
    assert len(le) == len(lt)
    for k, (a, b) in enumerate(zip(le, lt)):
        assert a[0] == pytest.approx(b[0], rel=1e-5), f"scaled loss at step {k}"
        assert a[1] == b[1], f"scale at step {k}"
        assert a[2] == b[2], f"growth tracker at step {k}"
        for x, y in zip(a[3], b[3]):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6, err_msg=f"params at step {k}")
        for x, y in zip(a[4], b[4]):  # float32 backward: error relative to the largest entry
            scale = np.nanmax(np.abs(np.where(np.isfinite(y), y, 0)))
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6 * max(1.0, scale), equal_nan=True,
                                       err_msg=f"grads at step {k}")


def _cpu_scaler(lib):
    return lib.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=3)


OPTIMIZERS = {
    "SGD": lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9),
    "Adam": lambda lib, p: lib.optim.Adam(p, lr=0.01),
    "Adam-fused": lambda lib, p: lib.optim.Adam(p, lr=0.01, fused=True),
    "SGD-fused": lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9, fused=True),
    "Adagrad-fused": lambda lib, p: lib.optim.Adagrad(p, lr=0.05, fused=True),
    "AdamW": lambda lib, p: lib.optim.AdamW(p, lr=0.01),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_grad_scaler_cpu_matches_torch(name):
    """Scaled loss, skipped steps on inf/NaN, backoff and growth of the scale, params, grads."""
    le, se, oe = _train(ember, _cpu_scaler, OPTIMIZERS[name])
    lt, st, ot = _train(torch, _cpu_scaler, OPTIMIZERS[name])
    _compare_logs(le, lt)
    assert se.state_dict() == st.state_dict()
    scales = [entry[1] for entry in le]
    assert min(scales) < 2.0 ** 10 < max(scales)  # both backoff and growth happened


def test_unscale_then_step_matches_torch():
    le, _, _ = _train(ember, _cpu_scaler, OPTIMIZERS["SGD"], clip=True)
    lt, _, _ = _train(torch, _cpu_scaler, OPTIMIZERS["SGD"], clip=True)
    _compare_logs(le, lt)


def test_skipped_step_leaves_parameters_and_state_untouched():
    prob = Regression()
    params = prob.params(ember)
    opt = eoptim.Adam(params, lr=0.1)
    scaler = ember.amp.GradScaler("cpu")
    scaler.scale(prob.loss(ember, params)).backward()
    params[0].grad = ember.from_numpy(np.full((5, 1), np.inf, dtype=np.float32))
    before = [arr(p).copy() for p in params]
    assert scaler.step(opt) is None
    scaler.update()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(arr(p), b)
    assert len(opt.state) == 0
    assert scaler.get_scale() == 2.0 ** 15


def _raises_like_torch(fn):
    caught = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        caught.append(info.value)
    assert type(caught[0]) is type(caught[1])
    assert str(caught[0]) == str(caught[1])


def _scaled_setup(lib):
    prob = Regression()
    params = prob.params(lib)
    opt = lib.optim.SGD(params, lr=0.1)
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(prob.loss(lib, params)).backward()
    return scaler, opt


def _twice_unscale(lib):
    scaler, opt = _scaled_setup(lib)
    scaler.unscale_(opt)
    scaler.unscale_(opt)


def _unscale_after_step(lib):
    scaler, opt = _scaled_setup(lib)
    scaler.step(opt)
    scaler.unscale_(opt)


def _step_twice(lib):
    scaler, opt = _scaled_setup(lib)
    scaler.step(opt)
    scaler.step(opt)


def _closure(lib):
    scaler, opt = _scaled_setup(lib)
    scaler.step(opt, closure=lambda: 0.0)


def _step_before_scale(lib):
    scaler = lib.amp.GradScaler("cpu")
    scaler.step(lib.optim.SGD([lib.zeros(1, requires_grad=True)]))


def _update_without_step(lib):
    scaler, opt = _scaled_setup(lib)
    scaler.update()


def _no_grads(lib):
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(lib.ones(1))
    scaler.step(lib.optim.SGD([lib.zeros(1, requires_grad=True)]))


def _bad_factors(lib):
    lib.amp.GradScaler("cpu", growth_factor=0.5)


def _bad_backoff(lib):
    lib.amp.GradScaler("cpu", backoff_factor=1.5)


def _load_empty(lib):
    lib.amp.GradScaler("cpu").load_state_dict({})


def _scale_non_tensor(lib):
    lib.amp.GradScaler("cpu").scale([lib.ones(1), 3])


@pytest.mark.parametrize("fn", [_twice_unscale, _unscale_after_step, _step_twice, _closure,
                                _step_before_scale, _update_without_step, _no_grads, _bad_factors,
                                _bad_backoff, _load_empty, _scale_non_tensor])
def test_grad_scaler_misuse_raises_like_torch(fn):
    _raises_like_torch(fn)


def test_scale_structures_and_state_dict_round_trip():
    se, st = ember.amp.GradScaler("cpu", init_scale=8.0), torch.amp.GradScaler("cpu", init_scale=8.0)
    outs_e = se.scale((ember.ones(2), [ember.full((1,), 2.0)]))
    outs_t = st.scale((torch.ones(2), [torch.full((1,), 2.0)]))
    assert type(outs_e) is tuple and type(outs_e[1]) is list
    np.testing.assert_array_equal(arr(outs_e[0]), arr(outs_t[0]))
    np.testing.assert_array_equal(arr(outs_e[1][0]), arr(outs_t[1][0]))
    assert se.state_dict() == st.state_dict()
    se.update(4.0)
    assert se.get_scale() == 4.0
    fresh = ember.amp.GradScaler("cpu")
    fresh.load_state_dict(se.state_dict())
    assert fresh.state_dict() == se.state_dict()
    fresh.scale(ember.ones(1))
    assert fresh.get_scale() == 4.0
    clone = pickle.loads(pickle.dumps(se))
    assert clone.get_scale() == 4.0
    assert (se.get_growth_factor(), se.get_backoff_factor(), se.get_growth_interval()) == (2.0, 0.5, 2000)
    se.set_growth_factor(3.0)
    se.set_backoff_factor(0.25)
    se.set_growth_interval(10)
    assert (se.get_growth_factor(), se.get_backoff_factor(), se.get_growth_interval()) == (3.0, 0.25, 10)


def test_disabled_scaler_passes_everything_through():
    prob = Regression()
    params = prob.params(ember)
    opt = eoptim.SGD(params, lr=0.1)
    scaler = ember.amp.GradScaler("cpu", enabled=False)
    loss = prob.loss(ember, params)
    assert scaler.scale(loss) is loss
    loss.backward()
    g = arr(params[0].grad).copy()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(arr(params[0]), prob.w0 - 0.1 * g, rtol=1e-6)
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [(w.category, str(w.message)) for w in caught]


def test_cuda_scalers_warn_and_disable_like_torch_without_gpu():
    se, we = _warnings_of(lambda: ember.amp.GradScaler())
    st, wt = _warnings_of(lambda: torch.amp.GradScaler())
    assert we == wt and not se.is_enabled() and not st.is_enabled()
    se, we = _warnings_of(lambda: ember.cuda.amp.GradScaler())
    st, wt = _warnings_of(lambda: torch.cuda.amp.GradScaler())
    assert we == wt and not se.is_enabled()
    loss = ember.ones(1)
    assert se.scale(loss) is loss


# ----------------------------------------------------------------------------------------------
# autocast


def test_autocast_sets_and_restores_state():
    assert not am.is_autocast_enabled("cpu")
    assert am.get_autocast_dtype("cpu") is ember.bfloat16
    assert am.autocast_cast_dtype("cpu") is None
    with ember.amp.autocast("cpu") as ctx:
        assert ctx.fast_dtype is ember.bfloat16
        assert am.is_autocast_enabled("cpu")
        assert am.autocast_cast_dtype("cpu") is ember.bfloat16
        with ember.amp.autocast("cpu", enabled=False):
            assert not am.is_autocast_enabled("cpu")
            assert am.autocast_cast_dtype("cpu") is None
        with ember.amp.autocast("cpu", dtype=ember.float16):
            assert am.autocast_cast_dtype("cpu") is ember.float16
        assert am.autocast_cast_dtype("cpu") is ember.bfloat16
    assert not am.is_autocast_enabled("cpu") and am.autocast_cast_dtype("cpu") is None
    with pytest.raises(KeyError):
        with ember.amp.autocast("cpu"):
            raise KeyError("boom")
    assert not am.is_autocast_enabled("cpu")


def test_autocast_as_decorator():
    @ember.amp.autocast("cpu", dtype=ember.bfloat16)
    def inside():
        return am.is_autocast_enabled("cpu"), am.get_autocast_dtype("cpu")

    assert inside() == (True, ember.bfloat16)
    assert not am.is_autocast_enabled("cpu")


def test_autocast_fields_match_torch():
    e, t = ember.amp.autocast("cpu"), torch.autocast("cpu")
    assert (e.device, e._enabled, e._cache_enabled, str(e.fast_dtype)) == \
        (t.device, t._enabled, t._cache_enabled, str(t.fast_dtype))


@pytest.mark.parametrize("make", [
    lambda lib: lib.amp.autocast("cpu", dtype=lib.float32),
    lambda lib: lib.amp.autocast("cuda"),
    lambda lib: lib.amp.autocast("cpu", enabled=False),
])
def test_autocast_warnings_and_disabling_like_torch(make):
    e, we = _warnings_of(lambda: make(ember))
    t, wt = _warnings_of(lambda: make(torch))
    assert we == wt
    assert e._enabled == t._enabled


def test_cuda_autocast_is_deprecated_and_disabled():
    e, we = _warnings_of(lambda: ember.cuda.amp.autocast())
    t, wt = _warnings_of(lambda: torch.cuda.amp.autocast())
    assert [c for c, _ in we] == [c for c, _ in wt]
    assert [m for _, m in we] == [m for _, m in wt]
    with e:
        assert not am.is_autocast_enabled("cuda")


@pytest.mark.parametrize("fn", [
    lambda lib: lib.amp.autocast(3),
    lambda lib: lib.amp.autocast("foo"),
    lambda lib: lib.amp.autocast("cpu")(42),
])
def test_autocast_bad_arguments_like_torch(fn):
    _raises_like_torch(fn)


def test_autocast_availability_and_defaults_match_torch():
    for device in ("cpu", "cuda", "xpu", "mps", "hpu"):
        assert ember.amp.is_autocast_available(device) == torch.amp.is_autocast_available(device)
        assert str(am.get_autocast_dtype(device)) == str(torch.get_autocast_dtype(device))


def test_custom_fwd_casts_inputs_under_autocast():
    seen = {}

    class Ctx:
        pass

    @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
    def forward(ctx, x, scale=None):
        seen["dtype"] = x.dtype
        seen["autocast"] = am.is_autocast_enabled("cpu")
        return x

    @ember.amp.custom_bwd(device_type="cpu")
    def backward(ctx, g):
        seen["bwd_autocast"] = am.is_autocast_enabled("cpu")
        return g

    ctx = Ctx()
    with ember.amp.autocast("cpu"):
        forward(ctx, ember.ones(2, dtype=ember.float64))
        assert seen == {"dtype": ember.float64, "autocast": False}  # float64 is never cast
        forward(ctx, ember.ones(2, dtype=ember.bfloat16))
        assert seen["dtype"] is ember.float32 and ctx._fwd_used_autocast is False
    backward(ctx, None)
    assert seen["bwd_autocast"] is False


@pytest.mark.parametrize("name,args", [
    ("is_autocast_cpu_enabled", ()), ("get_autocast_cpu_dtype", ()), ("get_autocast_gpu_dtype", ()),
    ("set_autocast_cpu_enabled", (False,)), ("set_autocast_cpu_dtype", ("bfloat16",)),
    ("set_autocast_gpu_dtype", ("float16",)),
])
def test_legacy_autocast_functions_warn_like_torch(name, args):
    def call(lib, fn):
        real = [getattr(lib, a) if isinstance(a, str) else a for a in args]
        return fn(*real)

    re, we = _warnings_of(lambda: call(ember, getattr(am, name)))
    rt, wt = _warnings_of(lambda: call(torch, getattr(torch, name)))
    assert [c for c, _ in we] == [c for c, _ in wt] == [DeprecationWarning]
    assert wt[0][1].startswith(we[0][1])
    assert str(re) == str(rt)


def test_top_level_names_exist_in_torch():
    for name in am.TOP_LEVEL_NAMES:
        assert hasattr(torch, name) and hasattr(am, name)
