"""Process groups: the default group made by :func:`init_process_group`, sub-groups from :func:`new_group`, and
the queries on them (rank, size, backend)."""
import datetime
import enum
import os

from . import _mpi
from .rendezvous import join_mpi, rendezvous

__all__ = ["Backend", "ReduceOp", "ProcessGroup", "GroupMember", "group", "init_process_group",
           "destroy_process_group", "is_initialized", "is_mpi_available", "is_gloo_available", "is_nccl_available",
           "is_ucc_available", "is_xccl_available", "is_backend_available", "is_torchelastic_launched", "get_rank",
           "get_world_size", "get_backend", "new_group", "get_process_group_ranks", "get_group_rank",
           "get_global_rank", "get_node_local_rank", "default_pg_timeout"]

default_pg_timeout = datetime.timedelta(minutes=30)

_NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."


class Backend(str):
    """A backend name: ``'gloo'`` and ``'mpi'`` both run on ember's MPI engine (mpi4py + MPICH); ``'nccl'``
    needs CUDA, which ember does not have.  ``Backend('GLOO') == 'gloo'``."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        return super().__new__(cls, name.lower())


class ReduceOp:
    """Reduction operations for :func:`all_reduce` and friends (``ReduceOp.SUM``, ``.AVG``, ...)."""

    class RedOpType(enum.IntEnum):
        """The reduction kinds."""
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8

        def __repr__(self):
            return f"<RedOpType.{self.name}: {self.value}>"

        def __str__(self):
            return f"RedOpType.{self.name}"

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


class ProcessGroup:
    """A set of processes that communicate together, over one MPI communicator.

    Args:
        comm: the mpi4py intra-communicator (ranks ordered as in ``ranks``).
        ranks (list of int): the global rank of each member, in group-rank order.
        backend (str): the name the program asked for.
        timeout (timedelta): how long an operation may wait for peers before failing.
    """

    def __init__(self, comm, ranks, backend, timeout):
        self.comm = comm
        self.ranks = list(ranks)
        self._backend = Backend(backend)
        self.timeout = timeout
        self.group_name = ""

    def rank(self):
        """This process's rank within the group."""
        return self.comm.Get_rank()

    def size(self):
        """The number of processes in the group."""
        return len(self.ranks)

    def name(self):
        """The backend's name."""
        return self._backend

    def __repr__(self):
        return f"ProcessGroup(backend={self._backend!r}, rank={self.rank()}, size={self.size()})"


class GroupMember:
    """``WORLD`` (the default group, None until initialized) and ``NON_GROUP_MEMBER`` (what :func:`new_group`
    returns on processes outside the new group)."""

    WORLD = None
    NON_GROUP_MEMBER = -100


class _GroupNamespace:
    @property
    def WORLD(self):
        return GroupMember.WORLD


group = _GroupNamespace()


class _State:
    store = None
    generation = 0


def is_initialized():
    """True once :func:`init_process_group` has run (and :func:`destroy_process_group` has not)."""
    return GroupMember.WORLD is not None


def is_mpi_available():
    """True: ember's engine is MPI (when mpi4py is installed)."""
    return _mpi.available()


def is_gloo_available():
    """True: ``'gloo'`` is served by the MPI engine."""
    return _mpi.available()


def is_nccl_available():
    """False: ember has no CUDA devices."""
    return False


def is_ucc_available():
    """False."""
    return False


def is_xccl_available():
    """False."""
    return False


def is_backend_available(backend):
    """Whether ``backend`` can be used here."""
    return Backend(backend) in (Backend.GLOO, Backend.MPI) and _mpi.available()


