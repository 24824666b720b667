"""save / load in PyTorch's checkpoint formats, so files move between ember and PyTorch.

A checkpoint is an uncompressed zip archive: ``<name>/data.pkl`` holds the
pickled object, in which every tensor is a call to
``torch._utils._rebuild_tensor_v2`` on a *storage* whose raw little-endian bytes
are the entry ``<name>/data/<key>``.  ember writes those global names itself
(it never imports torch) and maps them back to ember objects when loading.

- ``_save``: the writer (tensors sharing memory share a storage).
- ``_load``: the readers (zip and legacy formats, ``map_location``), checking every declared size.
- ``_rebuild``: storages and the checked construction of tensors on them.
- ``_unpickle``: the ``weights_only`` unpickler, its allowlist and the user's safe globals.
"""
from ._load import load
from ._save import save
from ._unpickle import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]
