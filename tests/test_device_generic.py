"""Training runs on every device: modules, losses and optimizers keep everything on the parameters' device,
and give the CPU's numbers (the tagged test device computes with NumPy too, so results are bit-identical)."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from array_backend import assert_on_device
from devices import TABLE_DEVICES
from ember.kernels._dispatch import Kernel

OPTIMIZERS = [(ember.optim.SGD, dict(lr=0.1, momentum=0.9)), (ember.optim.Adam, dict(lr=0.01)),
              (ember.optim.AdamW, dict(lr=0.01)), (ember.optim.RMSprop, dict(lr=0.01)),
              (ember.optim.Adagrad, dict(lr=0.1))]


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16, 8), nn.LayerNorm(8), nn.GELU(), nn.Dropout(0.1), nn.Linear(8, 3))


def _train(device, opt_cls, kw, steps=3):
    ember.manual_seed(0)
    model = _cnn().to(device)
    opt = opt_cls(model.parameters(), **kw)
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((6, 1, 6, 6)).astype(np.float32), device=device)
    y = ember.tensor(rng.integers(0, 3, 6), device=device)
    for _ in range(steps):
        ember.manual_seed(1)   # the same dropout masks on every device
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, opt, loss


@pytest.mark.parametrize("opt_cls,kw", OPTIMIZERS, ids=[o.__name__ for o, _ in OPTIMIZERS])
@pytest.mark.parametrize("device", TABLE_DEVICES)
def test_training_stays_on_device_and_matches_cpu(device, opt_cls, kw, monkeypatch):
    # The fused kernels run Numba on CPU arrays and their NumPy reference on any other array type: the two
    # order float sums differently. The CPU run below takes the reference too, so the numbers must agree bit
    # for bit (Adam turns a last-bit difference of a near-zero gradient into a full step, so a tolerance
    # would not do).
    monkeypatch.setattr(Kernel, "implementation", lambda kernel, array: kernel.reference)
    model, opt, loss = _train(device, opt_cls, kw)
    assert_on_device(loss, device, "loss")
    assert_on_device(list(model.parameters()), device, "parameter")
    assert_on_device([p.grad for p in model.parameters()], device, "gradient")
    assert_on_device(list(model.buffers()), device, "buffer")
    # optimizer state follows its parameter, except 'step', which PyTorch keeps on the CPU
    assert_on_device([v for s in opt.state.values() for k, v in s.items() if k != "step"], device, "state")
    ref, _, ref_loss = _train("cpu", opt_cls, kw)
    assert loss.item() == ref_loss.item()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), q.detach().numpy())


@pytest.mark.parametrize("device", TABLE_DEVICES)
def test_recurrent_and_attention_layers_stay_on_device(device):
    ember.manual_seed(0)
    lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True).to(device)
    out, (h, c) = lstm(ember.randn(2, 3, 4, device=device))
    out.sum().backward()
    assert_on_device([out, h, c] + [p.grad for p in lstm.parameters()], device, "lstm")
    mha = nn.MultiheadAttention(8, 2, batch_first=True).to(device)
    q = ember.randn(2, 3, 8, device=device, requires_grad=True)
    o, w = mha(q, q, q)
    o.sum().backward()
    assert_on_device([o, w, q.grad] + [p.grad for p in mha.parameters()], device, "attention")


def test_module_to_moves_parameters_in_place():
    """The same Parameter objects move (an optimizer built before the move keeps working), as PyTorch."""
    model = nn.Linear(3, 2)
    params = list(model.parameters())
    model.to("privateuseone")
    assert all(a is b for a, b in zip(params, model.parameters()))
    assert all(p.device.type == "privateuseone" for p in params)
    model.cpu()
    assert all(type(p._data) is np.ndarray for p in params)
