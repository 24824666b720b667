"""The model code of the seed articles (../shared/seeds/001_*.txt), run as written under ``import ember as torch``,
and compared with the same code under real torch where the result is deterministic."""
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch as real_torch

import ember
import ember.optim  # noqa: F401  (ember/__init__ may not import it eagerly yet)
from nn_helpers import copy_state
from parity import assert_same


def _libs():
    return [(ember, ember.nn, ember.nn.functional, ember.autograd.Variable),
            (real_torch, real_torch.nn, real_torch.nn.functional, real_torch.autograd.Variable)]


def test_seed_sequential_positional_and_ordereddict():
    outs = []
    for torch, nn, F, Variable in _libs():
        model = nn.Sequential(
            nn.Conv2d(1, 20, 5),
            nn.ReLU(),
            nn.Conv2d(20, 64, 5),
            nn.ReLU()
        )
        model = nn.Sequential(OrderedDict([
            ('conv1', nn.Conv2d(1, 20, 5)),
            ('relu1', nn.ReLU()),
            ('conv2', nn.Conv2d(20, 64, 5)),
            ('relu2', nn.ReLU())
        ]))
        outs.append(model)
    e, t = outs
    assert str(e) == str(t)
    assert list(e.state_dict()) == list(t.state_dict())
    copy_state(e, t)
    x = np.random.default_rng(0).standard_normal((2, 1, 12, 12)).astype(np.float32)
    some_input_e, some_input_t = ember.from_numpy(x.copy()), real_torch.from_numpy(x.copy())
    assert_same(e(some_input_e), t(some_input_t), rtol=1e-4, atol=1e-5)
    model = e
    model.train(True)
    model.train(False)
    assert not model.conv1.training


