"""Helpers behind ``DataLoader``: collation, fetching, worker processes and their IPC.

The worker loop lives in a module of its own (``worker``) so that it can be the
target of a spawned process.
"""
import atexit
import sys
import traceback

IS_WINDOWS = sys.platform == "win32"

MP_STATUS_CHECK_INTERVAL = 5.0
"""Seconds between checks, in a waiting worker, that the main process is still alive."""

python_exit_status = False
"""True once the interpreter has begun shutting down (set by an atexit hook)."""


def _set_python_exit_flag():
    global python_exit_status
    python_exit_status = True


atexit.register(_set_python_exit_flag)


class KeyErrorMessage(str):
    """A message string whose ``repr`` is itself, so a re-raised KeyError prints readably."""

    __slots__ = ()

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception captured in one process or thread, to be raised again in another.

    Only the exception type and the formatted traceback text travel (tracebacks
    themselves cannot be pickled).  ``reraise()`` raises the same type with a
    message ``Caught <Type> <where>.\\nOriginal Traceback (most recent call last): ...``.

    Args:
        exc_info (tuple, optional): ``sys.exc_info()`` of the exception; the one
            being handled if omitted.
        where (str): where it happened, e.g. ``"in DataLoader worker process 0"``.
    """

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the wrapped exception (type preserved when it can be rebuilt from a message)."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


from . import collate, fetch, signal_handling, worker  # noqa: E402,F401
