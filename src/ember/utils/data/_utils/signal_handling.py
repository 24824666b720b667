"""Signals around DataLoader workers.

ember does not need a SIGCHLD handler to notice a dead worker: the main process
waits on each worker's exit sentinel together with its channel, so a worker
killed by any signal is reported at once (see ``dataloader``).  What remains is
worker-side: a worker ignores SIGINT, because Ctrl-C in a terminal reaches the
whole process group and it is the main process's job to stop the workers.
"""
import signal
import threading

__all__ = []


def _set_worker_signal_handlers(*args):
    """Install a worker's signal dispositions (SIGINT ignored; others default)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # SIGTERM keeps its default action: the main process uses it as a last resort.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _set_SIGCHLD_handler():
    """Kept for API parity with PyTorch; ember detects dead workers without SIGCHLD."""


def _set_worker_pids(loader_id, pids):
    """Kept for API parity with PyTorch (no-op)."""


def _remove_worker_pids(loader_id):
    """Kept for API parity with PyTorch (no-op)."""


def _error_if_any_worker_fails():
    """Kept for API parity with PyTorch (no-op: errors are raised by the iterator)."""
