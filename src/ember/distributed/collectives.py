"""Tensor collectives and point-to-point operations on a process group, all on MPI's non-blocking calls.

A tensor crosses into MPI as its NumPy array (``tensor.detach().numpy()`` shares the memory); results are
written back into that array, so the tensor sees them.  Reductions of float16/bfloat16 run in float32;
everything else that only moves data travels as raw bytes.  Each call returns a :class:`Work` (or waits on it
when ``async_op`` is false) whose wait is bounded by the group's timeout.
"""
import time

import numpy as np

from . import _mpi
from .process_group import GroupMember, ReduceOp, _resolve

__all__ = ["Work", "P2POp", "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
           "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "all_to_all", "all_to_all_single",
           "send", "recv", "isend", "irecv", "batch_isend_irecv", "barrier", "monitored_barrier"]


class _Future:
    """The future of a :class:`Work`: ``wait()`` / ``value()`` give its output tensors."""

    def __init__(self, work):
        self._work = work

    def wait(self):
        """Wait for the operation; returns its output tensors."""
        self._work.wait()
        return self._work.result()

    value = wait

    def done(self):
        """True once the operation has completed."""
        return self._work.is_completed()


class Work:
    """A started operation: :meth:`wait` completes it (raising on timeout), :meth:`result` gives its outputs.

    Args:
        pg (ProcessGroup): the group it runs on.
        requests (list): MPI requests to complete.
        finish (callable, optional): runs once after completion (copies results into tensors).
        outputs (list): the output tensors.
        what (str): the operation's name, for errors.
    """

    def __init__(self, pg, requests, finish=None, outputs=(), what="operation", status=None):
        self._pg = pg
        self._requests = requests
        self._finish = finish
        self._outputs = list(outputs)
        self._what = what
        self._deadline = time.monotonic() + pg.timeout.total_seconds()
        self._done = False
        self._error = None
        self._status = status

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()
        self._requests = []

    def wait(self, timeout=None):
        """Block until the operation completes; raises if a peer did not take part within the timeout.

        Args:
            timeout (timedelta, optional): overrides the group's timeout for this wait.
        Returns:
            bool: True.
        """
        if self._error is not None:
            raise self._error
        if not self._done:
            deadline = self._deadline if timeout is None else time.monotonic() + timeout.total_seconds()
            try:
                _mpi.wait_all(self._requests, deadline, self._what, self._status)
            except RuntimeError as exc:
                self._error = exc
                raise
            self._complete()
        return True

    def is_completed(self):
        """True when the operation has finished (polls MPI without blocking)."""
        if not self._done and self._error is None:
            finished = self._requests[0].Test(self._status) if self._status is not None \
                else _mpi.mpi().Request.Testall(self._requests)
            if finished:
                self._complete()
        return self._done

    def is_success(self):
        """True when it finished without error."""
        return self.is_completed() and self._error is None

    def exception(self):
        """The error it failed with, or None."""
        return self._error

    def result(self):
        """The output tensors."""
        return self._outputs

    def source_rank(self):
        """For a receive from any source: the sender's rank."""
        self.wait()
        return self._status.Get_source() if self._status is not None else -1

    def synchronize(self):
        """Same as :meth:`wait` on the CPU."""
        self.wait()

    def get_future(self):
        """A future completed with :meth:`result` when the operation finishes."""
        return _Future(self)


def _check_tensor(t, name="tensor"):
    from ember import Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
                        f"             but got {type(t)} instead.")


def _check_list(ts, name):
    if not isinstance(ts, list) or not all(_is_tensor(t) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n"
                        f"             but got {type(ts)} instead.")


def _is_tensor(t):
    from ember import Tensor
    return isinstance(t, Tensor)


def _array(t):
    """The NumPy array behind ``t`` (shares memory)."""
    return t.detach().numpy()


