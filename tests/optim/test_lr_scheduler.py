"""ember.optim.lr_scheduler against torch.optim.lr_scheduler.

Every scheduler configuration runs 300 steps beside torch's; the learning rates (and the cycled
momentum / beta1, and every other param-group entry a scheduler writes) must be *exactly* equal
after every step.  A second run saves the optimizer's and the scheduler's state_dicts half-way,
rebuilds both from them, and must continue with exactly torch's uninterrupted sequence.
"""
import math
import warnings
from collections import Counter

import numpy as np
import pytest
import torch

import ember
import ember.optim as eoptim
from ember.optim import lr_scheduler as esched
from torch.optim import lr_scheduler as tsched

STEPS = 300


class Scale:
    """A callable object: LambdaLR saves its __dict__ in state_dict."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base ** epoch


def metric(k):
    """A deterministic validation-loss curve that improves, plateaus, wiggles and improves again."""
    return 1.0 / (1 + 0.1 * min(k, 60)) + 0.01 * math.sin(k) + (0.2 if 150 < k < 170 else 0.0) \
        - 0.001 * max(0, k - 200)


def make_optimizer(lib, kind):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.01}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


# each config: (scheduler class name, optimizer kind, builder(sched_module, optimizer) -> scheduler)
CONFIGS = {
    "LambdaLR": ("sgd", lambda s, o: s.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e)),
    "LambdaLR-per-group": ("sgd", lambda s, o: s.LambdaLR(o, [lambda e: 1 / (1 + e), Scale(0.97)])),
    "MultiplicativeLR": ("sgd", lambda s, o: s.MultiplicativeLR(o, lr_lambda=lambda e: 0.98)),
    "StepLR": ("sgd", lambda s, o: s.StepLR(o, step_size=30, gamma=0.1)),
    "StepLR-7-0.5": ("sgd", lambda s, o: s.StepLR(o, 7, gamma=0.5)),
    "MultiStepLR": ("sgd", lambda s, o: s.MultiStepLR(o, milestones=[30, 80, 80, 200], gamma=0.3)),
    "ConstantLR": ("sgd", lambda s, o: s.ConstantLR(o)),
    "ConstantLR-0.5-40": ("sgd", lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=40)),
    "LinearLR": ("sgd", lambda s, o: s.LinearLR(o)),
    "LinearLR-warmup": ("sgd", lambda s, o: s.LinearLR(o, start_factor=0.25, total_iters=50)),
    "LinearLR-decay": ("sgd", lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                                      total_iters=100)),
    "ExponentialLR": ("sgd", lambda s, o: s.ExponentialLR(o, gamma=0.99)),
    "PolynomialLR": ("sgd", lambda s, o: s.PolynomialLR(o)),
    "PolynomialLR-100-2": ("sgd", lambda s, o: s.PolynomialLR(o, total_iters=100, power=2.0)),
    "CosineAnnealingLR": ("sgd", lambda s, o: s.CosineAnnealingLR(o, T_max=50, eta_min=1e-4)),
    "CosineAnnealingLR-300": ("sgd", lambda s, o: s.CosineAnnealingLR(o, T_max=300)),
    "CosineAnnealingWarmRestarts": ("sgd", lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=25)),
    "CosineAnnealingWarmRestarts-mult": ("sgd", lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=10, T_mult=2, eta_min=1e-5)),
    "CyclicLR-triangular": ("sgd", lambda s, o: s.CyclicLR(o, base_lr=0.001, max_lr=0.1,
                                                           step_size_up=20)),
    "CyclicLR-triangular2": ("sgd", lambda s, o: s.CyclicLR(o, base_lr=[0.001, 0.0001],
                                                            max_lr=[0.1, 0.05], step_size_up=20,
                                                            step_size_down=10, mode="triangular2")),
    "CyclicLR-exp_range": ("sgd", lambda s, o: s.CyclicLR(o, 0.001, 0.1, step_size_up=15,
                                                          mode="exp_range", gamma=0.99)),
    "CyclicLR-no-momentum": ("sgd", lambda s, o: s.CyclicLR(o, 0.001, 0.1, step_size_up=30,
                                                            cycle_momentum=False)),
    "CyclicLR-adam-beta1": ("adam", lambda s, o: s.CyclicLR(o, 0.001, 0.1, step_size_up=25,
                                                            base_momentum=0.85, max_momentum=0.95)),
    "CyclicLR-scale_fn": ("sgd", lambda s, o: s.CyclicLR(o, 0.001, 0.1, step_size_up=10,
                                                         scale_fn=lambda x: 1 / x,
                                                         scale_mode="cycle")),
    "OneCycleLR-cos": ("sgd", lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=310)),
    "OneCycleLR-linear": ("sgd", lambda s, o: s.OneCycleLR(o, max_lr=[0.1, 0.2], epochs=31,
                                                           steps_per_epoch=10,
                                                           anneal_strategy="linear")),
    "OneCycleLR-three-phase": ("sgd", lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=305,
                                                                three_phase=True, pct_start=0.25)),
    "OneCycleLR-adam": ("adam", lambda s, o: s.OneCycleLR(o, max_lr=0.01, total_steps=300 + 1,
                                                          div_factor=10.0, final_div_factor=100.0)),
    "OneCycleLR-no-momentum": ("sgd", lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=400,
                                                                cycle_momentum=False)),
    "SequentialLR": ("sgd", lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=20), s.CosineAnnealingLR(o, T_max=100)],
        milestones=[20])),
    "SequentialLR-three": ("sgd", lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, factor=0.5, total_iters=10), s.ExponentialLR(o, gamma=0.99),
            s.StepLR(o, step_size=40, gamma=0.5)], milestones=[10, 120])),
    "ChainedScheduler": ("sgd", lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.1, total_iters=5), s.ExponentialLR(o, gamma=0.98)])),
    "ChainedScheduler-opt": ("sgd", lambda s, o: s.ChainedScheduler(
        [s.LinearLR(o, start_factor=0.2, total_iters=30), s.MultiStepLR(o, [100, 200])],
        optimizer=o)),
    "ReduceLROnPlateau": ("sgd", lambda s, o: s.ReduceLROnPlateau(o, patience=5)),
    "ReduceLROnPlateau-max-abs": ("sgd", lambda s, o: s.ReduceLROnPlateau(
        o, mode="max", threshold_mode="abs", threshold=0.001, patience=3, factor=0.5, cooldown=4)),
    "ReduceLROnPlateau-min_lr": ("sgd", lambda s, o: s.ReduceLROnPlateau(
        o, patience=2, factor=0.5, min_lr=[1e-3, 1e-4], eps=1e-6)),
    "ReduceLROnPlateau-cooldown": ("sgd", lambda s, o: s.ReduceLROnPlateau(
        o, threshold=0.01, patience=1, cooldown=2, min_lr=0.002)),
}


def _groups(opt):
    """Everything a scheduler may write into the param groups (not the params)."""
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


def _advance(sched, opt, k):
    opt.step()
    if isinstance(sched, (esched.ReduceLROnPlateau, tsched.ReduceLROnPlateau)):
        value = metric(k)
        if "max" == sched.mode:
            value = -value
        sched.step(value)
    else:
        sched.step()


def _simple(v):
    return isinstance(v, (int, float, str, bool, type(None)))


def assert_scheduler_state_equal(se, st):
    """Same keys in the same order; same values wherever the value is data (not a function)."""
    assert list(se.keys()) == list(st.keys())
    for k, b in st.items():
        a = se[k]
        if k == "_schedulers":
            assert len(a) == len(b)
            for x, y in zip(a, b):
                assert_scheduler_state_equal(x, y)
        elif _simple(b) or isinstance(b, (list, tuple, Counter)) and all(_simple(x) for x in b):
            assert a == b and type(a) is type(b), f"{k}: {a!r} != {b!r}"
        elif isinstance(b, dict) and all(_simple(x) for x in b.values()):
            assert a == b, f"{k}: {a!r} != {b!r}"


@pytest.mark.parametrize("name", list(CONFIGS))
def test_schedule_matches_torch_exactly(name):
    kind, build = CONFIGS[name]
    oe, ot = make_optimizer(ember, kind), make_optimizer(torch, kind)
    se, st = build(esched, oe), build(tsched, ot)
    assert se.get_last_lr() == st.get_last_lr()
    assert _groups(oe) == _groups(ot)
    lrs = set()
    for k in range(STEPS):
        _advance(se, oe, k)
        _advance(st, ot, k)
        assert se.get_last_lr() == st.get_last_lr(), f"step {k + 1}"
        assert _groups(oe) == _groups(ot), f"step {k + 1}"
        lrs.add(se.get_last_lr()[0])
    assert len(lrs) > 1  # the schedule did change the rate
    assert_scheduler_state_equal(se.state_dict(), st.state_dict())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_schedule_resumes_from_state_dicts(name):
    kind, build = CONFIGS[name]
    oe, ot = make_optimizer(ember, kind), make_optimizer(torch, kind)
    se, st = build(esched, oe), build(tsched, ot)
    for k in range(STEPS // 2):
        _advance(se, oe, k)
        _advance(st, ot, k)
    opt_state, sched_state = oe.state_dict(), se.state_dict()
    assert_scheduler_state_equal(sched_state, st.state_dict())

    # a fresh process rebuilds the optimizer and the scheduler, then loads both states (the
    # optimizer's after the scheduler's construction, which rewrites the learning rates)
    oe = make_optimizer(ember, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        se = build(esched, oe)
    oe.load_state_dict(opt_state)
    se.load_state_dict(sched_state)
    for k in range(STEPS // 2, STEPS):
        _advance(se, oe, k)
        _advance(st, ot, k)
        assert se.get_last_lr() == st.get_last_lr(), f"step {k + 1}"
        assert [g["lr"] for g in oe.param_groups] == [g["lr"] for g in ot.param_groups]


def test_seed_scenario_steplr_30_01_over_100_epochs():
    """The seeds' schedule: lr 0.05 divided by 10 every 30 epochs."""
    oe = eoptim.SGD([ember.zeros(2, requires_grad=True)], lr=0.05, momentum=0.9)
    ot = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.05, momentum=0.9)
    se, st = esched.StepLR(oe, step_size=30, gamma=0.1), tsched.StepLR(ot, step_size=30, gamma=0.1)
    used_e, used_t = [], []
    for epoch in range(100):
        used_e.append(oe.param_groups[0]["lr"])
        used_t.append(ot.param_groups[0]["lr"])
        oe.step()
        ot.step()
        se.step()
        st.step()
    assert used_e == used_t
    expected = [0.05 * 0.1 ** (e // 30) for e in range(100)]
    np.testing.assert_allclose(used_e, expected, rtol=1e-12)
    assert used_e[29] == 0.05 and used_e[30] == pytest.approx(0.005) and used_e[99] == pytest.approx(5e-5)


def test_warning_when_scheduler_steps_before_optimizer():
    opt = eoptim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    sched = esched.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning) as record:
        sched.step()
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    tsch = tsched.StepLR(topt, step_size=2)
    with pytest.warns(UserWarning) as trecord:
        tsch.step()
    assert [str(w.message) for w in record] == [str(w.message) for w in trecord]
    assert "Detected call of `lr_scheduler.step()` before `optimizer.step()`" in str(record[0].message)

    # the right order gives no warning
    opt2 = eoptim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    sched2 = esched.ExponentialLR(opt2, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt2.step()
        sched2.step()
    assert sched2.get_last_lr() == [0.05]


def test_warning_when_optimizer_step_is_replaced():
    opt = eoptim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    sched = esched.StepLR(opt, step_size=2)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match="Seems like `optimizer.step\\(\\)` has been overridden"):
        sched.step()


def test_get_lr_outside_step_warns():
    opt = eoptim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    sched = esched.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


@pytest.mark.parametrize("name,make", [
    ("StepLR", lambda s, o: s.StepLR(o, step_size=3, gamma=0.5)),
    ("MultiStepLR", lambda s, o: s.MultiStepLR(o, [2, 5, 5], gamma=0.5)),
    ("ExponentialLR", lambda s, o: s.ExponentialLR(o, gamma=0.9)),
    ("CosineAnnealingLR", lambda s, o: s.CosineAnnealingLR(o, T_max=7)),
    ("LinearLR", lambda s, o: s.LinearLR(o, total_iters=6)),
    ("PolynomialLR", lambda s, o: s.PolynomialLR(o, total_iters=6)),
    ("ConstantLR", lambda s, o: s.ConstantLR(o, total_iters=4)),
    ("LambdaLR", lambda s, o: s.LambdaLR(o, lambda e: 1 / (e + 1))),
    ("CosineAnnealingWarmRestarts", lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)),
])
def test_step_with_epoch_uses_closed_form_and_warns(name, make):
    oe, ot = make_optimizer(ember, "sgd"), make_optimizer(torch, "sgd")
    se, st = make(esched, oe), make(tsched, ot)
    epochs = [3, 1, 8, 8, 2, 10, 4.5] if name == "CosineAnnealingWarmRestarts" else [3, 1, 8, 8, 2, 10]
    for epoch in epochs:
        oe.step()
        ot.step()
        with warnings.catch_warnings(record=True) as we:
            warnings.simplefilter("always")
            se.step(epoch)
        with warnings.catch_warnings(record=True) as wt:
            warnings.simplefilter("always")
            st.step(epoch)
        assert [str(w.message) for w in we] == [str(w.message) for w in wt]
        assert se.get_last_lr() == st.get_last_lr(), f"epoch {epoch}"


