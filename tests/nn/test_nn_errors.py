"""Bad input: PyTorch's exception type and message, plus (for errors raised inside a module) the module's path,
its one-line repr and the input shapes."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember


def _mnist(L):
    class Net(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = L.nn.Linear(784, 128)
            self.fc2 = L.nn.Linear(128, 10)

        def forward(self, x):
            return self.fc2(L.relu(self.fc1(x)))
    return Net()


def _raise_both(build, make_inputs, call=None):
    call = call or (lambda m, *xs: m(*xs))
    with pytest.raises(Exception) as et:
        call(build(torch), *make_inputs(torch))
    with pytest.raises(type(et.value)) as ee:
        call(build(ember), *make_inputs(ember))
    msg_t, msg_e = str(et.value), str(ee.value)
    assert msg_e.startswith(msg_t.split(" (Triggered")[0]), f"\nember: {msg_e}\ntorch: {msg_t}"
    return msg_e


def test_linear_wrong_feature_size_names_the_layer():
    msg = _raise_both(_mnist, lambda L: [L.zeros(64, 100)])
    assert "mat1 and mat2 shapes cannot be multiplied (64x100 and 784x128)" in msg
    assert "fc1 (Linear(in_features=784, out_features=128, bias=True))" in msg
    assert "[64, 100]" in msg


def test_nested_path_is_dotted():
    def build(L):
        return L.nn.Sequential(OrderedDict([("encoder", L.nn.Sequential(L.nn.Linear(4, 8), L.nn.ReLU(),
                                                                         L.nn.Linear(9, 2)))]))
    msg = _raise_both(build, lambda L: [L.zeros(3, 4)])
    assert "encoder.2 (Linear(in_features=9, out_features=2, bias=True))" in msg
    assert "input shape [3, 8]" in msg


def test_conv_wrong_input():
    if not hasattr(ember.nn, "Conv2d"):
        pytest.fail("Conv2d missing")
    build = lambda L: L.nn.Sequential(OrderedDict([("conv1", L.nn.Conv2d(3, 8, 3))]))  # noqa: E731
    msg = _raise_both(build, lambda L: [L.zeros(2, 4, 8, 8)])
    assert "conv1 (Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)))" in msg and "[2, 4, 8, 8]" in msg
    msg = _raise_both(build, lambda L: [L.zeros(2, 3, 8)])
    assert "conv1" in msg


@pytest.mark.parametrize("case", [
    ("batchnorm-channels", lambda L: L.nn.BatchNorm1d(4), lambda L: [L.zeros(3, 5)]),
    ("batchnorm-dims", lambda L: L.nn.BatchNorm2d(4), lambda L: [L.zeros(3, 4)]),
    ("batchnorm-one-value", lambda L: L.nn.BatchNorm1d(4), lambda L: [L.zeros(1, 4)]),
    ("layernorm-shape", lambda L: L.nn.LayerNorm(5), lambda L: [L.zeros(2, 4)]),
    ("groupnorm-channels", lambda L: L.nn.GroupNorm(2, 4), lambda L: [L.zeros(2, 5, 3)]),
    ("instancenorm-dims", lambda L: L.nn.InstanceNorm2d(3), lambda L: [L.zeros(3, 4)]),
    ("embedding-range", lambda L: L.nn.Embedding(5, 2), lambda L: [L.tensor([1, 7])]),
    ("embedding-float", lambda L: L.nn.Embedding(5, 2), lambda L: [L.tensor([1.0, 2.0])]),
    ("ce-batch", lambda L: L.nn.CrossEntropyLoss(), lambda L: [L.zeros(3, 5), L.tensor([1, 2, 3, 4])]),
    ("ce-float-target", lambda L: L.nn.NLLLoss(), lambda L: [L.zeros(3, 5), L.tensor([1.0, 2.0, 3.0])]),
    ("ce-class-range", lambda L: L.nn.CrossEntropyLoss(), lambda L: [L.zeros(3, 5), L.tensor([1, 2, 9])]),
    ("ce-kdim-shape", lambda L: L.nn.CrossEntropyLoss(), lambda L: [L.zeros(2, 5, 4), L.zeros(2, 3, dtype=L.long)]),
    ("ce-multi-target", lambda L: L.nn.CrossEntropyLoss(), lambda L: [L.zeros(3, 5), L.zeros(3, 2, dtype=L.long)]),
    ("bce-size", lambda L: L.nn.BCELoss(), lambda L: [L.full((3,), 0.5), L.zeros(3, 1)]),
    ("bce-logits-size", lambda L: L.nn.BCEWithLogitsLoss(), lambda L: [L.zeros(3), L.zeros(3, 1)]),
    ("bce-range", lambda L: L.nn.BCELoss(), lambda L: [L.full((3,), 1.5), L.zeros(3)]),
    ("mse-reduction", lambda L: L.nn.MSELoss(reduction="avg"), lambda L: [L.zeros(3), L.zeros(3)]),
    ("softmax2d-dims", lambda L: L.nn.Softmax2d(), lambda L: [L.zeros(3, 4)]),
    ("glu-odd", lambda L: L.nn.GLU(), lambda L: [L.zeros(3, 5)]),
    ("prelu-channels", lambda L: L.nn.PReLU(3), lambda L: [L.zeros(2, 4)]),
    ("bilinear-size", lambda L: L.nn.Bilinear(3, 4, 2), lambda L: [L.zeros(5, 3), L.zeros(5, 5)]),
    ("dropout1d-dims", lambda L: L.nn.Dropout1d(), lambda L: [L.zeros(2, 3, 4, 5)]),
    ("multimargin-p", lambda L: L.nn.Sequential(), lambda L: [L.zeros(1)]),
], ids=lambda c: c[0])
def test_bad_input_types_and_messages(case):
    _, build, make = case
    if case[0] == "multimargin-p":
        for L in (ember, torch):
            with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
                L.nn.MultiMarginLoss(p=3)
        return
    msg = _raise_both(build, make)
    if case[0] not in ("mse-reduction",):
        assert "[in module " in msg or case[0].startswith(("bce", "ce-", "batchnorm-one"))


def test_constructor_errors():
    for ctor in (lambda L: L.nn.Dropout(1.5), lambda L: L.nn.GroupNorm(3, 4), lambda L: L.nn.Hardtanh(1, 0),
                 lambda L: L.nn.Embedding(5, 2, padding_idx=9), lambda L: L.nn.TripletMarginLoss(margin=0)):
        with pytest.raises(Exception) as et:
            ctor(torch)
        with pytest.raises(type(et.value)) as ee:
            ctor(ember)
        assert str(ee.value) == str(et.value)


def test_error_context_keeps_exception_identity_and_type():
    m = ember.nn.Linear(3, 2)
    try:
        m(ember.zeros(4))
    except RuntimeError as e:
        assert type(e) is RuntimeError
        assert str(e).count("[in module") == 1
    else:
        raise AssertionError("no error")
    # errors raised while handling are not decorated twice when re-raised through an outer module
    outer = ember.nn.Sequential(ember.nn.Sequential(m))
    with pytest.raises(RuntimeError) as exc:
        outer(ember.zeros(4))
    assert str(exc.value).count("[in module") == 1 and "0.0 (Linear" in str(exc.value)