class _Buffer:
    """A contiguous buffer for MPI over a tensor's array; :meth:`back` writes it into the array when it is a copy.

    Args:
        arr (ndarray): the tensor's array.
        reduce (bool): the buffer will be reduced: float16/bfloat16 become float32.
    """

    def __init__(self, arr, reduce=False):
        self.arr = arr
        dtype = _mpi.reducible(arr.dtype) if reduce else arr.dtype
        if arr.flags.c_contiguous and dtype == arr.dtype:
            self.data = arr
        else:
            self.data = np.ascontiguousarray(arr, dtype=dtype)
        self.copied = self.data is not arr

    def raw(self):
        """The buffer as something MPI moves (bytes for dtypes MPI cannot name)."""
        return self.data.reshape(-1) if self.data.dtype in _mpi._NATIVE and self.data.dtype != np.float16 \
            else self.data.reshape(-1).view(np.uint8)

    def bytes(self):
        """The buffer as a flat byte array."""
        return self.data.reshape(-1).view(np.uint8)

    def back(self):
        """Copy the buffer into the tensor's array if they differ."""
        if self.copied:
            self.arr[...] = self.data.astype(self.arr.dtype, copy=False)


_BOOL_OPS = {ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.BOR: "LOR", ReduceOp.PRODUCT: "LAND",
             ReduceOp.MIN: "LAND", ReduceOp.BAND: "LAND", ReduceOp.BXOR: "LXOR", ReduceOp.AVG: "LOR"}
_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD", ReduceOp.MIN: "MIN",
        ReduceOp.MAX: "MAX", ReduceOp.BAND: "BAND", ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR"}


def _mpi_op(op, dtype):
    table = _BOOL_OPS if dtype == np.bool_ else _OPS
    if op not in table:
        raise ValueError(f"op {op!r} is not supported by ember's MPI backend")
    return getattr(_mpi.mpi(), table[op])


def _average(buf, op, n):
    if op == ReduceOp.AVG and buf.data.dtype != np.bool_:
        if buf.data.dtype.kind in "fc":
            buf.data /= n
        else:
            buf.data //= n


def _start(pg, what, requests, finish, outputs, async_op):
    work = Work(pg, requests, finish, outputs, what)
    if async_op:
        return work
    work.wait()
    return None


