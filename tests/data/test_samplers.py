"""Samplers against torch: lengths, index sets, batching, argument errors, laziness, seeding."""
import itertools
from collections import Counter

import numpy as np
import pytest
import torch
import torch.utils.data as T

import ember
import ember.utils.data as E


def errors_match(make_e, make_t, exc=Exception):
    with pytest.raises(exc) as te:
        make_t()
    with pytest.raises(type(te.value)) as ee:
        make_e()
    assert str(ee.value) == str(te.value)


def test_sequential():
    assert list(E.SequentialSampler(range(7))) == list(T.SequentialSampler(range(7)))
    assert len(E.SequentialSampler(range(7))) == 7


@pytest.mark.parametrize("n,num_samples,replacement", [(10, None, False), (10, 25, False), (10, 7, False),
                                                       (10, 25, True), (5, 100, True), (7, None, True)])
def test_random_sampler_counts(n, num_samples, replacement):
    e = E.RandomSampler(range(n), replacement=replacement, num_samples=num_samples)
    t = T.RandomSampler(range(n), replacement=replacement, num_samples=num_samples)
    out = list(e)
    assert len(e) == len(t) == len(out) == len(list(t))
    assert all(0 <= i < n and type(i) is int for i in out)
    if not replacement:
        # whole permutations, then a partial one
        full, rest = divmod(len(out), n)
        for k in range(full):
            assert sorted(out[k * n:(k + 1) * n]) == list(range(n))
        assert len(set(out[full * n:])) == rest


def test_random_sampler_is_lazy_for_huge_num_samples():
    s = E.RandomSampler(range(50), replacement=True, num_samples=10 ** 10)
    assert len(s) == 10 ** 10
    head = list(itertools.islice(iter(s), 100))
    assert len(head) == 100 and max(head) < 50
    s2 = E.RandomSampler(range(50), replacement=False, num_samples=10 ** 10)
    head = list(itertools.islice(iter(s2), 50))
    assert sorted(head) == list(range(50))


def test_random_sampler_seeding():
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    assert list(E.RandomSampler(range(30), generator=g1)) == list(E.RandomSampler(range(30), generator=g2))
    ember.manual_seed(5)
    a = list(E.RandomSampler(range(30)))
    b = list(E.RandomSampler(range(30)))
    ember.manual_seed(5)
    assert list(E.RandomSampler(range(30))) == a
    assert a != b  # each pass draws a new order from the global generator


@pytest.mark.parametrize("kwargs", [dict(replacement=1), dict(num_samples=0), dict(num_samples=-3),
                                    dict(num_samples=2.5)])
def test_random_sampler_errors(kwargs):
    errors_match(lambda: E.RandomSampler(range(4), **kwargs), lambda: T.RandomSampler(range(4), **kwargs))


def test_subset_random_sampler():
    idx = [3, 7, 11, 20]
    e = E.SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0))
    assert len(e) == 4 and sorted(e) == idx
    assert len(T.SubsetRandomSampler(idx)) == 4


def test_weighted_random_sampler():
    w = [0.0, 1.0, 0.0, 3.0]
    e = E.WeightedRandomSampler(w, 4000, generator=ember.Generator().manual_seed(1))
    out = list(e)
    assert len(e) == len(out) == 4000
    c = Counter(out)
    assert set(c) == {1, 3}
    assert 0.2 < c[1] / 4000 < 0.3
    no_rep = list(E.WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False))
    assert sorted(no_rep) == [0, 1, 2, 3, 4]
    assert str(E.WeightedRandomSampler(w, 3).weights.dtype) == str(T.WeightedRandomSampler(w, 3).weights.dtype)


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], True), ([1.0, 2.0], 3, 1),
                                  ([[1.0, 2.0]], 2)])
def test_weighted_random_sampler_errors(args):
    errors_match(lambda: E.WeightedRandomSampler(*args), lambda: T.WeightedRandomSampler(*args))


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True),
                                       (0, 4, False)])
def test_batch_sampler_matches_torch(n, bs, drop):
    e = E.BatchSampler(E.SequentialSampler(range(n)), bs, drop)
    t = T.BatchSampler(T.SequentialSampler(range(n)), bs, drop)
    assert list(e) == list(t)
    assert len(e) == len(t)


@pytest.mark.parametrize("args", [(0, False), (-1, False), (2.0, False), (True, False), (2, 1), (2, None)])
def test_batch_sampler_errors(args):
    errors_match(lambda: E.BatchSampler(range(5), *args), lambda: T.BatchSampler(range(5), *args))


@pytest.mark.parametrize("n,replicas,drop", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, False),
                                             (11, 4, True), (1, 3, False)])
def test_distributed_sampler_matches_torch_unshuffled(n, replicas, drop):
    for rank in range(replicas):
        e = E.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        t = T.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        assert list(e) == list(t)
        assert len(e) == len(t) and e.total_size == t.total_size


def test_distributed_sampler_shuffled_partitions_and_epochs():
    n, replicas = 23, 4
    samplers = [E.DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=7) for r in range(replicas)]
    parts = [list(s) for s in samplers]
    assert all(len(p) == 6 for p in parts)
    covered = [i for p in parts for i in p]
    assert set(covered) == set(range(n))  # all covered; 1 index padded twice
    assert len(covered) == 24
    again = [list(s) for s in samplers]
    assert again == parts  # same epoch, same order
    for s in samplers:
        s.set_epoch(1)
    assert [list(s) for s in samplers] != parts


def test_distributed_sampler_errors():
    errors_match(lambda: E.DistributedSampler(range(4), num_replicas=2, rank=2),
                 lambda: T.DistributedSampler(range(4), num_replicas=2, rank=2))
    errors_match(lambda: E.DistributedSampler(range(4), num_replicas=2, rank=-1),
                 lambda: T.DistributedSampler(range(4), num_replicas=2, rank=-1))
    with pytest.raises((ValueError, RuntimeError)):
        E.DistributedSampler(range(4))  # no process group


def test_sampler_base_class():
    class Evens(E.Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2

    assert list(E.BatchSampler(Evens(9), 2, False)) == [[0, 2], [4, 6], [8]]
    with pytest.raises(NotImplementedError):
        iter(E.Sampler())


def test_samplers_feed_dataloader_order():
    data = np.arange(12)
    loader = E.DataLoader(data, batch_size=4, sampler=E.SubsetRandomSampler([1, 5, 9, 11]))
    (only,) = list(loader)
    assert sorted(only.tolist()) == [1, 5, 9, 11]
