"""How processes find each other: an ``init_method`` gives a store, a rank and a world size; the store then
carries one MPI port name so that the processes join into one MPI communicator.

Processes started by ``mpiexec`` already share ``MPI_COMM_WORLD``.  Otherwise each process (or each
``mpiexec`` job) is its own MPI world, and the worlds are joined with MPI's dynamic-process calls: the world
holding rank 0 opens a port and accepts, the others connect; each new member is merged in and helps accept
the rest; a final split orders the ranks.
"""
import os
import time
import urllib.parse

from . import _mpi
from .store import FileStore, PrefixStore, TCPStore

__all__ = ["rendezvous", "join_mpi"]


def _env(name, prefix):
    value = os.environ.get(name)
    if value is None:
        raise ValueError(f"Error initializing torch.distributed using {prefix} rendezvous: environment variable "
                         f"{name} expected, but not set")
    return value


def _from_mpiexec():
    """(rank, world_size) when this process was started by an MPI process manager with other ranks."""
    if "PMI_RANK" in os.environ and int(os.environ.get("PMI_SIZE", "1")) > 1:
        return int(os.environ["PMI_RANK"]), int(os.environ["PMI_SIZE"])
    return None


def rendezvous(init_method, rank, world_size, timeout):
    """Resolve ``init_method`` into ``(store, rank, world_size)``.

    Args:
        init_method (str): ``env://``, ``tcp://host:port`` or ``file:///path`` (query ``?rank=&world_size=``
            may supply the numbers).
        rank (int): this process's rank, -1 for "from the init method".
        world_size (int): the number of processes, -1 for "from the init method".
        timeout (timedelta): store timeout.

    Returns:
        tuple: ``(store or None, rank, world_size)``; the store is None under ``mpiexec`` without RANK set.
    """
    url = urllib.parse.urlparse(init_method)
    query = dict(urllib.parse.parse_qsl(url.query))
    rank = int(query.get("rank", rank))
    world_size = int(query.get("world_size", world_size))
    if url.scheme == "env":
        if rank < 0 and "RANK" not in os.environ and _from_mpiexec():
            rank, world_size = _from_mpiexec()
            return None, rank, world_size
        if rank < 0:
            rank = int(_env("RANK", "env://"))
        if world_size < 0:
            world_size = int(_env("WORLD_SIZE", "env://"))
        host = _env("MASTER_ADDR", "env://")
        port = int(_env("MASTER_PORT", "env://"))
        agent_store = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == str(True)
        store = TCPStore(host, port, world_size, is_master=(rank == 0 and not agent_store), timeout=timeout,
                         wait_for_workers=False)
        return store, rank, world_size
    if rank < 0 or world_size < 0:
        raise ValueError(f"Error initializing torch.distributed using {url.scheme}:// rendezvous: "
                         f"{'rank' if rank < 0 else 'world size'} parameter missing")
    if url.scheme == "tcp":
        store = TCPStore(url.hostname, url.port, world_size, is_master=(rank == 0), timeout=timeout,
                         wait_for_workers=False)
    elif url.scheme == "file":
        store = FileStore(urllib.parse.unquote(url.path), world_size)
        store.set_timeout(timeout)
    else:
        raise RuntimeError(f"No rendezvous handler for {url.scheme}://")
    return store, rank, world_size


def _store_barrier(store, key, world_size, deadline):
    store.add(key, 1)
    while int(store.get(key)) < world_size:
        if time.monotonic() > deadline:
            raise _mpi.DistTimeoutError(f"Timed out initializing the process group: only {int(store.get(key))} of "
                                        f"{world_size} processes arrived")
        time.sleep(0.005)


def join_mpi(store, rank, world_size, timeout_s, generation):
    """One MPI intra-communicator over all ``world_size`` processes, ordered by ``rank``.

    Args:
        store (Store or None): rendezvous store (None: ``MPI_COMM_WORLD`` is already the whole group).
        rank (int), world_size (int): this process's rank and the group size.
        timeout_s (float): seconds to wait for every process to arrive.
        generation (int): counts this process's ``init_process_group`` calls, keeping each one's keys apart.
    """
    MPI = _mpi.mpi()
    world = MPI.COMM_WORLD
    if world.Get_size() == world_size:
        return world.Split(0, rank)
    store = PrefixStore(f"ember_mpi/{generation}", store)
    _store_barrier(store, "arrived", world_size, time.monotonic() + timeout_s)
    comm = world.Dup()
    has_root = comm.allreduce(rank == 0, op=MPI.LOR)
    port = None
    if has_root:
        if comm.Get_rank() == 0:
            port = MPI.Open_port()
            store.set("port", port)
    else:
        if comm.Get_rank() == 0:
            port = store.get("port").decode()
        comm = _merge(comm, comm.Connect(port, root=0), high=True)
    while comm.Get_size() < world_size:
        comm = _merge(comm, comm.Accept(port, root=0), high=False)
    if port is not None and has_root:
        MPI.Close_port(port)
    ordered = comm.Split(0, rank)
    comm.Free()
    return ordered


def _merge(intra, inter, high):
    merged = inter.Merge(high)
    inter.Free()
    intra.Free()
    return merged
