"""Thread settings: set_num_threads / get_num_threads act on NumPy's BLAS pool (through threadpoolctl)."""
import os

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads"]

_interop = [1]


def _controller():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


def set_num_threads(num):
    """Use ``num`` threads in BLAS (matrix products); ``num`` must be positive."""
    if not isinstance(num, int) or num <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer")
    _controller().limit(limits=num, user_api="blas")


def get_num_threads():
    """The number of threads BLAS uses."""
    info = [p["num_threads"] for p in _controller().info() if p.get("user_api") == "blas"]
    return max(info) if info else os.cpu_count() or 1


def set_num_interop_threads(num):
    """Recorded for compatibility; ember runs ops on one Python thread."""
    if num <= 0:
        raise RuntimeError("Expected num_threads to be positive")
    _interop[0] = num


def get_num_interop_threads():
    return _interop[0]