def test_lambda_state_dict_saves_callable_objects():
    oe = make_optimizer(ember, "sgd")
    scale = Scale(0.9)
    sched = esched.LambdaLR(oe, [lambda e: 1.0, scale])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"base": 0.9}]
    other = Scale(0.5)
    sched2 = esched.LambdaLR(make_optimizer(ember, "sgd"), [lambda e: 1.0, other])
    sched2.load_state_dict(sd)
    assert other.base == 0.9
    assert "lr_lambdas" in sd  # the caller's dict is left intact


def test_resuming_needs_initial_lr():
    opt = eoptim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        esched.StepLR(opt, step_size=3, last_epoch=5)


def test_tensor_learning_rate_is_filled_in_place():
    lr = ember.tensor(0.1)
    opt = eoptim.SGD([ember.zeros(1, requires_grad=True)], lr=lr)
    tlr = torch.tensor(0.1)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=tlr)
    se, st = esched.ExponentialLR(opt, gamma=0.5), tsched.ExponentialLR(topt, gamma=0.5)
    for _ in range(3):
        opt.step()
        topt.step()
        se.step()
        st.step()
    assert opt.param_groups[0]["lr"] is lr
    assert lr.item() == tlr.item()
    assert [float(x) for x in se.get_last_lr()] == [float(x) for x in st.get_last_lr()]


