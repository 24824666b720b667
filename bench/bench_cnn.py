"""CNN training-step benchmarks: a LeNet-style MNIST net with Adam and a small BatchNorm ResNet on 3x32x32.

Both libraries build the same architecture; ember's weights are copied from torch's so both do the same
arithmetic.  One call = one full training step (zero_grad, forward, loss, backward, optimizer step).
"""
import numpy as np

from bench._shared import copy_weights


def _lenet(nn, F):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = x.flatten(1)
            x = F.relu(self.fc1(x))
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def _resnet(nn, F):
    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.layer1 = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 16, 1))
            self.layer2 = nn.Sequential(BasicBlock(16, 32, 2), BasicBlock(32, 32, 1))
            self.layer3 = nn.Sequential(BasicBlock(32, 64, 2), BasicBlock(64, 64, 1))
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer3(self.layer2(self.layer1(out)))
            out = F.adaptive_avg_pool2d(out, 1).flatten(1)
            return self.fc(out)

    return ResNet()


def _step_fn(model, opt, loss_fn, x, y):
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _conv_case(rng, name, cin, cout, stride):
    """A 3x3 / padding 1 conv2d on 32 x cin x 32 x 32, forward + input and weight gradients, as a bench case."""
    import torch
    import ember
    x = rng.standard_normal((32, cin, 32, 32)).astype(np.float32)
    w = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32) * 0.1
    gy = rng.standard_normal((32, cout, 32 // stride, 32 // stride)).astype(np.float32)
    sides = []
    for lib in (ember, torch):
        xt, wt, gt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True), lib.tensor(gy)
        conv = lib.nn.functional.conv2d
        sides.append(lambda xt=xt, wt=wt, gt=gt, conv=conv, lib=lib: lib.autograd.grad(
            conv(xt, wt, stride=stride, padding=1), (xt, wt), gt))
    return name, sides[0], sides[1]


def cases():
    import torch
    import ember
    import ember.nn
    import ember.optim
    import ember.nn.functional as EF
    import torch.nn.functional as TF

    rng = np.random.default_rng(0)
    out = []

    torch.manual_seed(0)
    tm = _lenet(torch.nn, TF)
    em = _lenet(ember.nn, EF)
    copy_weights(em, tm)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    te = _step_fn(tm, torch.optim.Adam(tm.parameters(), lr=1e-3), TF.nll_loss, torch.tensor(x), torch.tensor(y))
    ee = _step_fn(em, ember.optim.Adam(em.parameters(), lr=1e-3), EF.nll_loss, ember.tensor(x), ember.tensor(y))
    out.append(("cnn: LeNet train step (MNIST 64x1x28x28, Adam)", ee, te, {"workload": True, "memory": True}))

    tm = _resnet(torch.nn, TF)
    em = _resnet(ember.nn, EF)
    copy_weights(em, tm)
    x = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    eopt = ember.optim.SGD(em.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    te = _step_fn(tm, topt, TF.cross_entropy, torch.tensor(x), torch.tensor(y))
    ee = _step_fn(em, eopt, EF.cross_entropy, ember.tensor(x), ember.tensor(y))
    out.append(("cnn: BN ResNet-14 train step (CIFAR 32x3x32x32, SGD)", ee, te, {"workload": True, "memory": True}))

    # the kernels on their own: forward + backward (input and weight gradients)
    x = rng.standard_normal((64, 32, 26, 26)).astype(np.float32)
    w = rng.standard_normal((64, 32, 3, 3)).astype(np.float32) * 0.05
    gy = rng.standard_normal((64, 64, 24, 24)).astype(np.float32)
    ce, cwe, cge = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True), ember.tensor(gy)
    ct, cwt, cgt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True), torch.tensor(gy)
    out.append(("cnn: conv2d 32->64 3x3 on 64x32x26x26 fwd+bwd",
                lambda: ember.autograd.grad(EF.conv2d(ce, cwe), (ce, cwe), cge),
                lambda: torch.autograd.grad(TF.conv2d(ct, cwt), (ct, cwt), cgt)))
    # the ResNet's own layer shapes: a 16-channel 3x3 on 32x32 (Winograd, 4 in the step) and a stride-2 3x3 (im2col)
    out.append(_conv_case(rng, "cnn: conv2d 16->16 3x3 pad 1 on 32x16x32x32 fwd+bwd", 16, 16, 1))
    out.append(_conv_case(rng, "cnn: conv2d 16->32 3x3 stride 2 on 32x16x32x32 fwd+bwd", 16, 32, 2))
    x = rng.standard_normal((64, 64, 24, 24)).astype(np.float32)
    gy = rng.standard_normal((64, 64, 12, 12)).astype(np.float32)
    pe, pge = ember.tensor(x, requires_grad=True), ember.tensor(gy)
    pt, pgt = torch.tensor(x, requires_grad=True), torch.tensor(gy)
    out.append(("cnn: max_pool2d 2x2 on 64x64x24x24 fwd+bwd",
                lambda: ember.autograd.grad(EF.max_pool2d(pe, 2), pe, pge),
                lambda: torch.autograd.grad(TF.max_pool2d(pt, 2), pt, pgt)))
    return out
