"""A spin barrier for compiled code running on several threads at once that must meet many times (a
recurrence's steps): ``barrier(sync, target)`` adds one to the int64 counter ``sync[0]`` and waits until it reaches
``target``; with ``nch`` threads the ``k``-th meeting (from 1, the counter starting at 0) waits for
``k * nch``.  A parallel region per meeting would cost far more: 4-5 us with the pool's threads waiting awake,
a wake-up of 50 us and more with sleeping ones (``OMP_WAIT_POLICY=PASSIVE``), against 0.08 us per meeting here.

The wait spins a while, then yields the core (``sched_yield``) between checks, so a thread whose partner was
descheduled (or has not started yet) lets it run.  A caller must run its ``nch`` chunks on ``nch`` threads at
once, or a chunk would wait for one that runs after it.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._numba import jit

_SPINS = 4000   # about 10-20 us of checks before yielding


@intrinsic
def _fetch_add(typingctx, counter, value):
    """Atomically ``counter[0] += value`` (sequentially consistent), giving the old value."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None
    sig = types.int64(counter, value)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        v = context.cast(builder, args[1], signature.args[1], types.int64)
        return builder.atomic_rmw("add", ary.data, v, "seq_cst")
    return sig, codegen


@intrinsic
def _load_acquire(typingctx, counter):
    """``counter[0]``, read atomically with acquire ordering (another thread's writes before its add are seen)."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None
    sig = types.int64(counter)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.load_atomic(ary.data, "acquire", 8)
    return sig, codegen


@intrinsic
def _sched_yield(typingctx):
    """The C library's ``sched_yield()`` (a symbol the JIT links, so the compiled code caches)."""
    sig = types.int32()

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        return builder.call(fn, [])
    return sig, codegen


@jit
def barrier(sync, target):
    """Arrive at the barrier ``sync`` and wait until ``sync[0]`` reaches ``target`` (see the module docstring)."""
    _fetch_add(sync, 1)
    spins = 0
    while _load_acquire(sync) < target:
        spins += 1
        if spins > _SPINS:
            _sched_yield()
