"""ember.vision.datasets: MNIST family, CIFAR, ImageFolder/DatasetFolder, FakeData."""
from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import EMNIST, KMNIST, MNIST, FashionMNIST
from .vision import VisionDataset, StandardTransform
from . import folder, mnist, cifar, utils, vision

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "ImageFolder", "DatasetFolder",
           "FakeData", "VisionDataset"]
