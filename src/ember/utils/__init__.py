"""``ember.utils``: the data pipeline and other helpers (``torch.utils``).

Submodules are imported on first attribute access, so ``import ember`` stays
light and ``ember.utils.data.DataLoader`` works without an explicit import.
"""
import importlib

__all__ = ["data"]

_LAZY = {"data", "tensorboard", "checkpoint", "hooks"}


def __getattr__(name):
    if name in _LAZY:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
            raise
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
