"""Import real torchvision as a test oracle.

PyPI's torchvision 0.28 registers fake kernels for C++ ops that the CPU-only
torch 2.13 build lacks ('operator torchvision::nms does not exist'); those
registrations are irrelevant to the Python transforms, datasets and models we
compare against, so they are skipped while torchvision imports.
"""
import torch
import torch.library


def import_torchvision():
    original = torch.library.register_fake
    torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
    try:
        import torchvision
    finally:
        torch.library.register_fake = original
    return torchvision
