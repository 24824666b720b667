"""``DistributedSampler``: each of ``num_replicas`` processes reads its own share of a dataset."""
import math

import ember as _ember

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _default_group_info(what):
    """World size or rank from ``ember.distributed`` when a process group is initialized."""
    try:
        import ember.distributed as dist
    except ImportError:
        raise RuntimeError("Requires distributed package to be available") from None
    is_init = getattr(dist, "is_initialized", None)
    if is_init is None or not is_init():
        raise ValueError("Default process group has not been initialized, "
                         "please make sure to call init_process_group.")
    return dist.get_world_size() if what == "world_size" else dist.get_rank()


class DistributedSampler(Sampler):
    """Restricts loading to the part of a dataset that belongs to one process (rank).

    The indices (shuffled with ``seed + epoch`` when ``shuffle``) are padded by
    repeating from the start, or truncated when ``drop_last``, to a multiple of
    ``num_replicas``; rank ``r`` then takes every ``num_replicas``-th index from
    position ``r``.  All ranks therefore see the same number of samples and,
    together, cover the dataset.

    Args:
        dataset (Dataset): the dataset (only its length is used).
        num_replicas (int, optional): number of processes; default the world size
            of the initialized process group.
        rank (int, optional): this process's rank; default from the process group.
        shuffle (bool): shuffle the indices. Default: True.
        seed (int): shuffling seed, identical on every rank. Default: 0.
        drop_last (bool): drop the tail instead of padding. Default: False.

    Call :meth:`set_epoch` before each epoch to get a new order every epoch.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _default_group_info("world_size")
        if rank is None:
            rank = _default_group_info("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(self.dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = _ember.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = _ember.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[: self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        indices = indices[self.rank: self.total_size: self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not match "
                                 f"num_samples ({self.num_samples})")
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch; with ``shuffle`` it changes the order of the next pass."""
        self.epoch = epoch
