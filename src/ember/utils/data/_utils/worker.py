"""The loop a DataLoader worker process runs, and ``get_worker_info``.

A worker receives ``(epoch, task_id, indices)`` messages on its channel,
fetches and collates that batch and answers ``(epoch, task_id, batch)``.  The
answer is an :class:`ExceptionWrapper` when the dataset raised, and a
:class:`_IterableDatasetStopIteration` when an iterable dataset has run out.
``_ResumeIteration`` starts a new epoch (persistent workers); ``None`` or the
channel closing ends the worker.
"""
import os
import random
import signal
import sys
from dataclasses import dataclass

import numpy as np

from . import ExceptionWrapper, MP_STATUS_CHECK_INTERVAL
from . import ipc, signal_handling

__all__ = ["WorkerInfo", "get_worker_info"]


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What a DataLoader worker knows about itself (see :func:`get_worker_info`).

    Attributes:
        id (int): this worker's id, ``0 .. num_workers - 1``.
        num_workers (int): how many workers the loader has.
        seed (int): the seed this worker's ember, ``random`` and NumPy generators got.
        dataset: this worker's own copy of the dataset.
        rng: always ``None`` for process workers.
        worker_method (str): ``"multiprocessing"``.
    """

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info = None


def get_worker_info():
    """Return a :class:`WorkerInfo` inside a DataLoader worker process, ``None`` elsewhere.

    Typical use is in an ``IterableDataset.__iter__`` (or a ``worker_init_fn``)
    to give each worker its own share of a stream::

        info = get_worker_info()
        if info is not None:
            start = info.id * per_worker
    """
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's answer meaning: my copy of the iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of an epoch: restart the fetcher."""

    seed: object = None


class ManagerWatchdog:
    """Tells a worker whether the process that started it is still alive."""

    def __init__(self, parent_pid=None):
        self.manager_pid = os.getppid() if parent_pid is None else parent_pid
        self.manager_dead = False

    def is_alive(self):
        """False once the parent process has gone (this worker was re-parented)."""
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


def _generate_state(base_seed, worker_id):
    """The NumPy seed of a worker: 4 uint32 words hashed from (worker_id, base_seed).

    This is NumPy's own ``SeedSequence`` over ``[worker_id, low 32 bits,
    high 32 bits, 0]``, which is what PyTorch feeds ``np.random.seed`` in its
    workers, so the legacy NumPy stream of worker ``i`` matches PyTorch's for
    the same base seed.
    """
    entropy = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return [int(x) for x in np.random.SeedSequence(entropy).generate_state(4)]


def _seed_worker(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    import ember
    ember.manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


def _die_with_parent(parent_pid):
    """Ask Linux to SIGKILL this worker if its parent dies (best effort)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except Exception:
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_loop(dataset_kind, dataset, channel, auto_collation, collate_fn, drop_last,
                 base_seed, init_fn, worker_id, num_workers, persistent_workers,
                 parent_pid=None, die_with_parent=False):
    """Body of a DataLoader worker process (see the module docstring for the protocol)."""
    global _worker_info
    try:
        ipc.close_inherited_parent_ends()
        signal_handling._set_worker_signal_handlers()
        if die_with_parent and parent_pid is not None:
            _die_with_parent(parent_pid)
        import ember
        set_threads = getattr(ember, "set_num_threads", None)
        if set_threads is not None:
            try:
                set_threads(1)
            except Exception:
                pass
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)

        from ..dataloader import _DatasetKind

        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        iteration_end = False
        watchdog = ManagerWatchdog(parent_pid)
        is_iterable = dataset_kind == _DatasetKind.Iterable
        stop = _IterableDatasetStopIteration(worker_id)
        while True:
            try:
                r = channel.recv(timeout=MP_STATUS_CHECK_INTERVAL)
            except TimeoutError:
                if not watchdog.is_alive():
                    break
                continue
            except (ipc.ChannelClosed, OSError):
                break
            if r is None:
                break
            if isinstance(r, _ResumeIteration):
                iteration_end = False
                try:
                    fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
                except Exception:
                    init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                continue
            epoch, task_id, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            elif iteration_end:
                data = stop
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if is_iterable:
                        data = stop
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            if not _send(channel, (epoch, task_id, data), worker_id):
                break
            del data, index, r
    except KeyboardInterrupt:
        pass
    finally:
        channel.close()


def _send(channel, message, worker_id):
    """Send one answer; returns False when the main process is gone."""
    try:
        channel.send(message, slab=True)
        return True
    except (BrokenPipeError, ConnectionResetError, ipc.ChannelClosed):
        return False
    except OSError:
        return False
    except Exception:
        # the batch (or the exception type) could not be pickled: report that instead
        epoch, task_id, _ = message
        err = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        try:
            channel.send((epoch, task_id, err), slab=True)
        except Exception:
            err.exc_type = RuntimeError
            try:
                channel.send((epoch, task_id, err), slab=True)
            except Exception:
                return False
        return True
