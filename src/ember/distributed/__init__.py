"""``ember.distributed``: PyTorch's ``torch.distributed`` on MPI (mpi4py over MPICH, ``pip install ember[distributed]``).

Processes rendezvous through ``env://`` (as the launcher ``python -m ember.distributed.run`` sets it up),
``tcp://`` or ``file://``, then form one MPI communicator (MPI's own connect/accept when they were started
independently).  Tensors cross as their NumPy arrays; the backend names ``'gloo'`` and ``'mpi'`` both run on
MPI.  Every wait is bounded by the group's ``timeout``: a peer that died makes the others raise, never hang.
"""
from . import _mpi
from .process_group import *  # noqa: F401,F403
from .process_group import __all__ as _pg_all
from .collectives import *  # noqa: F401,F403
from .collectives import __all__ as _coll_all
from .object_collectives import *  # noqa: F401,F403
from .object_collectives import __all__ as _obj_all
from .store import *  # noqa: F401,F403
from .store import __all__ as _store_all

DistBackendError = _mpi.DistTimeoutError

__all__ = ["is_available", "DistBackendError"] + _pg_all + _coll_all + _obj_all + _store_all


def is_available():
    """True when the MPI engine (mpi4py with MPICH) is installed."""
    return _mpi.available()