def is_torchelastic_launched():
    """True inside a process started by the launcher (``python -m ember.distributed.run`` / ``emberrun``)."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def _default():
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INIT)
    return GroupMember.WORLD


def _resolve(group):
    """The ProcessGroup for a ``group`` argument (None -> default)."""
    return _default() if group is None else group


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Create the default process group: rendezvous, then join every process into one MPI communicator.

    Args:
        backend (str, optional): ``'gloo'`` (default) or ``'mpi'``, both on MPI; ``'nccl'`` raises (no CUDA).
        init_method (str, optional): ``'env://'`` (default: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT),
            ``'tcp://host:port'`` or ``'file:///path'``.  Not with ``store``.
        timeout (timedelta, optional): how long operations wait for peers before raising. Default 30 min.
        world_size (int), rank (int): required with ``tcp://``, ``file://`` and ``store``.
        store (Store, optional): an existing store to rendezvous through.
        group_name (str): ignored name.
    """
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None and init_method is not None:
        raise AssertionError("Cannot specify both init_method and store.")
    name = Backend(backend or "gloo")
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in")
    if name not in (Backend.GLOO, Backend.MPI):
        raise AssertionError(f"Unknown backend type {backend}")
    if not _mpi.available():
        raise RuntimeError("ember.distributed needs mpi4py and MPICH: pip install 'ember[distributed]'")
    timeout = timeout or default_pg_timeout
    if store is None:
        store, rank, world_size = rendezvous(init_method or "env://", rank, world_size, timeout)
    elif rank < 0 or world_size <= 0:
        raise ValueError("world_size and rank must be specified when store is given")
    if world_size <= 0 or not 0 <= rank < world_size:
        raise ValueError(f"Invalid rank {rank} for world size {world_size}")
    # restarted workers (launcher --max-restarts) meet the same store: keep each attempt's keys apart
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    comm = join_mpi(store, rank, world_size, timeout.total_seconds(), f"{attempt}.{_State.generation}")
    _State.generation += 1
    _State.store = store
    pg = ProcessGroup(comm, range(world_size), name, timeout)
    pg.group_name = group_name or "0"
    GroupMember.WORLD = pg


def destroy_process_group(group=None):
    """Destroy ``group`` (default: the default group, after which :func:`init_process_group` may run again)."""
    pg = _resolve(group)
    if pg is GroupMember.WORLD:
        GroupMember.WORLD = None
        _State.store = None
    pg.comm.Free()


def get_rank(group=None):
    """This process's rank in ``group`` (default: the default group); -1 if it is not a member."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _resolve(group).rank()


def get_world_size(group=None):
    """The number of processes in ``group``; -1 if this process is not a member."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _resolve(group).size()


def get_backend(group=None):
    """The backend name of ``group``: ``'gloo'`` or ``'mpi'`` as requested (both run on the MPI engine)."""
    if group is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("Invalid process group specified")
    return _resolve(group).name()


def get_process_group_ranks(group):
    """The global ranks of ``group``'s members, in group-rank order."""
    return list(_resolve(group).ranks)


def get_group_rank(group, global_rank):
    """The rank in ``group`` of the process whose global rank is ``global_rank``."""
    pg = _resolve(group)
    if global_rank not in pg.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg.ranks.index(global_rank)


def get_global_rank(group, group_rank):
    """The global rank of the member ``group_rank`` of ``group``."""
    pg = _resolve(group)
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg.ranks[group_rank]


def get_node_local_rank(fallback_rank=None):
    """LOCAL_RANK from the environment (set by the launcher), else ``fallback_rank``."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
                       "and want the code to run locally instead.")


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A group of the processes ``ranks`` (global ranks; default all).  Every process of the default group must
    call it, members or not; non-members get ``GroupMember.NON_GROUP_MEMBER``.

    Args:
        ranks (list of int, optional): members, ordered by global rank.
        timeout (timedelta, optional): the group's timeout (default the default group's).
        backend (str, optional): its backend name (default the default group's).
    """
    world = _default()
    ranks = sorted(range(world.size()) if ranks is None else ranks)
    for r in ranks:
        if not 0 <= r < world.size():
            raise ValueError(f"Invalid rank {r}, rank should be in the interval [0, {world.size() - 1}]")
    mine = world.rank() in ranks
    comm = world.comm.Split(0 if mine else _mpi.mpi().UNDEFINED, world.rank())
    if not mine:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(comm, ranks, backend or world.name(), timeout or world.timeout)
