"""Random number generation: Generator objects and the global default generator.

Each Generator owns a NumPy ``PCG64`` bit generator; the same seed gives the
same numbers on every run.  (The streams differ from PyTorch's Mersenne
Twister, so seeded values match ember runs, not torch runs.)
"""
import os
import pickle

import numpy

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed, so initial_seed() reads the same


class Generator:
    """A source of random numbers for the ``generator=`` argument of random functions.

    Args:
        device: only ``"cpu"`` is supported.
    """

    def __init__(self, device="cpu"):
        from ._device import as_cpu
        self.device = as_cpu(device)
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
        """The full generator state as a uint8 tensor (pass it to ``set_state``)."""
        from ._tensor import Tensor
        blob = pickle.dumps((self._seed, self._np.bit_generator.state))
        return Tensor._wrap(numpy.frombuffer(blob, dtype=numpy.uint8).copy())

    def set_state(self, new_state):
        """Restore a state returned by ``get_state``; returns this generator."""
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor) or new_state._data.dtype != numpy.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        try:
            seed, state = pickle.loads(new_state._data.tobytes())
            bitgen = numpy.random.PCG64()
            bitgen.state = state
        except Exception:
            raise RuntimeError("Invalid generator state: expected a state returned by get_state()") from None
        self._seed = seed
        self._np = numpy.random.Generator(bitgen)
        return self

    def clone_state(self):
        return self.get_state()

    def __repr__(self):
        return f"<torch._C.Generator object at {hex(id(self))}>"


default_generator = Generator()


def np_generator(generator):
    """The NumPy generator behind ``generator`` (the default one when None)."""
    return (generator or default_generator)._np


def manual_seed(seed):
    """Seed the default generator (and, for PyTorch compatibility, nothing else); returns it."""
    return default_generator.manual_seed(seed)


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
