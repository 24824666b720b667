"""``record``: the decorator torchrun programs put on ``main``.

It passes calls through; when the function raises inside a launched process, the traceback is also written
to ``TORCHELASTIC_ERROR_FILE`` (set by the launcher) so the launcher can report which rank failed and why.
"""
import functools
import json
import os
import time
import traceback

__all__ = ["record", "ChildFailedError", "ErrorHandler", "get_error_handler"]


class ChildFailedError(Exception):
    """A launched process failed.

    Args:
        name (str): what was launched.
        failures (dict): global rank -> description of the failure.
    """

    def __init__(self, name, failures):
        self.name = name
        self.failures = failures
        lines = [f"[{rank}]: {what}" for rank, what in sorted(failures.items())]
        super().__init__(f"{name} FAILED\nFailures:\n" + "\n".join(lines))


class ErrorHandler:
    """Writes an exception to ``TORCHELASTIC_ERROR_FILE`` as JSON."""

    def initialize(self):
        """Nothing to set up."""

    def record_exception(self, e):
        """Write ``e`` with its traceback to the error file, if the launcher gave one."""
        path = os.environ.get("TORCHELASTIC_ERROR_FILE")
        if not path:
            return
        data = {"message": {"message": f"{type(e).__name__}: {e}",
                            "extraInfo": {"py_callstack": traceback.format_exc(), "timestamp": str(int(time.time()))}}}
        with open(path, "w") as fh:
            json.dump(data, fh)


def get_error_handler():
    """The :class:`ErrorHandler`."""
    return ErrorHandler()


def record(fn=None, error_handler=None):
    """Decorate ``fn`` so that an exception it raises is recorded for the launcher, then re-raised.

    Usable as ``@record`` or ``@record(error_handler=...)``.
    """
    def wrap(f):
        handler = error_handler or get_error_handler()

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            handler.initialize()
            try:
                return f(*args, **kwargs)
            except SystemExit as se:
                if se.code == 0:
                    return None
                raise
            except Exception as e:
                handler.record_exception(e)
                raise
        return wrapper
    return wrap(fn) if fn is not None else wrap