def test_seed_subclassed_model_reuses_a_layer():
    def define(torch, nn):
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.feature_extractor = nn.Sequential(
                    nn.Conv2d(3, 12, kernel_size=3, padding=1, stride=1),
                    nn.Conv2d(12, 24, kernel_size=3, padding=1, stride=1),
                )
                self.second_extractor = nn.Conv2d(
                    24, 36, kernel_size=3, padding=1, stride=1)

            def forward(self, x):
                x = self.feature_extractor(x)
                x = self.second_extractor(x)
                # note that we may call same layer twice or mode
                x = self.second_extractor(x)
                return x
        return Model
    models = [define(torch, nn) for torch, nn, F, Variable in _libs()]
    Me, Mt = models
    e, t = Me(), Mt()
    assert str(e) == str(t)
    copy_state(e, t)
    x = np.random.default_rng(1).standard_normal((1, 3, 6, 6)).astype(np.float32)
    with pytest.raises(RuntimeError) as ee:     # 36 channels fed to a 24-channel conv, in both libraries
        e(ember.from_numpy(x.copy()))
    with pytest.raises(RuntimeError):
        t(real_torch.from_numpy(x.copy()))
    assert "second_extractor" in str(ee.value)      # ember names the layer that failed

    # the Siamese-style use the seed means: one layer applied twice, gradients from both uses add up
    def define_siamese(nn, F):
        class Siamese(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))

            def forward(self, a, b):
                return F.pairwise_distance(self.embed(a), self.embed(b))
        return Siamese()
    shared = [define_siamese(nn, F) for torch, nn, F, Variable in _libs()]
    e, t = shared
    copy_state(e, t)
    r = np.random.default_rng(2)
    a, b = r.standard_normal((5, 4)).astype(np.float32), r.standard_normal((5, 4)).astype(np.float32)
    le = e(ember.from_numpy(a.copy()), ember.from_numpy(b.copy())).sum()
    lt = t(real_torch.from_numpy(a.copy()), real_torch.from_numpy(b.copy())).sum()
    assert_same(le, lt, rtol=1e-5)
    le.backward()
    lt.backward()
    for (n, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert_same(pe.grad, pt.grad, rtol=1e-4, atol=1e-6)


def test_seed_custom_function_inside_module():
    torch = ember

    class MyFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            output = torch.sign(input)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            # saved tensors - tuple of tensors, so we need get first
            input, = ctx.saved_variables
            grad_output[input.ge(1)] = 0
            grad_output[input.le(-1)] = 0
            return grad_output

    # usage
    x = torch.randn(10, 20)
    y = MyFunction.apply(x)
    # or
    my_func = MyFunction.apply
    y = my_func(x)

    # and if we want to use inside nn.Module
    class MyFunctionModule(torch.nn.Module):
        def forward(self, x):
            return MyFunction.apply(x)

    x = torch.randn(10, 20, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        MyFunctionModule()(x).backward(torch.ones(10, 20))
    inside = (x.detach().abs() < 1).numpy()
    np.testing.assert_array_equal(x.grad.numpy(), inside.astype(np.float32))


def test_seed_weights_init_by_class_name_and_modules_loop():
    torch, nn = ember, ember.nn

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            m.weight.data.normal_(0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            m.weight.data.normal_(1.0, 0.02)
            m.bias.data.fill_(0)

    net = nn.Sequential(nn.Conv2d(3, 64, 4), nn.BatchNorm2d(64), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4),
                        nn.BatchNorm2d(128))
    net.apply(weights_init)
    w = net[0].weight.detach().numpy()
    assert abs(w.std() - 0.02) < 0.002 and abs(w.mean()) < 0.002
    assert abs(net[1].weight.detach().numpy().mean() - 1.0) < 0.01 and not net[4].bias.any()
    assert isinstance(net[0].weight, nn.Parameter) and net[0].weight.requires_grad

    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3)
            self.bn = nn.BatchNorm2d(16)
            self.fc = nn.Linear(16, 10)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                    m.weight.data.normal_(0, math.sqrt(2. / n))
                elif isinstance(m, nn.BatchNorm2d):
                    m.weight.data.fill_(1)
                    m.bias.data.zero_()
                elif isinstance(m, nn.Linear):
                    m.bias.data.zero_()

    m = MyModel()
    assert abs(m.conv.weight.detach().numpy().std() - math.sqrt(2 / (3 * 3 * 16))) < 0.03
    assert not m.fc.bias.any() and m.bn.weight.eq(1).all()
    assert m.fc.weight.grad_fn is None and m.fc.weight.is_leaf


def test_seed_training_loop_with_variables_and_mse():
    results = []
    r = np.random.default_rng(3)
    xs, ys = r.standard_normal((10, 20)).astype(np.float32), r.standard_normal((10, 3)).astype(np.float32)
    w1s, w2s = r.standard_normal((20, 5)).astype(np.float32), r.standard_normal((5, 3)).astype(np.float32)
    for torch, nn, F, Variable in _libs():
        x = Variable(torch.from_numpy(xs.copy()), requires_grad=False)
        y = Variable(torch.from_numpy(ys.copy()), requires_grad=False)
        # define some weights
        w1 = Variable(torch.from_numpy(w1s.copy()), requires_grad=True)
        w2 = Variable(torch.from_numpy(w2s.copy()), requires_grad=True)
        learning_rate = 0.1
        loss_fn = torch.nn.MSELoss()
        optimizer = torch.optim.SGD([w1, w2], lr=learning_rate)
        losses = []
        for step in range(5):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = F.sigmoid(x @ w1)
                pred = F.sigmoid(pred @ w2)
            loss = loss_fn(pred, y)
            # manually zero all previous gradients
            optimizer.zero_grad()
            # calculate new gradients
            loss.backward()
            # apply new gradients
            optimizer.step()
            losses.append(loss.item())
        results.append((losses, w1.detach().numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-6)


def test_seed_finetuning_with_frozen_layers():
    runs = []
    r = np.random.default_rng(4)
    xs, ts = r.standard_normal((8, 6)).astype(np.float32), r.integers(0, 4, 8)
    for torch, nn, F, Variable in _libs():
        model = nn.Sequential(OrderedDict([("features", nn.Sequential(nn.Linear(6, 10), nn.ReLU())),
                                           ("fc", nn.Linear(10, 4))]))
        runs.append(model)
    e, t = runs
    copy_state(e, t)
    final = []
    for (torch, nn, F, Variable), model in zip(_libs(), (e, t)):
        for param in model.parameters():
            param.requires_grad = False
        # Replace the last fully-connected layer; parameters of newly constructed modules require grad
        model.fc.weight.requires_grad = True
        model.fc.bias.requires_grad = True
        optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.5, momentum=0.9)
        before = model.features[0].weight.detach().clone()
        for _ in range(3):
            optimizer.zero_grad()
            loss = nn.CrossEntropyLoss()(model(torch.from_numpy(xs.copy())), torch.from_numpy(ts.copy()))
            loss.backward()
            optimizer.step()
        assert model.features[0].weight.grad is None
        assert model.features[0].weight.equal(before) if hasattr(model.features[0].weight, "equal") else True
        final.append((loss.item(), model.fc.weight.detach().numpy().copy()))
    np.testing.assert_allclose(final[0][0], final[1][0], rtol=1e-5)
    np.testing.assert_allclose(final[0][1], final[1][1], rtol=1e-5, atol=1e-6)


def test_seed_state_dict_round_trip_and_print():
    nn = ember.nn
    model = nn.Sequential(OrderedDict([
        ('conv1', nn.Conv2d(1, 20, 5)),
        ('relu1', nn.ReLU()),
        ('conv2', nn.Conv2d(20, 64, 5)),
        ('relu2', nn.ReLU())
    ]))
    printed = str(model)
    assert printed == ("Sequential(\n  (conv1): Conv2d(1, 20, kernel_size=(5, 5), stride=(1, 1))\n  (relu1): ReLU()\n"
                       "  (conv2): Conv2d(20, 64, kernel_size=(5, 5), stride=(1, 1))\n  (relu2): ReLU()\n)")
    clone = nn.Sequential(OrderedDict([
        ('conv1', nn.Conv2d(1, 20, 5)), ('relu1', nn.ReLU()), ('conv2', nn.Conv2d(20, 64, 5)), ('relu2', nn.ReLU())]))
    clone.load_state_dict(model.state_dict())
    x = ember.randn(1, 1, 10, 10)
    np.testing.assert_array_equal(clone(x).detach().numpy(), model(x).detach().numpy())
