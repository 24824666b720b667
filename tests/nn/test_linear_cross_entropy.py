"""linear_cross_entropy, LinearCrossEntropyLoss and LinearCrossEntropyOptions against torch: values and
gradients of input / linear_weight / linear_bias for index and probability targets, K-dimensional weights,
ignore_index, label_smoothing and class weights, the options' validation and torch's shape errors."""
import dataclasses
import warnings

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(13)


def _pair(array, requires_grad=False):
    return (ember.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad))


def _case(batch, c, out, in_features, bias, probs):
    """Arrays for one call: input, weight (C, *out, in), bias, and an index or probability target."""
    x = RNG.standard_normal((*batch, in_features))
    w = RNG.standard_normal((c, *out, in_features))
    b = RNG.standard_normal((c, *out)) if bias else None
    if probs:
        t = RNG.uniform(0.1, 1.0, (*batch, c, *out))
        t = t / t.sum(axis=len(batch), keepdims=True)
    else:
        t = RNG.integers(0, c, (*batch, *out))
        t.flat[0] = -100  # exercises the default ignore_index
    return x, w, b, t


CASES = [((4,), 5, (), 3, False, False), ((4,), 5, (), 3, True, False), ((), 5, (), 3, True, False),
         ((4,), 5, (2, 3), 3, True, False), ((4,), 5, (), 3, True, True), ((4,), 5, (2,), 3, False, True),
         ((), 5, (), 3, False, True)]


@pytest.mark.parametrize("batch,c,out,in_features,bias,probs", CASES)
@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2},
                                    {"weight": "w"}])
def test_function_matches_torch(batch, c, out, in_features, bias, probs, kwargs):
    x, w, b, t = _case(batch, c, out, in_features, bias, probs)
    if probs is False and batch == ():
        t = np.array(2)
    kwargs = dict(kwargs)
    if kwargs.get("weight") == "w":
        kwargs["weight"] = RNG.uniform(0.5, 2.0, c)
    results = []
    for lib, pick in ((ember, 0), (torch, 1)):
        xs, ws = _pair(x, True)[pick], _pair(w, True)[pick]
        bs = _pair(b, True)[pick] if b is not None else None
        extra = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        loss = lib.nn.functional.linear_cross_entropy(xs, ws, lib.tensor(t), linear_bias=bs, **extra)
        loss.sum().backward()
        grads = [xs.grad, ws.grad] + ([bs.grad] if bs is not None else [])
        results.append((loss, grads))
    (e_loss, e_grads), (t_loss, t_grads) = results
    assert tuple(e_loss.shape) == tuple(t_loss.shape)
    np.testing.assert_allclose(e_loss.detach().numpy(), t_loss.detach().numpy(), rtol=1e-10, atol=1e-12)
    for eg, tg in zip(e_grads, t_grads):
        np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=1e-9, atol=1e-12)


def test_explicit_ignore_index():
    x, w, b, t = _case((6,), 4, (), 3, True, False)
    t[:3] = 1
    got = ember.nn.functional.linear_cross_entropy(*[ember.tensor(a) for a in (x, w, t)], ignore_index=1)
    want = torch.nn.functional.linear_cross_entropy(*[torch.tensor(a) for a in (x, w, t)], ignore_index=1)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def _error(lib, call):
    with pytest.raises(Exception) as info:
        call(lib)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("shapes,kwargs", [
    (((2, 2, 3), (5, 3), (2,)), {}),
    (((2, 3), (5,), (2,)), {}),
    (((2, 3), (5, 4), (2,)), {}),
    (((2, 3), (5, 3), (2,)), {"linear_bias": (4,)}),
    (((3,), (5, 2, 3), ()), {}),
    (((2, 3), (5, 3), (2, 5)), {"ignore_index": 0}),
    (((2, 3), (5, 3), (2,)), {"reduction": "bad"}),
])
def test_function_errors_match_torch(shapes, kwargs):
    xs, ws, ts = shapes

    def call(lib):
        target = lib.zeros(ts) if len(ts) == 2 else lib.zeros(ts, dtype=lib.int64)
        extra = {k: (lib.zeros(v) if k == "linear_bias" else v) for k, v in kwargs.items()}
        return lib.nn.functional.linear_cross_entropy(lib.zeros(xs), lib.zeros(ws), target, **extra)
    assert _error(ember, call) == _error(torch, call)


