"""Random number generation: Generator objects and the default generator of each device type.

Each Generator owns a NumPy ``PCG64`` bit stream; the same seed gives the same numbers on every run and
every device.  The CPU default generator starts from a fresh seed in each process (``initial_seed()`` differs
between runs) until ``manual_seed`` is called, as in PyTorch.  (The streams differ from PyTorch's Mersenne Twister, so seeded values match ember runs, not
torch runs.)  A Generator draws on the host and hands back arrays of its device's array module, so the
samplers in ``ops/random.py`` never assume NumPy.
"""
import os
import pickle

import numpy

from ._device import backend_for, device as _device_cls

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed, so initial_seed() reads the same


class Generator:
    """A source of random numbers for the ``generator=`` argument of random functions.

    Args:
        device: the device whose tensors this generator fills (a device or a string; default ``"cpu"``).
            PyTorch's error when that device is not available here.
    """

    def __init__(self, device="cpu"):
        self.device = _device_cls(device)
        self._backend = backend_for(self.device)
        self._seed = _DEFAULT_SEED
        self._np = numpy.random.Generator(numpy.random.PCG64(self._seed))

    def manual_seed(self, seed):
        """Reseed with the integer ``seed``; returns this generator."""
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= 0xFFFF_FFFF_FFFF_FFFF:
            raise ValueError("Overflow when unpacking long long")
        seed &= 0xFFFF_FFFF_FFFF_FFFF
        self._seed = seed
        self._np = numpy.random.Generator(numpy.random.PCG64(seed))
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        new = int.from_bytes(os.urandom(8), "little") & 0x7FFF_FFFF_FFFF_FFFF
        self.manual_seed(new)
        return new

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The full generator state as a uint8 CPU tensor (pass it to ``set_state``)."""
        from ._tensor import _make
        blob = pickle.dumps((self._seed, self._np.bit_generator.state))
        return _make(numpy.frombuffer(blob, dtype=numpy.uint8).copy())

    def set_state(self, new_state):
        """Restore a state returned by ``get_state``; returns this generator."""
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor) or new_state._data.dtype != numpy.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        try:
            seed, state = pickle.loads(new_state.numpy().tobytes())
            bitgen = numpy.random.PCG64()
            bitgen.state = state
        except Exception:
            raise RuntimeError("Invalid generator state: expected a state returned by get_state()") from None
        self._seed = seed
        self._np = numpy.random.Generator(bitgen)
        return self

    def clone_state(self):
        """A copy of the current state (as ``get_state``)."""
        return self.get_state()

    def draw(self, method, *args, **kwargs):
        """Samples from the distribution ``method`` of NumPy's ``Generator`` API ("random", "standard_normal",
        "integers", "permutation", "poisson", ...), as an array of this generator's device.

        ``args``/``kwargs`` follow that NumPy method (dtypes may be given by name; arrays of this device are
        read back to the host).  Used by ``ops/random.py``.
        """
        if self.device.type == "cpu":
            return getattr(self._np, method)(*args, **kwargs)
        host = self._backend.to_host
        args = [host(a) if type(a) is self._backend.array_type else a for a in args]
        arr = getattr(self._np, method)(*args, **kwargs)
        return self._backend.from_host(numpy.asarray(arr), self.device.index)

    def draw_into(self, array, method):
        """Fill ``array`` in place with ``method`` ("random" or "standard_normal") samples when it is a
        contiguous, writable float32/float64 host array; returns False (nothing drawn) otherwise.

        Sampling straight into the buffer avoids the temporaries of ``array[...] = draw(...)`` (initialising
        VGG's 100M-weight layer allocated 1.2 GB of them)."""
        if not (type(array) is numpy.ndarray and array.dtype in (numpy.float32, numpy.float64)
                and array.flags.c_contiguous and array.flags.writeable):
            return False
        getattr(self._np, method)(out=array, dtype=array.dtype)
        return True

    def __repr__(self):
        return f"<torch._C.Generator object at {hex(id(self))}>"


default_generator = Generator()
default_generator.seed()   # as PyTorch: an unseeded process draws a fresh stream; explicit Generator()s keep the fixed seed
_DEFAULTS = {"cpu": default_generator}   # device type -> its default generator


def generator_for(generator, device=None):
    """The generator an op on ``device`` draws from: ``generator`` itself, or that device type's default one.

    Raises PyTorch's error for a generator of another device type.
    """
    kind = "cpu" if device is None else _device_cls(device).type
    if generator is None:
        gen = _DEFAULTS.get(kind)
        if gen is None:
            gen = _DEFAULTS[kind] = Generator(kind)
        return gen
    if generator.device.type != kind:
        raise RuntimeError(f"Expected a '{kind}' device type for generator but found '{generator.device.type}'")
    return generator


def np_generator(generator):
    """The host NumPy generator behind ``generator`` (the CPU default one when None).

    Host samples only: an op that must follow its tensor's device draws through
    ``generator_for(generator, device).draw(...)`` instead."""
    return (generator or default_generator)._np


def manual_seed(seed):
    """Seed the default generator of every device type; returns the CPU one."""
    for gen in _DEFAULTS.values():
        gen.manual_seed(seed)
    return default_generator


def seed():
    """Seed the default generator from OS entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    """The initial seed of the default generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default generator's state from ``get_rng_state()``."""
    default_generator.set_state(new_state)


class fork_rng:
    """Context manager that restores the default generator's state on exit."""

    def __init__(self, devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self._state = get_rng_state()

    def __exit__(self, *exc):
        if self.enabled:
            set_rng_state(self._state)
        return False
