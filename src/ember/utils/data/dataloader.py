"""``DataLoader``: batches from a dataset, in the main process or in worker processes.

Single process (``num_workers=0``): the iterator asks the (batch) sampler for
indices, reads the samples and collates them, all in the calling process.

Worker processes (``num_workers > 0``): each worker is a real process (fork by
default on Linux; spawn and forkserver work as well) with its own copy of the
dataset, seeded like PyTorch's (``base_seed + worker_id`` for ember and
``random``; a SeedSequence of both for NumPy).  The main process sends each
worker ``(epoch, task_id, indices)`` over a private channel, keeping at most
``prefetch_factor`` tasks per worker in flight, and puts answers back in order
(unless ``in_order=False``).  Batches come back through shared memory (see
``_utils.ipc``) without being copied.

Failure handling.  The main process never blocks on a channel alone: it waits on
every worker's channel *and* its exit sentinel at once, so a worker that dies --
killed by a signal, ``os._exit``, a segfault -- is noticed immediately and
reported as a RuntimeError naming the worker's pid and the signal or exit code,
after the remaining workers have been stopped and reaped.  An exception raised
by dataset code inside a worker is re-raised in the main process with the
worker's traceback text.  Workers ignore SIGINT (Ctrl-C reaches the whole
process group; the main process gets KeyboardInterrupt and stops them), exit
when their channel closes (the main process went away) and, on Linux, are
killed by the kernel if the main process dies.  Stopping workers is tied to a
``weakref.finalize`` of the iterator, so it also happens when the iterator is
garbage-collected or the interpreter exits; every worker is joined, so no
zombies stay behind.
"""
import itertools
import math
import os
import select
import signal
import threading
import time
import warnings
import weakref
from typing import Generic, TypeVar

import ember as _ember

from . import _utils
from ._utils import ExceptionWrapper, ipc
from ._utils.collate import default_collate as _default_collate, default_convert as _default_convert
from ._utils.fetch import _IterableDatasetFetcher, _MapDatasetFetcher
from ._utils.worker import _IterableDatasetStopIteration, _ResumeIteration, get_worker_info as _get_worker_info
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

T_co = TypeVar("T_co", covariant=True)

default_collate = _default_collate
default_convert = _default_convert
get_worker_info = _get_worker_info

_SHUTDOWN_GRACE = 1.0  # seconds workers get to exit after their channel closes, before SIGTERM


class _DatasetKind:
    """Whether a dataset is map-style (``Map``) or iterable-style (``Iterable``)."""

    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        """The fetcher that reads batches from ``dataset`` of the given kind."""
        if kind == _DatasetKind.Map:
            return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """Yields ``None`` forever: the "sampler" of an iterable-style dataset."""

    def __iter__(self):
        while True:
            yield None


def _draw_base_seed(generator):
    return int(_ember.empty((), dtype=_ember.int64).random_(generator=generator).item())