def _warnings(lib, x, w, t, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = lib.nn.functional.linear_cross_entropy(lib.tensor(x), lib.tensor(w), lib.tensor(t),
                                                      options=lib.nn.LinearCrossEntropyOptions(), **kwargs)
    return loss.item(), [(c.category.__name__, str(c.message)) for c in caught]


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"reduction": "sum"}])
def test_options_keep_the_value_and_warn_as_torch(kwargs):
    x, w, _, t = _case((4,), 5, (), 3, False, False)
    (e_value, e_warned), (t_value, t_warned) = _warnings(ember, x, w, t, **kwargs), _warnings(torch, x, w, t, **kwargs)
    assert e_warned == t_warned
    np.testing.assert_allclose(e_value, t_value, rtol=1e-10)


def test_options_fields_and_errors_match_torch():
    assert [f.name for f in dataclasses.fields(ember.nn.LinearCrossEntropyOptions)] == \
        [f.name for f in dataclasses.fields(torch.nn.LinearCrossEntropyOptions)]
    assert repr(ember.nn.LinearCrossEntropyOptions()) == repr(torch.nn.LinearCrossEntropyOptions())
    assert repr(ember.nn.LinearCrossEntropyOptions(acc_dtype=ember.float16, chunking_method="aspect_ratio:2")) == \
        repr(torch.nn.LinearCrossEntropyOptions(acc_dtype=torch.float16, chunking_method="aspect_ratio:2"))
    for kwargs in ({"acc_policy": "x"}, {"chunking_method": "foo"}, {"chunking_method": "aspect_ratio:0"},
                   {"batch_chunk_size": 0}, {"batch_chunk_size": 2.0}, {"acc_dtype": "int32"}):
        def call(lib, kwargs=kwargs):
            kw = {k: (getattr(lib, v) if k == "acc_dtype" else v) for k, v in kwargs.items()}
            return lib.nn.LinearCrossEntropyOptions(**kw)
        assert _error(ember, call) == _error(torch, call)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ember.nn.LinearCrossEntropyOptions().acc_policy = "compact"


@pytest.mark.parametrize("out_features,bias,ignore_index", [((), False, None), ((2, 3), True, 1), ((4,), True, None)])
def test_module_matches_torch(out_features, bias, ignore_index):
    e_mod = ember.nn.LinearCrossEntropyLoss(3, 5, out_features=out_features, bias=bias, dtype=ember.float64,
                                            ignore_index=ignore_index, label_smoothing=0.1)
    t_mod = torch.nn.LinearCrossEntropyLoss(3, 5, out_features=out_features, bias=bias, dtype=torch.float64,
                                            ignore_index=ignore_index, label_smoothing=0.1)
    assert repr(e_mod) == repr(t_mod)
    assert sorted(k for k, _ in e_mod.named_parameters()) == sorted(k for k, _ in t_mod.named_parameters())
    t_mod.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in e_mod.state_dict().items()})
    x = RNG.standard_normal((4, 3))
    t = RNG.integers(0, 5, (4, *out_features))
    (ex, tx) = _pair(x, True)
    e_loss, t_loss = e_mod(ex, ember.tensor(t)), t_mod(tx, torch.tensor(t))
    e_loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=1e-10)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(e_mod.linear.weight.grad.numpy(), t_mod.linear.weight.grad.numpy(), rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("kwargs", [{"weight": (3,)}, {"label_smoothing": 1.5}, {"label_smoothing": -0.1}])
def test_module_constructor_errors_match_torch(kwargs):
    def call(lib):
        kw = {k: (lib.ones(v) if k == "weight" else v) for k, v in kwargs.items()}
        return lib.nn.LinearCrossEntropyLoss(3, 4, **kw)
    assert _error(ember, call) == _error(torch, call)
