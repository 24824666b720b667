"""Collectives on picklable Python objects: each object is pickled to bytes, the sizes are exchanged first, then
the bytes (all over MPI, bounded by the group's timeout)."""
import io
import pickle
import time

import numpy as np

from . import _mpi
from .collectives import _group_rank, _member

__all__ = ["broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list"]


def _dumps(obj):
    buf = io.BytesIO()
    pickle.Pickler(buf).dump(obj)
    return np.frombuffer(buf.getvalue(), np.uint8)


def _loads(arr):
    return pickle.loads(arr.tobytes())


def _wait(pg, request, what):
    _mpi.wait_all([request], time.monotonic() + pg.timeout.total_seconds(), what)


def _allgather_bytes(pg, data):
    """Every process's byte array, in rank order."""
    sizes = np.empty(pg.size(), np.int64)
    _wait(pg, pg.comm.Iallgather(np.array([data.size], np.int64), sizes), "all_gather_object")
    block = np.empty(int(sizes.sum()), np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    _wait(pg, pg.comm.Iallgatherv(data, [block, (sizes.tolist(), offsets.tolist())]), "all_gather_object")
    return [block[o:o + s] for o, s in zip(offsets, sizes)]


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace the items of ``object_list`` on every process by those of process ``src`` (in place).

    Args:
        object_list (list): the objects (on ``src``) or a list of the same length to fill (elsewhere).
        src (int, optional): the sender's global rank (or ``group_src``).
    """
    pg = _member(group)
    if pg is None:
        return
    root = _group_rank(pg, src, group_src, "root", "broadcast")
    data = _dumps(list(object_list)) if pg.rank() == root else None
    size = np.array([data.size if data is not None else 0], np.int64)
    _wait(pg, pg.comm.Ibcast(size, root=root), "broadcast_object_list")
    if data is None:
        data = np.empty(int(size[0]), np.uint8)
    _wait(pg, pg.comm.Ibcast(data, root=root), "broadcast_object_list")
    if pg.rank() != root:
        object_list[:] = _loads(data)[:len(object_list)]


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list`` (length world size) with every process's ``obj``, in rank order."""
    pg = _member(group)
    if pg is None:
        return
    for i, data in enumerate(_allgather_bytes(pg, _dumps(obj))):
        object_list[i] = _loads(data)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Every process's ``obj`` into ``object_gather_list`` on process ``dst`` (others pass None)."""
    pg = _member(group)
    if pg is None:
        return
    root = _group_rank(pg, dst, group_dst, "root", "gather")
    data = _dumps(obj)
    sizes = np.empty(pg.size(), np.int64)
    _wait(pg, pg.comm.Igather(np.array([data.size], np.int64), sizes, root=root), "gather_object")
    if pg.rank() != root:
        _wait(pg, pg.comm.Igatherv(data, None, root=root), "gather_object")
        return
    block = np.empty(int(sizes.sum()), np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    _wait(pg, pg.comm.Igatherv(data, [block, (sizes.tolist(), offsets.tolist())], root=root), "gather_object")
    for i, (o, s) in enumerate(zip(offsets, sizes)):
        object_gather_list[i] = _loads(block[o:o + s])


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    """Process ``src`` sends ``scatter_object_input_list[i]`` to process ``i``, which finds it in
    ``scatter_object_output_list[0]``."""
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    pg = _member(group)
    if pg is None:
        return
    root = _group_rank(pg, src, group_src, "root", "scatter")
    sizes = np.zeros(pg.size(), np.int64)
    block = None
    if pg.rank() == root:
        pieces = [_dumps(o) for o in scatter_object_input_list]
        sizes = np.array([p.size for p in pieces], np.int64)
        block = np.concatenate(pieces)
    size = np.empty(1, np.int64)
    _wait(pg, pg.comm.Iscatter(sizes, size, root=root), "scatter_object_list")
    out = np.empty(int(size[0]), np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    send = [block, (sizes.tolist(), offsets.tolist())] if block is not None else None
    _wait(pg, pg.comm.Iscatterv(send, out, root=root), "scatter_object_list")
    scatter_object_output_list[0] = _loads(out)
