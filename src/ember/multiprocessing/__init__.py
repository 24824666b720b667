"""``ember.multiprocessing``: Python's :mod:`multiprocessing`, plus PyTorch's additions.

Everything in :mod:`multiprocessing` is available under the same names (so
``import ember.multiprocessing as mp`` replaces ``import multiprocessing as
mp``), together with ``torch.multiprocessing``'s extras: the sharing-strategy
functions, :func:`spawn` / :func:`start_processes` with :class:`ProcessContext`
and its exceptions.  Importing it registers a reducer so that tensors whose
memory was moved to shared memory (:func:`share_memory_`) travel between
processes as a handle to the same memory instead of as a copy.
"""
import multiprocessing
import sys

from multiprocessing import *  # noqa: F401,F403

from .reductions import init_reductions, share_memory_, is_shared  # noqa: F401
from .spawn import (  # noqa: F401
    ENV_VAR_PARALLEL_START,
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]
__all__ += multiprocessing.__all__

if sys.platform in ("darwin", "win32"):
    _sharing_strategy = "file_system"
    _all_sharing_strategies = {"file_system"}
else:
    _sharing_strategy = "file_descriptor"
    _all_sharing_strategies = {"file_descriptor", "file_system"}


def set_sharing_strategy(new_strategy):
    """Choose how CPU tensors are shared between processes.

    Args:
        new_strategy (str): one of :func:`get_all_sharing_strategies`.  ember
            always passes anonymous-memory file descriptors; the choice is
            recorded for compatibility.
    """
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, "
                             f"expected one of {_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy():
    """The current strategy for sharing CPU tensors."""
    return _sharing_strategy


def get_all_sharing_strategies():
    """The set of sharing strategies this system supports."""
    return _all_sharing_strategies


def _set_thread_name(name):
    """Name the calling thread (shown by ``top -H``); best effort, Linux only."""
    import threading
    threading.current_thread().name = name


init_reductions()
