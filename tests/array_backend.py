"""A test-only second array backend: proves ops take their array module from their inputs.

The device ``privateuseone`` holds its values in ``TaggedArray``, a NumPy subclass, computed by ``tagged``,
a module that is NumPy except that every function returns ``TaggedArray``.  An op that computes through
the array module of its inputs keeps its results tagged; an op that reaches for NumPy (or any module bound
at import) gets back a plain ``ndarray``, and ``assert_on_device`` catches it.
"""
import types

import numpy as np

import ember
from ember import _device

DEVICE = "privateuseone"


class TaggedArray(np.ndarray):
    """A NumPy array that belongs to the test device; ufuncs and methods on it keep the tag, 0-d included."""

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        return (obj if isinstance(obj, np.ndarray) else np.asarray(obj)).view(TaggedArray)


def _tag(value):
    if isinstance(value, np.ndarray) and not isinstance(value, TaggedArray):
        return value.view(TaggedArray)
    if isinstance(value, np.generic):
        return np.asarray(value).view(TaggedArray)
    if isinstance(value, tuple):
        return tuple(_tag(v) for v in value)
    if isinstance(value, list):
        return [_tag(v) for v in value]
    return value


def _tagging(fn):
    def call(*args, **kwargs):
        return _tag(fn(*args, **kwargs))
    call.__name__ = getattr(fn, "__name__", "call")
    return call


class _TaggedModule(types.ModuleType):
    """NumPy (or one of its submodules) whose functions return TaggedArray; ufuncs, types and constants as is."""

    def __init__(self, module):
        super().__init__(module.__name__.replace("numpy", "tagged"))
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if isinstance(value, types.ModuleType):
            value = _TaggedModule(value)
        elif callable(value) and not isinstance(value, (type, np.ufunc)):
            value = _tagging(value)
        setattr(self, name, value)
        return value


tagged = _TaggedModule(np)


def register():
    """Make ``privateuseone`` an ember device backed by ``tagged`` (idempotent)."""
    if DEVICE not in _device._BACKENDS:
        _device.register_backend(_device.ArrayBackend(
            DEVICE, tagged, TaggedArray, np.errstate, to_host=lambda a: np.asarray(a).view(np.ndarray),
            from_host=lambda a, index: np.array(a, copy=True).view(TaggedArray), device_index=lambda a: 0))


def assert_on_device(value, device, where="result"):
    """Every tensor in ``value`` (nested tuples/lists) is on ``device``, and on the test device its array is
    tagged: nothing fell back to plain NumPy."""
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            assert_on_device(v, device, f"{where}[{i}]")
        return
    if not isinstance(value, ember.Tensor):
        return
    assert value.device.type == ember.device(device).type, f"{where} is on {value.device}, expected {device}"
    if device == DEVICE:
        assert type(value._data) is TaggedArray, \
            f"{where} fell back to {type(value._data).__module__}.{type(value._data).__name__}"