def _step_n(scheduler, n):
    for _ in range(n):
        scheduler.optimizer.step()
        scheduler.step()


def _raises_like_torch(fn):
    caught = []
    for lib, sched in ((ember, esched), (torch, tsched)):
        with pytest.raises(Exception) as info:
            fn(lib, sched)
        caught.append(info.value)
    e, t = caught
    assert type(e) is type(t)
    assert str(e) == str(t)


@pytest.mark.parametrize("fn", [
    lambda lib, s: s.StepLR(object(), 3),
    lambda lib, s: s.ConstantLR(make_optimizer(lib, "sgd"), factor=1.5),
    lambda lib, s: s.LinearLR(make_optimizer(lib, "sgd"), start_factor=0.0),
    lambda lib, s: s.LinearLR(make_optimizer(lib, "sgd"), end_factor=2.0),
    lambda lib, s: s.LambdaLR(make_optimizer(lib, "sgd"), [lambda e: 1.0]),
    lambda lib, s: s.MultiplicativeLR(make_optimizer(lib, "sgd"), [1.0, 2.0]),
    lambda lib, s: s.ReduceLROnPlateau(make_optimizer(lib, "sgd"), factor=1.0),
    lambda lib, s: s.ReduceLROnPlateau(make_optimizer(lib, "sgd"), mode="avg"),
    lambda lib, s: s.ReduceLROnPlateau(make_optimizer(lib, "sgd"), threshold_mode="x"),
    lambda lib, s: s.ReduceLROnPlateau(make_optimizer(lib, "sgd"), min_lr=[0.1]),
    lambda lib, s: s.CyclicLR(make_optimizer(lib, "sgd"), 0.1, [0.1, 0.2, 0.3]),
    lambda lib, s: s.CyclicLR(make_optimizer(lib, "sgd"), 0.1, 1.0, mode="sine"),
    lambda lib, s: s.CyclicLR(lib.optim.Adagrad([lib.zeros(1, requires_grad=True)]), 0.1, 1.0),
    lambda lib, s: s.OneCycleLR(make_optimizer(lib, "sgd"), 0.1),
    lambda lib, s: s.OneCycleLR(make_optimizer(lib, "sgd"), 0.1, total_steps=0),
    lambda lib, s: s.OneCycleLR(make_optimizer(lib, "sgd"), 0.1, epochs=2, steps_per_epoch=-1),
    lambda lib, s: s.OneCycleLR(make_optimizer(lib, "sgd"), 0.1, total_steps=10, pct_start=1.5),
    lambda lib, s: s.OneCycleLR(make_optimizer(lib, "sgd"), 0.1, total_steps=10, anneal_strategy="x"),
    lambda lib, s: s.CosineAnnealingWarmRestarts(make_optimizer(lib, "sgd"), T_0=0),
    lambda lib, s: s.CosineAnnealingWarmRestarts(make_optimizer(lib, "sgd"), T_0=5, T_mult=0),
    lambda lib, s: s.CosineAnnealingWarmRestarts(make_optimizer(lib, "sgd"), T_0=5, eta_min="0"),
    lambda lib, s: s.SequentialLR(make_optimizer(lib, "sgd"), [], []),
    lambda lib, s: (lambda o: s.SequentialLR(o, [s.StepLR(o, 2), s.StepLR(o, 3)], [1, 2]))(
        make_optimizer(lib, "sgd")),
    lambda lib, s: (lambda o: s.SequentialLR(o, [s.ReduceLROnPlateau(o)], []))(
        make_optimizer(lib, "sgd")),
    lambda lib, s: s.ChainedScheduler([]),
    lambda lib, s: _step_n(s.OneCycleLR(make_optimizer(lib, "sgd"), 0.1, total_steps=2), 4),
])
def test_bad_arguments_raise_like_torch(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _raises_like_torch(fn)
