"""End-to-end (issues 4 and 6 together): a small CNN trained on 5,000 real MNIST images read through
ember.vision.datasets.MNIST + transforms, fed by a shuffling DataLoader with two worker processes, reaches
> 95% accuracy on 2,000 test images — the pytorch/examples mnist program, shrunk to run in seconds."""
import time

import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.vision as torchvision
from ember.utils.data import DataLoader, Subset

transforms = torchvision.transforms


class Net(nn.Module):
    """conv(16) - BN - ReLU - pool - conv(32) - BN - ReLU - pool - linear: about 10k parameters."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 5 * 5, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)   # 28 -> 26 -> 13
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)   # 13 -> 11 -> 5
        return self.fc(ember.flatten(x, 1))


def test_mnist_cnn_reaches_95_percent(mnist_root):
    start = time.perf_counter()
    ember.manual_seed(1)
    tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = Subset(torchvision.datasets.MNIST(mnist_root, train=True, transform=tfm), range(5000))
    test = Subset(torchvision.datasets.MNIST(mnist_root, train=False, transform=tfm), range(2000))
    loader = DataLoader(train, batch_size=32, shuffle=True, num_workers=2, persistent_workers=True)
    epochs = 4

    model = Net()
    optimizer = ember.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = ember.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=epochs * len(loader))
    seen = 0
    for _ in range(epochs):
        model.train()
        for data, target in loader:
            assert data.shape[1:] == (1, 28, 28) and data.dtype is ember.float32 and target.dtype is ember.int64
            optimizer.zero_grad()
            loss = F.cross_entropy(model(data), target)
            loss.backward()
            optimizer.step()
            scheduler.step()
            seen += len(target)
    assert seen == epochs * 5000
    assert loss.item() < 0.5

    model.eval()
    correct = 0
    with ember.no_grad():
        for data, target in DataLoader(test, batch_size=500, num_workers=2):
            correct += (model(data).argmax(dim=1) == target).sum().item()
    accuracy = correct / len(test)
    elapsed = time.perf_counter() - start
    print(f"MNIST e2e: accuracy {accuracy:.4f} on 2,000 test images in {elapsed:.1f} s")
    assert accuracy > 0.95
