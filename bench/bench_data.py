"""DataLoader benchmarks: one epoch over 60,000 28x28 NumPy-backed images, ember vs torch.

``cases()`` returns ``(name, ember_fn, torch_fn)`` tuples for the bench runner;
each function iterates one full epoch (creating its loader, and so its workers,
like a training loop without persistent workers does).  Run this file directly
for a quick standalone table: ``python bench/bench_data.py``.
"""
import time

import numpy as np

N, H, W = 60_000, 28, 28
BATCH = 128

_images = None
_labels = None


def _data():
    global _images, _labels
    if _images is None:
        rng = np.random.default_rng(0)
        _images = rng.random((N, H, W), dtype=np.float32)
        _labels = rng.integers(0, 10, N)
    return _images, _labels


def _array_dataset_class(base):
    """A map-style dataset over NumPy arrays returning ``(image array, int label)``."""

    class ArrayDataset(base):
        def __init__(self, images, labels):
            self.images = images
            self.labels = labels

        def __len__(self):
            return len(self.images)

        def __getitem__(self, i):
            return self.images[i], int(self.labels[i])

    return ArrayDataset


_classes = {}


def _dataset(lib):
    key = lib.__name__
    if key not in _classes:
        _classes[key] = _array_dataset_class(lib.utils.data.Dataset)
    images, labels = _data()
    return _classes[key](images, labels)


def _tensor_dataset(lib):
    images, labels = _data()
    return lib.utils.data.TensorDataset(lib.from_numpy(images), lib.from_numpy(labels))


def _epoch(lib, make_dataset, workers):
    def run():
        lib.manual_seed(0)
        loader = lib.utils.data.DataLoader(make_dataset(lib), batch_size=BATCH, shuffle=True,
                                           num_workers=workers)
        n = 0
        for x, y in loader:
            n += len(y)
        assert n == N, n
    return run


def cases():
    """``[(name, ember_fn, torch_fn), ...]``: one epoch each, 0 and 2 workers."""
    import ember
    import ember.utils.data  # noqa: F401
    import torch
    import torch.utils.data  # noqa: F401
    _data()
    out = []
    for workers in (0, 2):
        out.append((f"data: numpy 60k 28x28 bs128 workers={workers}",
                    _epoch(ember, _dataset, workers), _epoch(torch, _dataset, workers)))
    for workers in (0, 2):
        out.append((f"data: TensorDataset 60k 28x28 bs128 workers={workers}",
                    _epoch(ember, _tensor_dataset, workers), _epoch(torch, _tensor_dataset, workers)))
    return out


def _best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


if __name__ == "__main__":
    import sys
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for name, e_fn, t_fn in cases():
        e_fn(), t_fn()  # warm up
        te, tt = _best_of(e_fn, repeat), _best_of(t_fn, repeat)
        print(f"{name:55s} ember {te * 1e3:8.1f} ms   torch {tt * 1e3:8.1f} ms   torch/ember {tt / te:5.2f}x")
