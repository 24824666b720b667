"""Datasets: the map-style ``Dataset``, streaming ``IterableDataset`` and their combinators."""
import bisect
import itertools
import math
import warnings
from typing import Generic, Iterable, TypeVar

import ember as _ember

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split"]

T_co = TypeVar("T_co", covariant=True)
T = TypeVar("T")


class Dataset(Generic[T_co]):
    """Base class of map-style datasets: ``dataset[key]`` returns one sample.

    Subclasses implement ``__getitem__`` and usually ``__len__`` (samplers and
    ``DataLoader``'s defaults need it).  They may also implement
    ``__getitems__(indices)`` returning a list of samples, which ``DataLoader``
    then calls once per batch instead of ``__getitem__`` once per sample.
    ``dataset_a + dataset_b`` is a :class:`ConcatDataset`.
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """Base class of datasets that are streams: subclasses implement ``__iter__``.

    With ``num_workers > 0`` every worker iterates its own copy of the dataset,
    so a dataset that should not repeat data splits the stream using
    :func:`~ember.utils.data.get_worker_info` (in ``__iter__`` or in the
    loader's ``worker_init_fn``)::

        class Range(IterableDataset):
            def __init__(self, start, end):
                self.start, self.end = start, end

            def __iter__(self):
                info = get_worker_info()
                if info is None:
                    return iter(range(self.start, self.end))
                per = math.ceil((self.end - self.start) / info.num_workers)
                lo = self.start + info.id * per
                return iter(range(lo, min(lo + per, self.end)))

    ``stream_a + stream_b`` is a :class:`ChainDataset`.
    """

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """A dataset of tensors indexed together along their first dimension.

    ``dataset[i]`` is ``tuple(t[i] for t in tensors)``.

    Args:
        *tensors (Tensor): tensors whose first dimensions have the same size.

    Raises:
        AssertionError: if the first dimensions differ ("Size mismatch between tensors").
    """

    def __init__(self, *tensors):
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)


class StackDataset(Dataset):
    """Several datasets of equal length read side by side.

    ``StackDataset(a, b)[i] == (a[i], b[i])`` and
    ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}``.

    Args:
        *args (Dataset): datasets whose samples form a tuple.
        **kwargs (Dataset): datasets whose samples form a dict (not both kinds at once).

    Raises:
        ValueError: for no datasets, both kinds, or datasets of different lengths.
    """

    def __init__(self, *args, **kwargs):
        if args:
            if kwargs:
                raise ValueError(
                    "Supported either ``tuple``- (via ``args``) or"
                    "``dict``- (via ``kwargs``) like input/output, but both types are given.")
            self._length = len(args[0])
            if any(self._length != len(d) for d in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            parts = list(kwargs.values())
            self._length = len(parts[0])
            if any(self._length != len(d) for d in parts):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    @staticmethod
    def _column(dataset, indices):
        getitems = getattr(dataset, "__getitems__", None)
        if callable(getitems):
            items = getitems(indices)
            if len(items) != len(indices):
                raise ValueError("Nested dataset's output size mismatch."
                                 f" Expected {len(indices)}, got {len(items)}")
            return items
        return [dataset[i] for i in indices]

    def __getitems__(self, indices):
        """Samples for a list of indices, using each part's ``__getitems__`` when it has one."""
        if isinstance(self.datasets, dict):
            keys = list(self.datasets)
            columns = [self._column(self.datasets[k], indices) for k in keys]
            return [dict(zip(keys, row)) for row in zip(*columns)]
        columns = [self._column(d, indices) for d in self.datasets]
        return [tuple(row) for row in zip(*columns)]

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """Map-style datasets joined end to end.

    Args:
        datasets (iterable): the datasets, in order (none of them iterable-style).

    Attributes:
        cumulative_sizes (list of int): running totals of the datasets' lengths.
    """

    @staticmethod
    def cumsum(sequence):
        """Running totals of ``len(d)`` over ``sequence``."""
        out, total = [], 0
        for d in sequence:
            total += len(d)
            out.append(total)
        return out

    def __init__(self, datasets):
        super().__init__()
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]

    @property
    def cummulative_sizes(self):
        """Deprecated spelling of :attr:`cumulative_sizes`."""
        warnings.warn("`cummulative_sizes` attribute is renamed to `cumulative_sizes`",
                      FutureWarning, stacklevel=2)
        return self.cumulative_sizes


class ChainDataset(IterableDataset):
    """Iterable datasets read one after another, lazily.

    Args:
        datasets (iterable of IterableDataset): the streams, in order.
    """

    def __init__(self, datasets):
        super().__init__()
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset (Dataset): the whole dataset.
        indices (sequence of int): positions in ``dataset`` making up the subset.

    A subclass that overrides ``__getitem__`` must override ``__getitems__`` too
    (``DataLoader`` calls the latter), otherwise construction raises
    NotImplementedError, as in PyTorch.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__. "
                "When subclassing Subset and overriding __getitem__, you must also override "
                "__getitems__ to ensure DataLoader works correctly with your custom logic. "
                "A simple implementation:\n\n"
                "def __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        """Samples for a list of positions in the subset (one call to the parent's ``__getitems__`` if any)."""
        parent = getattr(self.dataset, "__getitems__", None)
        if callable(parent):
            return parent([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into non-overlapping :class:`Subset` s.

    Args:
        dataset (Dataset): the dataset to split.
        lengths (sequence): the sizes of the parts, or fractions summing to 1.
            With fractions each part gets ``floor(frac * len(dataset))`` and the
            remainder is handed out one by one, round robin from the first part.
        generator (Generator, optional): source of the permutation; the global
            generator when omitted, so ``ember.manual_seed`` makes it repeatable.

    Returns:
        list of Subset

    Raises:
        ValueError: if a fraction is outside [0, 1] or the lengths do not add up
            to ``len(dataset)``.
    """
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        n = len(dataset)
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
        for i, size in enumerate(lengths):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              f"This might result in an empty dataset.", stacklevel=2)
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _ember.randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, perm[end - size:end])
            for end, size in zip(itertools.accumulate(lengths), lengths)]
