"""Random number generation: Generator objects, the default generator of each device type, and PyTorch's
global seeding functions.

A Generator is PyTorch's CPU generator: a 32-bit Mersenne Twister (``_mt19937.MT19937``) seeded as PyTorch
seeds it, plus the cached second sample of its scalar Box-Muller path.  ``get_state``/``set_state`` use
PyTorch's 5056-byte state layout, so a state saved by PyTorch loads here and back.  The samplers in
``ops/random.py`` turn its words into numbers with PyTorch's CPU transforms, so after ``manual_seed(s)`` the
random functions give PyTorch's CPU numbers.  Generators of other devices draw the same stream on the host
and hand back arrays of their device (PyTorch's CUDA Philox streams are not reproduced).

The CPU default generator starts from a fresh 64-bit seed read from the operating system in each process,
as PyTorch's does.
"""
import contextlib
import os

import numpy

from ._device import backend_for, device as _device_cls
from ._mt19937 import MT19937, N as _MT_N
from .kernels.random_streams import uniform_from_words

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng", "thread_safe_generator"]

_DEFAULT_SEED = 67280421310721  # PyTorch's seed for a new Generator()
_U64 = 0xFFFF_FFFF_FFFF_FFFF
_2_POW_M53, _2_POW_M24 = 2.0 ** -53, 2.0 ** -24

# PyTorch's CPUGeneratorImplState: its legacy part (seed, left, seeded, next, 624 64-bit state words, three
# doubles of an old normal cache and their valid flag) then the float normal cache.  5056 bytes.
_STATE = numpy.dtype([("seed", "<u8"), ("left", "<i4"), ("seeded", "<i4"), ("next", "<u8"),
                      ("state", "<u8", (_MT_N,)), ("normal_x", "<f8"), ("normal_y", "<f8"),
                      ("normal_rho", "<f8"), ("normal_is_valid", "<i4"), ("_pad0", "V4"),
                      ("next_float", "<f4"), ("next_float_valid", "u1"), ("_pad1", "V3")])
assert _STATE.itemsize == 5056


