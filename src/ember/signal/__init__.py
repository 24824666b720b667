"""``torch.signal``: signal-processing helpers (its ``windows`` submodule)."""
from . import windows

__all__ = ["windows"]