def _usable_cpu_count():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader(Generic[T_co]):
    """Iterates over a dataset in batches, optionally shuffled, optionally in worker processes.

    Args:
        dataset (Dataset): map-style (``__getitem__``/``__len__``) or iterable-style dataset.
        batch_size (int, optional): samples per batch (default 1); ``None`` turns
            automatic batching off (then samples are only converted by ``default_convert``).
        shuffle (bool, optional): reshuffle at every epoch (default False).
        sampler (Sampler or Iterable, optional): the order of the indices; excludes ``shuffle``.
        batch_sampler (Sampler or Iterable, optional): yields lists of indices; excludes
            ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers (int, optional): worker processes; 0 loads in the main process (default).
        collate_fn (Callable, optional): merges a list of samples into a batch
            (default :func:`default_collate`).
        pin_memory (bool, optional): put batches in page-locked memory when CUDA is present (fast
            copies to the GPU); without CUDA it only warns, as PyTorch does on a CPU-only machine.
        drop_last (bool, optional): drop the last incomplete batch (default False).
        timeout (numeric, optional): with workers, seconds to wait for a batch before
            raising RuntimeError; 0 (default) waits forever.
        worker_init_fn (Callable, optional): called as ``worker_init_fn(worker_id)`` in each
            worker after seeding, before loading.
        multiprocessing_context (str or context, optional): ``"fork"``, ``"spawn"``,
            ``"forkserver"`` or a multiprocessing context; default the platform's.
        generator (Generator, optional): source of ``RandomSampler``'s order and of the
            workers' base seed.
        prefetch_factor (int, optional, keyword-only): batches in flight per worker
            (default 2 with workers; must be None without).
        persistent_workers (bool, optional, keyword-only): keep the workers (and their
            dataset copies) alive between epochs (default False).
        pin_memory_device (str, optional, keyword-only): deprecated; ignored with a warning.
        in_order (bool, optional, keyword-only): return batches in sampler order
            (default True); False returns whichever batch is ready first.

    ``len(loader)`` is the number of batches: ``len(batch_sampler)`` for map-style
    datasets, and ``len(dataset) / batch_size`` rounded per ``drop_last`` for
    iterable-style ones.
    """

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive "
                                 "with batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching "
                                 "and is mutually exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = _default_collate if self._auto_collation else _default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    @property
    def multiprocessing_context(self):
        """The multiprocessing context workers are started with (None: the default)."""
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context):
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                import multiprocessing as _mp
                from ... import multiprocessing as ember_mp
                if isinstance(multiprocessing_context, str):
                    valid = ember_mp.get_all_start_methods()
                    if multiprocessing_context not in valid:
                        raise ValueError(
                            "multiprocessing_context option "
                            f"should specify a valid start method in {valid!r}, but got "
                            f"multiprocessing_context={multiprocessing_context!r}")
                    multiprocessing_context = ember_mp.get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context, _mp.context.BaseContext):
                    raise TypeError(
                        "multiprocessing_context option should be a valid context "
                        "object or a string specifying the start method, but got "
                        f"multiprocessing_context={multiprocessing_context}")
            else:
                raise ValueError(
                    "multiprocessing_context can only be used with "
                    "multi-process loading (num_workers > 0), but got "
                    f"num_workers={self.num_workers}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val):
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                           "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self):
        """A new iterator over one epoch (persistent workers: the same one, reset)."""
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        """The number of batches in one epoch."""
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        """Warn when ``num_workers`` exceeds the CPUs this process may use."""
        if not self.num_workers:
            return
        suggest = _usable_cpu_count()
        cpuset_checked = hasattr(os, "sched_getaffinity")
        if suggest is None or self.num_workers > suggest:
            if suggest is not None:
                detail = (f"Our suggested max number of worker in current system is {suggest}"
                          f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, "
                          "which is smaller than what this DataLoader is going to create.")
            else:
                detail = "DataLoader is not able to compute a suggested max number of worker in current system."
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. {detail} "
                "Please be aware that excessive worker creation might get DataLoader running slow or even freeze, "
                "lower the worker number to avoid potential slowness/freeze if necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    """State shared by both iterators: sampler iterator, collate function, base seed."""

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._shared_seed = None
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._world_size, self._rank = 1, 0
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as the device,"
                          f"ignore pin_memory_device='{loader.pin_memory_device}'.", stacklevel=3)
        self._pin_memory = bool(loader.pin_memory) and _ember.cuda.is_available()
        if loader.pin_memory and not self._pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._pin_memory_device = None
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _draw_base_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0
        self._profile_name = f"enumerate(DataLoader)#{self.__class__.__name__}.__next__"

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        if self._sampler_iter is None:
            self._reset()
        data = self._next_data()
        if self._pin_memory:
            data = _pin(data)
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                   f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                        "IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", self.__class__.__name__)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Loads every batch in the calling process."""

    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        if self._num_workers != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires num_workers == 0")
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()
        return self._dataset_fetcher.fetch(index)


# ---------------------------------------------------------------------------------------------
# worker processes
# ---------------------------------------------------------------------------------------------

def _describe_exit(proc, worker_id):
    """The RuntimeError text for a worker that exited while it was still needed."""
    code = proc.exitcode
    pid = proc.pid
    if code is not None and code < 0:
        signum = -code
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        desc = signal.strsignal(signum) or name
        return (f"DataLoader worker (pid {pid}) is killed by signal: {desc}. "
                f"[worker {worker_id}, {name}]")
    if code:
        return (f"DataLoader worker (pid {pid}) exited unexpectedly with exit code {code}. "
                "Details are lost due to multiprocessing. "
                "Rerunning with num_workers=0 may give better error trace.")
    return f"DataLoader worker (pid(s) {pid}) exited unexpectedly"


def _stop_workers(owner_pid, workers, channels, grace=_SHUTDOWN_GRACE):
    """Close the channels, then join each worker (SIGTERM, then SIGKILL, if it lingers)."""
    if os.getpid() != owner_pid:  # a forked copy of the iterator: its workers are not ours
        return
    for ch in channels:
        ch.close()
    deadline = time.monotonic() + grace
    for w in workers:
        if w._popen is None:  # never started
            continue
        w.join(max(0.0, deadline - time.monotonic()))
    for w in workers:
        if w._popen is not None and w.exitcode is None:
            w.terminate()
    for w in workers:
        if w._popen is not None and w.exitcode is None:
            w.join(1.0)
            if w.exitcode is None:
                w.kill()
                w.join()
    for w in workers:
        if w._popen is not None:
            try:
                w.close()
            except ValueError:
                pass


class _Poller:
    """Waits on the workers' channels and exit sentinels together."""

    def __init__(self):
        self._poll = select.poll() if hasattr(select, "poll") else None
        self._objs = {}

    def register(self, fd, what):
        """Watch ``fd`` for readability; ``what`` is returned when it is ready."""
        self._objs[fd] = what
        if self._poll is not None:
            self._poll.register(fd, select.POLLIN)

    def unregister(self, fd):
        """Stop watching ``fd`` (no error if it was not watched)."""
        if self._objs.pop(fd, None) is not None and self._poll is not None:
            try:
                self._poll.unregister(fd)
            except (KeyError, ValueError):
                pass

    def wait(self, timeout):
        """``[(kind, worker_id), ...]`` ready within ``timeout`` seconds (None: no limit)."""
        if self._poll is not None:
            ms = None if timeout is None else max(0, int(math.ceil(timeout * 1000)))
            events = self._poll.poll(ms)
            return [self._objs[fd] for fd, _ in events if fd in self._objs]
        from multiprocessing.connection import wait
        ready = wait(list(self._objs), timeout)
        return [self._objs[fd] for fd in ready]


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Loads batches in ``num_workers`` worker processes (see the module docstring)."""

    def __init__(self, loader):
        super().__init__(loader)
        self._shutdown = True  # until the workers exist
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._num_workers <= 0:
            raise AssertionError("num_workers must be greater than 0 for MultiProcessingDataLoaderIter")
        if self._prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter")
        ctx = loader.multiprocessing_context
        if ctx is None:
            from ... import multiprocessing as ctx
        self._worker_init_fn = loader.worker_init_fn
        self._workers = []
        self._channels = []
        self._poller = _Poller()
        self._epoch = 0
        try:
            method = ctx.get_start_method()
        except Exception:
            method = None
        # fork and spawn make this process the workers' parent; forkserver does not
        parent_pid = os.getpid() if method in ("fork", "spawn") else None
        die_with_parent = parent_pid is not None and threading.current_thread() is threading.main_thread()
        self._finalizer = weakref.finalize(self, _stop_workers, os.getpid(), self._workers, self._channels)
        self._shutdown = False
        try:
            for i in range(self._num_workers):
                parent_end, child_end = ipc.channel_pair()
                w = ctx.Process(
                    target=_utils.worker._worker_loop,
                    args=(self._dataset_kind, self._dataset, child_end, self._auto_collation,
                          self._collate_fn, self._drop_last, self._base_seed, self._worker_init_fn,
                          i, self._num_workers, self._persistent_workers, parent_pid, die_with_parent))
                w.daemon = True
                self._workers.append(w)
                self._channels.append(parent_end)
                try:
                    w.start()
                except Exception as e:
                    from pickle import PicklingError
                    if isinstance(e, (TypeError, AttributeError, PicklingError)):
                        warnings.warn(
                            "Got pickle error when attempting to start a worker Process. "
                            "This might be because the worker Process arguments are not picklable. "
                            "The 'spawn' and 'forkserver' start methods require the worker Process "
                            "arguments (dataset, collate_fn, worker_init_fn) to be picklable.", stacklevel=3)
                    raise
                finally:
                    child_end.close()
                self._poller.register(parent_end.fileno(), ("data", i))
                self._poller.register(w.sentinel, ("exit", i))
        except BaseException:
            self._shutdown_workers()
            raise
        self._worker_pids_set = True
        self._reset(loader, first_iter=True)

    # -- epoch bookkeeping -----------------------------------------------------------------

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._epoch += 1
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}          # task id -> worker id, while the answer is outstanding
        self._reorder = {}            # task id -> (batch, worker id), arrived early (in_order)
        self._tasks_outstanding = 0
        self._sampler_done = False
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            resume = _ResumeIteration(self._shared_seed)
            for i in range(self._num_workers):
                self._send(i, resume)
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _send(self, worker_id, message):
        try:
            self._channels[worker_id].send(message)
        except OSError:
            self._raise_if_worker_died(block=0.5)
            raise

    def _try_put_index(self):
        if self._sampler_done:
            return
        max_tasks = self._prefetch_factor * self._num_workers
        if self._tasks_outstanding >= max_tasks:
            return
        active = [i for i in range(self._num_workers) if self._workers_status[i]]
        if not active:
            return
        try:
            index = self._next_index()
        except StopIteration:
            self._sampler_done = True
            return
        if self._in_order:
            for _ in range(self._num_workers):
                worker_id = next(self._worker_queue_idx_cycle)
                if self._workers_status[worker_id]:
                    break
        else:
            counts = self._workers_num_tasks
            worker_id = min(active, key=lambda i: counts[i])
        self._send(worker_id, (self._epoch, self._send_idx, index))
        self._task_info[self._send_idx] = worker_id
        self._workers_num_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _next_data(self):
        while True:
            if self._in_order:
                while self._rcvd_idx < self._send_idx:
                    got = self._reorder.pop(self._rcvd_idx, None)
                    if got is not None:
                        self._rcvd_idx += 1
                        return self._process_data(*got)
                    if self._rcvd_idx in self._task_info:
                        break  # still being worked on
                    self._rcvd_idx += 1  # that task produced no batch (its worker's stream ended)
            if self._tasks_outstanding == 0:
                self._try_put_index()
                if self._tasks_outstanding == 0:
                    if not self._persistent_workers:
                        self._shutdown_workers()
                    raise StopIteration
            epoch, task_id, data = self._get_data()
            if epoch != self._epoch:
                continue  # a leftover answer from an abandoned epoch
            worker_id = self._task_info.pop(task_id)
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._workers_num_tasks[worker_id] -= 1
                self._workers_status[worker_id] = False
                continue
            if self._in_order and task_id != self._rcvd_idx:
                self._reorder[task_id] = (data, worker_id)
                continue
            if self._in_order:
                self._rcvd_idx += 1
            return self._process_data(data, worker_id)

    def _process_data(self, data, worker_id):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    # -- receiving, and noticing dead workers ---------------------------------------------------

    def _get_data(self):
        """The next ``(epoch, task_id, batch)`` from any worker."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            ready = self._poller.wait(remaining)
            if not ready:
                continue
            for kind, worker_id in ready:
                if kind == "exit":
                    self._worker_died(worker_id)
            for kind, worker_id in ready:
                try:
                    return self._channels[worker_id].recv()
                except ipc.ChannelClosed:
                    self._worker_died(worker_id, wait=1.0)

    def _raise_if_worker_died(self, block=0.0):
        deadline = time.monotonic() + block
        while True:
            for i, w in enumerate(self._workers):
                if w.exitcode is not None:
                    self._worker_died(i)
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)

    def _worker_died(self, worker_id, wait=0.0):
        w = self._workers[worker_id]
        w.join(wait)
        if w.exitcode is None:  # the channel closed but the process is still there
            w.terminate()
            w.join(1.0)
        message = _describe_exit(w, worker_id)
        self._shutdown_workers()
        raise RuntimeError(message)

    # -- shutting down --------------------------------------------------------------------------

    def _shutdown_workers(self):
        """Stop and reap every worker (idempotent)."""
        if getattr(self, "_shutdown", True):
            return
        self._shutdown = True
        self._worker_pids_set = False
        for ch in self._channels:
            if not ch.closed:
                self._poller.unregister(ch.fileno())
        self._finalizer()

    def __del__(self):
        self._shutdown_workers()


def _pin(data):
    """``data`` (a batch: tensors inside tuples, lists, dicts and namedtuples) with every CPU tensor in
    page-locked memory, or the batch's own ``pin_memory()`` when it has one (PyTorch's pin_memory thread)."""
    if isinstance(data, _ember.Tensor):
        return data.pin_memory() if data.is_cpu else data
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, dict):
        return type(data)({k: _pin(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_pin(v) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(_pin(v) for v in data)
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    return data
