"""Fetchers: given indices from the sampler, read samples from the dataset and collate them.

The same fetchers run in the main process (``num_workers=0``) and in workers.
"""

__all__ = []


class _BaseDatasetFetcher:
    """Common state of the fetchers: the dataset, whether to batch, the collate function."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        """The (collated) data for one index or one list of indices."""
        raise NotImplementedError


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    """Pulls the next ``len(index)`` samples (or one sample) from ``iter(dataset)``.

    Raises StopIteration once the dataset's iterator is exhausted (and, with
    ``drop_last``, when the final batch would be incomplete).
    """

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        """The next batch (or sample) of the stream; StopIteration at its end."""
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            it = self.dataset_iter
            for _ in possibly_batched_index:
                try:
                    data.append(next(it))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _MapDatasetFetcher(_BaseDatasetFetcher):
    """Reads ``dataset[i]`` for each index (or ``dataset.__getitems__(indices)``) and collates.

    A plain ``TensorDataset`` collated by ``default_collate`` is gathered with one
    indexing operation per tensor instead of one per sample (same result).
    """

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        from ..dataset import TensorDataset
        from .collate import default_collate
        self._gather = (auto_collation and collate_fn is default_collate
                        and type(dataset) is TensorDataset and _gatherable(dataset.tensors))

    def fetch(self, possibly_batched_index):
        """The samples at the given indices, collated (or one sample, converted)."""
        dataset = self.dataset
        if self._gather:
            batch = _gather_rows(dataset.tensors, possibly_batched_index)
            if batch is not None:
                return batch
        if self.auto_collation:
            getitems = getattr(dataset, "__getitems__", None)
            if getitems:
                data = getitems(possibly_batched_index)
            else:
                data = [dataset[idx] for idx in possibly_batched_index]
        else:
            data = dataset[possibly_batched_index]
        return self.collate_fn(data)


def _gatherable(tensors):
    import numpy as np
    import ember
    return all(type(t) is ember.Tensor and type(getattr(t, "_data", None)) is np.ndarray
               and not t.requires_grad for t in tensors)


def _gather_rows(tensors, index):
    """``[t[index] for t in tensors]`` for a list of in-range ints, else None (use the slow path)."""
    import numpy as np
    import ember
    for i in index:
        if type(i) is not int:
            return None
    idx = np.array(index, dtype=np.intp)
    n = tensors[0]._data.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        return None  # let per-sample indexing raise its usual IndexError
    return [ember.from_numpy(t._data[idx]) for t in tensors]
