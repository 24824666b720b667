"""Samplers: the order in which a DataLoader visits a map-style dataset.

All randomness is drawn from ember generators (the global one unless a
``generator`` is given), so ``ember.manual_seed`` makes every order repeat.
Every sampler is lazy: ``RandomSampler(data, replacement=True,
num_samples=10**10)`` costs nothing until iterated and then produces indices
in small chunks.
"""
import itertools
from typing import Generic, TypeVar

import ember as _ember

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]

T_co = TypeVar("T_co", covariant=True)


def _fresh_generator_from_global():
    """A new Generator seeded from one draw of the global generator."""
    seed = int(_ember.empty((), dtype=_ember.int64).random_().item())
    g = _ember.Generator()
    g.manual_seed(seed)
    return g


class Sampler(Generic[T_co]):
    """Base class of samplers: an iterable of indices (or of lists of indices).

    Subclasses implement ``__iter__`` and, when the length is known, ``__len__``
    (``len(DataLoader)`` relies on it).
    """

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """Indices ``0, 1, ..., len(data_source) - 1``.

    Args:
        data_source (Sized): the dataset (only its length is used).
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def _chunks(self):
        yield range(len(self.data_source))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random indices into ``data_source``.

    Without replacement it yields whole random permutations (and a part of one
    more when ``num_samples`` is not a multiple of the length); with replacement
    it draws ``num_samples`` independent uniform indices, 32 at a time.

    Args:
        data_source (Sized): the dataset.
        replacement (bool): draw with replacement. Default: False.
        num_samples (int, optional): how many indices; default ``len(data_source)``.
        generator (Generator, optional): source of randomness. Without one, each
            ``iter()`` seeds a fresh generator from one draw of the global generator.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        """The number of indices one pass yields."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self):
        for chunk in self._chunks():
            yield from chunk

    def _chunks(self):
        """The indices of one pass as consecutive lists (whole permutations, or 32 draws)."""
        n = len(self.data_source)
        generator = self.generator if self.generator is not None else _fresh_generator_from_global()
        total = self.num_samples
        if self.replacement:
            for _ in range(total // 32):
                yield _ember.randint(0, n, (32,), generator=generator).tolist()
            yield _ember.randint(0, n, (total % 32,), generator=generator).tolist()
        else:
            for _ in range(total // n):
                yield _ember.randperm(n, generator=generator).tolist()
            yield _ember.randperm(n, generator=generator).tolist()[: total % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a random order (a fresh permutation every pass).

    Args:
        indices (sequence): the indices to sample from.
        generator (Generator, optional): source of randomness.
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        indices = self.indices
        for i in _ember.randperm(len(indices), generator=self.generator).tolist():
            yield indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices ``0 .. len(weights) - 1`` drawn with probability proportional to ``weights``.

    Args:
        weights (sequence): non-negative weights (need not sum to one); 1-D.
        num_samples (int): how many indices to draw per pass.
        replacement (bool): with replacement (default) or not, in which case an
            index is drawn at most once.
        generator (Generator, optional): source of randomness.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights_tensor = _ember.as_tensor(weights, dtype=_ember.float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError("weights should be a 1d sequence but given "
                             f"weights have shape {tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        drawn = _ember.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        yield from iter(drawn.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups the indices of another sampler into lists of ``batch_size``.

    Args:
        sampler (Sampler or Iterable): the source of indices.
        batch_size (int): indices per batch.
        drop_last (bool): drop a final batch shorter than ``batch_size``.

    Example::

        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        chunks = _chunked(self.sampler)
        if chunks is not None:
            yield from self._from_chunks(chunks)
            return
        it = iter(self.sampler)
        size = self.batch_size
        if self.drop_last:
            for batch in zip(*([it] * size)):
                yield list(batch)
        else:
            batch = list(itertools.islice(it, size))
            while batch:
                yield batch
                batch = list(itertools.islice(it, size))

    def _from_chunks(self, chunks):
        # same batches as the generic path, but sliced from lists of indices
        size = self.batch_size
        rest = []
        for chunk in chunks:
            if rest:
                rest.extend(chunk)
                chunk = rest
            stop = len(chunk) - len(chunk) % size
            for i in range(0, stop, size):
                yield list(chunk[i:i + size])
            rest = list(chunk[stop:])
        if rest and not self.drop_last:
            yield rest

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


def _chunked(sampler):
    """``sampler._chunks()`` for ember's own samplers whose ``__iter__`` is not overridden."""
    cls = type(sampler)
    if cls.__iter__ is RandomSampler.__iter__ and cls._chunks is RandomSampler._chunks:
        return sampler._chunks()
    if cls.__iter__ is SequentialSampler.__iter__ and cls._chunks is SequentialSampler._chunks:
        return sampler._chunks()
    return None