class Generator:
    """A source of random numbers for the ``generator=`` argument of random functions.

    Args:
        device: the device whose tensors this generator fills (a device or a string; default ``"cpu"``).
            PyTorch's error when that device is not available here.
    """

    def __init__(self, device="cpu"):
        self.device = _device_cls(device)
        self._backend = backend_for(self.device)
        self._engine = MT19937(_DEFAULT_SEED)
        self._next_double = None   # the second normal of the scalar Box-Muller path, kept for the next draw
        self._next_float = None    # its float twin (PyTorch keeps one; no CPU sampler uses it)

    # ------------------------------------------------------------------ seeding
    def manual_seed(self, seed):
        """Reseed with the integer ``seed`` (in ``[-2**63, 2**64)``; negatives wrap); returns this generator."""
        if isinstance(seed, str) or not hasattr(seed, "__index__") and not isinstance(seed, float):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= _U64:
            raise ValueError("Overflow when unpacking long long")
        self._engine.reseed(seed & _U64)
        self._next_double = self._next_float = None
        return self

    def seed(self):
        """Reseed from the operating system's entropy (a full 64-bit seed, as PyTorch); returns the seed."""
        new = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(new)
        return new

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._engine.seed

    def get_offset(self):
        raise RuntimeError("CPU Generator does not use offset")

    def set_offset(self, offset):
        raise RuntimeError("CPU Generator does not use offset")

    def graphsafe_get_state(self):
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state):
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")

    # ------------------------------------------------------------------ state
    def get_state(self):
        """The full state as a uint8 CPU tensor of PyTorch's layout (5056 bytes; pass it to ``set_state``)."""
        from ._tensor import _make
        key, left, nxt = self._engine.get()
        rec = numpy.zeros((), _STATE)
        rec["seed"], rec["left"], rec["seeded"], rec["next"] = self._engine.seed, left, 1, nxt
        rec["state"] = key
        if self._next_double is not None:
            rec["normal_y"], rec["normal_is_valid"] = self._next_double, 1
        if self._next_float is not None:
            rec["next_float"], rec["next_float_valid"] = self._next_float, 1
        return _make(numpy.frombuffer(rec.tobytes(), dtype=numpy.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state`` (PyTorch's or ember's); returns this generator."""
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != numpy.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = numpy.ascontiguousarray(new_state.numpy())
        if raw.size != _STATE.itemsize:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE.itemsize} but found the input "
                               f"RNG state size to be {raw.size}")
        rec = raw.view(_STATE)[0]
        left, nxt = int(rec["left"]), int(rec["next"])
        if not (rec["seeded"] and MT19937.valid(left, nxt)):
            raise RuntimeError("Invalid mt19937 state")
        self._engine.set(rec["state"].astype(numpy.uint32), left, nxt)
        self._engine.seed = int(rec["seed"])
        self._next_double = float(rec["normal_y"]) if rec["normal_is_valid"] else None
        self._next_float = float(rec["next_float"]) if rec["next_float_valid"] else None
        return self

    def clone_state(self):
        """A new Generator of this device in this generator's current state."""
        twin = Generator(self.device)
        twin._engine = self._engine.copy()
        twin._next_double, twin._next_float = self._next_double, self._next_float
        return twin

    def __reduce__(self):
        return Generator, (self.device,), (self.initial_seed(), None, self.get_state())

    def __setstate__(self, state):
        self.set_state(state[2])

    def __deepcopy__(self, memo):
        return self.clone_state()

    # ------------------------------------------------------------------ draws (host arrays)
    def random32(self, n):
        """The next ``n`` 32-bit words (uint32 array): PyTorch's ``random()``."""
        return self._engine.u32(n)

    def random32_list(self, n):
        """``random32(n)`` as a list of Python ints: for a few words, cheaper than an array."""
        return self._engine.u32_list(n)

    def random64(self, n):
        """The next ``n`` 64-bit words (uint64 array): PyTorch's ``random64()``, two words, high first."""
        return self._engine.u64(n)

    def uniform_float(self, n):
        """``n`` float32 uniforms on [0, 1) from 24 bits of one word each (PyTorch's float/half draws)."""
        return uniform_from_words(self._engine.u32(n), False)

    def uniform_double(self, n):
        """``n`` float64 uniforms on [0, 1) from 53 bits of a 64-bit draw each: PyTorch's double draws,
        which ``bernoulli_(p)``, dropout, multinomial, exponential_ ... use whatever the tensor's dtype."""
        return uniform_from_words(self._engine.u32(2 * n), True)

    def uniform_list(self, n, double):
        """``uniform_double(n)`` (``double`` True) or ``uniform_float(n)`` as a list of Python floats, the
        same values (each a multiple of 2**-53 or 2**-24, so exact in a double): for draws of a few values,
        where NumPy's per-call costs would dominate."""
        if double:
            pairs = iter(self._engine.u32_list(2 * n))
            return [((hi & 0x1FFFFF) << 32 | lo) * _2_POW_M53 for hi, lo in zip(pairs, pairs)]
        return [(x & 0xFFFFFF) * _2_POW_M24 for x in self._engine.u32_list(n)]

    def numpy_generator(self):
        """A ``numpy.random.Generator`` on this generator's stream, for samplers without a PyTorch twin."""
        return self._engine.numpy_generator()

    def numpy_sample(self, method, *args):
        """``numpy_generator().<method>(*args)``, drawn at once (the generator is not handed out)."""
        return self._engine.numpy_sample(method, *args)

    def to_device(self, host_array):
        """``host_array`` as an array of this generator's device."""
        if self.device.type == "cpu":
            return host_array
        return self._backend.from_host(numpy.asarray(host_array), self.device.index)

    def __repr__(self):
        return f"<torch._C.Generator object at {hex(id(self))}>"


default_generator = Generator()
default_generator.seed()   # as PyTorch: an unseeded process starts from a fresh seed; Generator()s from a fixed one
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
    """A ``numpy.random.Generator`` on the stream of ``generator`` (the CPU default one when None), for
    host samplers that have no PyTorch-exact form yet (their numbers differ from PyTorch's)."""
    return (generator or default_generator).numpy_generator()


def manual_seed(seed):
    """Seed the default generator of every device type; returns the CPU one."""
    default_generator.manual_seed(seed)
    for gen in _DEFAULTS.values():
        if gen is not default_generator:
            gen.manual_seed(seed)
    return default_generator


def seed():
    """Seed every default generator from OS entropy (one 64-bit seed); returns the seed."""
    new = default_generator.seed()
    for gen in _DEFAULTS.values():
        if gen is not default_generator:
            gen.manual_seed(new)
    return new


def initial_seed():
    """The initial seed of the default generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor (PyTorch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default generator's state from ``get_rng_state()``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Context manager (and decorator) that restores the random state on exit: the CPU default generator's,
    and that of the default generator of ``device_type`` when one was used.

    Args:
        devices: accepted for PyTorch compatibility (device indices of ``device_type``).
        enabled: when False, nothing is saved or restored.
        device_type: the accelerator type whose default generator is also forked.
    """
    if not enabled or device_type == "meta":
        yield
        return
    saved = [(gen, gen.get_state()) for kind, gen in _DEFAULTS.items()
             if kind == "cpu" or device_type is None or kind == device_type]
    try:
        yield
    finally:
        for gen, state in saved:
            gen.set_state(state)


def thread_safe_generator():
    """The generator of the current DataLoader thread worker, or None (use the default generator) elsewhere."""
    from .utils.data import get_worker_info
    info = get_worker_info()
    if info is not None and info.worker_method == "thread" and getattr(info, "rng", None) is not None:
        return info.rng.torch_generator
    return None