def _member(group):
    """The ProcessGroup, or None when this process is not in ``group`` (the call is then a no-op)."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    return _resolve(group)


def _group_rank(pg, global_rank, group_rank, kind, op):
    """A peer's rank inside ``pg`` from either its global rank or its group rank."""
    if global_rank is None and group_rank is None:
        raise ValueError("Must specify global_rank or group_rank")
    if global_rank is not None and group_rank is not None:
        raise ValueError("Can't specify both group_rank and global_rank")
    if group_rank is None and pg is GroupMember.WORLD:
        group_rank = global_rank            # global ranks are the default group's ranks
    elif group_rank is None:
        if global_rank not in pg.ranks:
            raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
        group_rank = pg.ranks.index(global_rank)
    if not 0 <= group_rank < pg.size():
        raise RuntimeError(f"ProcessGroupGloo::{op}: invalid {kind} rank: {group_rank}")
    return group_rank


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group with ``op``; every process gets the result in ``tensor``.

    Args:
        tensor (Tensor): input and output.
        op (ReduceOp): SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR or BXOR.
        group (ProcessGroup, optional): default the default group.
        async_op (bool): return a :class:`Work` instead of waiting.
    """
    _check_tensor(tensor)
    pg = _member(group)
    if pg is None:
        return None
    buf = _Buffer(_array(tensor), reduce=True)
    req = pg.comm.Iallreduce(_mpi.mpi().IN_PLACE, buf.raw(), op=_mpi_op(op, buf.data.dtype))

    def finish():
        _average(buf, op, pg.size())
        buf.back()
    return _start(pg, "all_reduce", [req], finish, [tensor], async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` across the group into the process ``dst`` (a global rank; or ``group_dst``)."""
    _check_tensor(tensor)
    pg = _member(group)
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst, "root", "reduce")
    MPI = _mpi.mpi()
    buf = _Buffer(_array(tensor), reduce=True)
    mop = _mpi_op(op, buf.data.dtype)
    if pg.rank() == root:
        req = pg.comm.Ireduce(MPI.IN_PLACE, buf.raw(), op=mop, root=root)
    else:
        req = pg.comm.Ireduce(buf.raw(), None, op=mop, root=root)

    def finish():
        if pg.rank() == root:
            _average(buf, op, pg.size())
            buf.back()
    return _start(pg, "reduce", [req], finish, [tensor], async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` from process ``src`` (global rank; or ``group_src``) into ``tensor`` on every process."""
    _check_tensor(tensor)
    pg = _member(group)
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, "root", "broadcast")
    buf = _Buffer(_array(tensor))
    req = pg.comm.Ibcast(buf.bytes(), root=root)
    return _start(pg, "broadcast", [req], buf.back, [tensor], async_op)


def _check_sizes(outs, tensor, what):
    for i, t in enumerate(outs):
        if tuple(t.shape) != tuple(tensor.shape) or t.dtype != tensor.dtype:
            shape = ", ".join(map(str, tensor.shape))
            got = ", ".join(map(str, t.shape))
            raise RuntimeError(f"ProcessGroupGloo::{what}: invalid tensor size at index {i} "
                               f"(expected ({shape}), got ({got}))")


def _check_count(outs, n, what):
    if len(outs) != n:
        raise RuntimeError(f"ProcessGroupGloo::{what}: invalid output tensor list at index 0 "
                           f"(expected length {n}, got {len(outs)})")


def _gather_finish(block, outs):
    """Split a gathered byte block into ``outs`` (one equal chunk each)."""
    def finish():
        chunks = block.reshape(len(outs), -1)
        for chunk, t in zip(chunks, outs):
            arr = _array(t)
            arr[...] = chunk.view(arr.dtype).reshape(arr.shape)
    return finish


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every process's ``tensor`` into ``tensor_list`` (one tensor per rank, same shape) on every process."""
    _check_list(tensor_list, "tensor_list")
    _check_tensor(tensor)
    pg = _member(group)
    if pg is None:
        return None
    _check_count(tensor_list, pg.size(), "allgather")
    _check_sizes(tensor_list, tensor, "allgather")
    src = _Buffer(_array(tensor)).bytes()
    block = np.empty(src.size * pg.size(), np.uint8)
    req = pg.comm.Iallgather(src, block)
    return _start(pg, "all_gather", [req], _gather_finish(block, tensor_list), [tensor_list], async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every process's ``input_tensor`` concatenated (or stacked) along dim 0 into ``output_tensor``."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    pg = _member(group)
    if pg is None:
        return None
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise ValueError("Output tensor size must be equal to world_size times input tensor size")
    out = _Buffer(_array(output_tensor))
    req = pg.comm.Iallgather(_Buffer(_array(input_tensor)).bytes(), out.bytes())
    return _start(pg, "all_gather_into_tensor", [req], out.back, [output_tensor], async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[i]`` across processes; process ``i`` gets the result in ``output``."""
    _check_tensor(output, "output")
    _check_list(input_list, "input_list")
    pg = _member(group)
    if pg is None:
        return None
    if len(input_list) != pg.size():
        raise ValueError(f"Expected a list of {pg.size()} tensors, got {len(input_list)}")
    out = _Buffer(_array(output), reduce=True)
    send = np.concatenate([np.ascontiguousarray(_array(t), dtype=out.data.dtype).reshape(-1) for t in input_list])
    return _reduce_scatter(pg, send, out, op, output, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` (``world_size`` chunks along dim 0) across processes; process ``i`` gets chunk ``i``."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = _member(group)
    if pg is None:
        return None
    if input.numel() != output.numel() * pg.size():
        raise ValueError("Input tensor size must be equal to world_size times output tensor size")
    out = _Buffer(_array(output), reduce=True)
    send = np.ascontiguousarray(_array(input), dtype=out.data.dtype).reshape(-1)
    return _reduce_scatter(pg, send, out, op, output, async_op)


def _reduce_scatter(pg, send, out, op, output, async_op):
    raw = out.raw()
    send = send if raw.dtype == send.dtype else send.view(np.uint8)
    req = pg.comm.Ireduce_scatter_block(send, raw, op=_mpi_op(op, out.data.dtype))

    def finish():
        _average(out, op, pg.size())
        out.back()
    return _start(pg, "reduce_scatter", [req], finish, [output], async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Every process's ``tensor`` into ``gather_list`` on process ``dst`` (others pass None)."""
    _check_tensor(tensor)
    pg = _member(group)
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst, "root", "gather")
    src = _Buffer(_array(tensor)).bytes()
    if pg.rank() == root:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_list(gather_list, "gather_list")
        _check_count(gather_list, pg.size(), "gather")
        _check_sizes(gather_list, tensor, "gather")
        block = np.empty(src.size * pg.size(), np.uint8)
        req = pg.comm.Igather(src, block, root=root)
        return _start(pg, "gather", [req], _gather_finish(block, gather_list), [gather_list], async_op)
    if gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    return _start(pg, "gather", [pg.comm.Igather(src, None, root=root)], None, [], async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Process ``src`` sends ``scatter_list[i]`` to process ``i``, which receives it in ``tensor``."""
    _check_tensor(tensor)
    pg = _member(group)
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, "root", "scatter")
    out = _Buffer(_array(tensor))
    if pg.rank() == root:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_list(scatter_list, "scatter_list")
        _check_count(scatter_list, pg.size(), "scatter")
        _check_sizes(scatter_list, tensor, "scatter")
        block = np.concatenate([_Buffer(_array(t)).bytes() for t in scatter_list])
    else:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        block = None
    req = pg.comm.Iscatter(block, out.bytes(), root=root)
    return _start(pg, "scatter", [req], out.back, [tensor], async_op)


def _alltoallv(pg, send, send_counts, recv, recv_counts):
    MPI = _mpi.mpi()
    sd = np.concatenate([[0], np.cumsum(send_counts)[:-1]]).astype(int)
    rd = np.concatenate([[0], np.cumsum(recv_counts)[:-1]]).astype(int)
    return pg.comm.Ialltoallv([send, (list(send_counts), list(sd)), MPI.BYTE],
                              [recv, (list(recv_counts), list(rd)), MPI.BYTE])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Process ``j`` receives ``input_tensor_list[j]`` of every process ``i`` into ``output_tensor_list[i]``."""
    _check_list(output_tensor_list, "output_tensor_list")
    _check_list(input_tensor_list, "input_tensor_list")
    pg = _member(group)
    if pg is None:
        return None
    n = pg.size()
    if len(input_tensor_list) != n or len(output_tensor_list) != n:
        raise ValueError(f"all_to_all needs {n} input and {n} output tensors")
    sends = [_Buffer(_array(t)).bytes() for t in input_tensor_list]
    send = np.concatenate(sends)
    recv_counts = [_array(t).nbytes for t in output_tensor_list]
    recv = np.empty(sum(recv_counts), np.uint8)
    req = _alltoallv(pg, send, [s.size for s in sends], recv, recv_counts)

    def finish():
        pos = 0
        for t, c in zip(output_tensor_list, recv_counts):
            arr = _array(t)
            arr[...] = recv[pos:pos + c].view(arr.dtype).reshape(arr.shape)
            pos += c
    return _start(pg, "all_to_all", [req], finish, output_tensor_list, async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op=False):
    """Split ``input`` along dim 0 (equally, or by ``input_split_sizes``), send piece ``j`` to process ``j``, and
    concatenate what arrives into ``output`` (split by ``output_split_sizes``)."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = _member(group)
    if pg is None:
        return None
    n = pg.size()
    out = _Buffer(_array(output))
    inp = _Buffer(_array(input)).bytes()
    in_row = inp.size // max(1, input.shape[0]) if input.dim() else inp.size
    out_row = out.bytes().size // max(1, output.shape[0]) if output.dim() else out.bytes().size
    in_counts = [s * in_row for s in input_split_sizes] if input_split_sizes else [inp.size // n] * n
    out_counts = [s * out_row for s in output_split_sizes] if output_split_sizes else [out.bytes().size // n] * n
    req = _alltoallv(pg, inp, in_counts, out.bytes(), out_counts)
    return _start(pg, "all_to_all_single", [req], out.back, [output], async_op)


class _AnySourceRecv:
    """A receive from whichever process sends first, as a request with ``Test(status)``.

    MPICH (4.3) can miss messages for a receive posted with ``MPI_ANY_SOURCE`` on a communicator joined from
    separately started processes, while matched probes see them; so this probes until a message is there, then
    receives exactly that message.
    """

    def __init__(self, comm, buf, tag):
        self.comm, self.buf, self.tag = comm, buf, tag
        self.request = None

    def Test(self, status=None):
        """True once the message has arrived (``status`` gets its source)."""
        if self.request is None:
            message = self.comm.Improbe(_mpi.mpi().ANY_SOURCE, self.tag, status)
            if message is None:
                return False
            self.request = message.Irecv(self.buf)
        return self.request.Test(status)


def _p2p_peer(pg, peer, group_peer, kind):
    return _group_rank(pg, peer, group_peer, kind, "send" if kind == "destination" else "recv")


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to process ``dst`` (global rank; or ``group_dst``); returns a :class:`Work`."""
    _check_tensor(tensor)
    pg = _member(group)
    if pg is None:
        return None
    peer = _p2p_peer(pg, dst, group_dst, "destination")
    if peer == pg.rank():
        raise ValueError("Invalid destination rank: destination rank should not be the same as the rank of the "
                         "current process.")
    data = _Buffer(_array(tensor)).bytes()
    return Work(pg, [pg.comm.Isend(data, dest=peer, tag=tag)], None, [tensor], "send")


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from process ``src`` (any process if None); returns a :class:`Work`."""
    _check_tensor(tensor)
    pg = _member(group)
    if pg is None:
        return None
    MPI = _mpi.mpi()
    buf = _Buffer(_array(tensor))
    if src is None and group_src is None:
        request = _AnySourceRecv(pg.comm, buf.bytes(), tag)
    else:
        peer = _p2p_peer(pg, src, group_src, "source")
        if peer == pg.rank():
            raise ValueError("Invalid source rank: source rank should not be the same as the rank of the "
                             "current process.")
        request = pg.comm.Irecv(buf.bytes(), source=peer, tag=tag)
    return Work(pg, [request], buf.back, [tensor], "recv", MPI.Status())


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to process ``dst`` and wait until it has been taken."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from ``src`` (any process if None); returns the sender's global rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    pg = _member(group)
    return pg.ranks[work.source_rank()]


class P2POp:
    """One send or receive for :func:`batch_isend_irecv`.

    Args:
        op (callable): :func:`isend` or :func:`irecv`.
        tensor (Tensor): the data or the receive buffer.
        peer (int, optional): the other process's global rank (or ``group_peer``).
        group (ProcessGroup, optional), tag (int).
    """

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or "
                             "``torch.distributed.irecv``.")
        _check_tensor(tensor)
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = op, tensor, peer, group, tag, group_peer


def batch_isend_irecv(p2p_op_list):
    """Start every operation of ``p2p_op_list``; returns their :class:`Work` objects."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``torch.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every process of the group has reached the barrier (within ``timeout`` or the group's)."""
    pg = _member(group)
    if pg is None:
        return None
    work = Work(pg, [pg.comm.Ibarrier()], None, [], "barrier")
    if timeout is not None:
        work._deadline = time.monotonic() + timeout.total_seconds()
    if async_op:
        return work
    work.wait()
    return None


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier that raises if some process does not arrive within ``timeout``."""
    barrier(group, timeout=timeout)
