"""DistributedDataParallel: one model replica per process, gradients averaged across processes during backward.

Gradients are gathered into flat buckets (about ``bucket_cap_mb`` each, parameters in reverse registration order,
which is roughly the order backward produces them).  A post-accumulate-grad hook on every parameter copies its
gradient into its bucket; a full bucket starts an asynchronous all-reduce at once, so communication overlaps
the rest of backward.  Buckets start strictly in index order on every rank (MPI collectives must match), and
the last hook waits for all of them and writes the averages back into ``.grad``.
"""
import contextlib

import numpy as np

from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_UNFINISHED = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
               "indicates that your module has parameters that were not used in producing loss. You can enable "
               "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
               "`torch.nn.parallel.DistributedDataParallel`, and by \nmaking sure all `forward` function outputs "
               "participate in calculating loss.")


class _Bucket:
    """Parameters whose gradients travel in one flat array."""

    def __init__(self, params, dtype):
        self.params = params
        self.offsets = np.cumsum([0] + [p.numel() for p in params])
        self.flat = np.zeros(int(self.offsets[-1]), dtype)
        self.pending = len(params)
        self.work = None

    def slot(self, i):
        """The flat-array slice of the bucket's ``i``-th parameter."""
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


def _tensors_in(obj):
    """The tensors in a (nested) forward output."""
    from ember import Tensor
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_in(o)


def _reachable_leaves(outputs):
    """ids of the leaf tensors that the autograd graph of ``outputs`` reaches."""
    seen, leaves = set(), set()
    stack = [t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        stack.extend(fn for fn, _ in node.next_functions)
    return leaves


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model, run the usual training loop in every process.

    At construction rank 0's parameters and buffers are copied to every process; during each backward the
    gradients are averaged across processes, so every replica takes the same optimizer step.

    Args:
        module (Module): the model.
        device_ids, output_device, dim: accepted for compatibility (CPU only).
        broadcast_buffers (bool): copy rank 0's buffers to all processes at every forward. Default True.
        init_sync (bool): broadcast parameters and buffers at construction. Default True.
        process_group (ProcessGroup, optional): default the default group.
        bucket_cap_mb (float, optional): bucket size in MiB. Default 25.
        find_unused_parameters (bool): after each forward, find the parameters the output does not depend on
            and count them as reduced (needed when some branch is skipped).
        gradient_as_bucket_view, static_graph: accepted; the reduction is the same.

    Attributes:
        module (Module): the wrapped model (state_dict keys get the ``module.`` prefix).
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        import ember.distributed as dist
        self.module = module
        self.process_group = process_group if process_group is not None else dist.group.WORLD
        if self.process_group is None:
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if init_sync:
            self._broadcast_coalesced(list(module.parameters()) + list(module.buffers()))
        self._buckets, self._where = self._make_buckets(params)
        self._hooks = [p.register_post_accumulate_grad_hook(self._make_hook(i)) for i, p in enumerate(params)]
        self._params = params
        self._reset()

    # ---------------------------------------------------------------- setup
    def _make_buckets(self, params):
        """Buckets over ``params`` in reverse order, one dtype each; and param index -> (bucket, slot)."""
        buckets, where, current, size = [], {}, [], 0
        order = list(reversed(range(len(params))))

        def close():
            if current:
                buckets.append(_Bucket([params[i] for i in current], params[current[0]]._data.dtype))
                for slot, i in enumerate(current):
                    where[i] = (len(buckets) - 1, slot)

        for i in order:
            p = params[i]
            nbytes = p.numel() * p.element_size()
            # the first bucket is small (1 MiB, as PyTorch's) so that communication starts early in backward
            cap = min(self.bucket_bytes_cap, 1024 * 1024) if not buckets else self.bucket_bytes_cap
            if current and (size + nbytes > cap or p.dtype != params[current[0]].dtype):
                close()
                current, size = [], 0
            current.append(i)
            size += nbytes
        close()
        return buckets, where

    def _broadcast_coalesced(self, tensors):
        """Copy rank 0's values of ``tensors`` to every process, one broadcast per dtype."""
        import ember
        import ember.distributed as dist
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        for group in by_dtype.values():
            arrays = [t.detach().numpy() for t in group]
            flat = np.concatenate([a.reshape(-1) for a in arrays])
            dist.broadcast(ember.from_numpy(flat), src=dist.get_global_rank(self.process_group, 0),
                           group=self.process_group)
            pos = 0
            for a in arrays:
                a[...] = flat[pos:pos + a.size].reshape(a.shape)
                pos += a.size

    # ---------------------------------------------------------------- reduction state
    def _reset(self):
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None
            b.flat[...] = 0
        self._next = 0
        self._ready = set()
        self._used = None
        self._active = False

    def _make_hook(self, index):
        def hook(param):
            if self.require_backward_grad_sync and self._active:
                self._mark_ready(index, param.grad)
        return hook

    def _mark_ready(self, index, grad):
        if index in self._ready:
            return
        self._ready.add(index)
        b, slot = self._where[index]
        bucket = self._buckets[b]
        if grad is not None:
            bucket.slot(slot)[...] = grad.detach().numpy().reshape(-1)
        bucket.pending -= 1
        self._launch_ready_buckets()
        if len(self._ready) == len(self._params):
            self._finish()

    def _launch_ready_buckets(self):
        import ember
        import ember.distributed as dist
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            bucket = self._buckets[self._next]
            bucket.work = dist.all_reduce(ember.from_numpy(bucket.flat), group=self.process_group, async_op=True)
            self._next += 1
        for bucket in self._buckets[:self._next]:
            bucket.work.is_completed()  # drives MPI progress on the reductions in flight

    def _finish(self):
        """Wait for every bucket and write the averaged gradients into ``.grad``."""
        import ember
        world = self.process_group.size()
        used = None
        if self._used is not None:
            self._used[1].wait()
            used = self._used[0]
        for bucket in self._buckets:
            bucket.work.wait()
            bucket.flat /= world
        for index, p in enumerate(self._params):
            if used is not None and used[index] == 0:
                continue
            b, slot = self._where[index]
            value = self._buckets[b].slot(slot).reshape(p.shape)
            if p.grad is None:
                p.grad = ember.from_numpy(value.copy())
            else:
                p.grad.detach().numpy()[...] = value
        self._active = False

    # ---------------------------------------------------------------- forward
    def forward(self, *inputs, **kwargs):
        import ember
        if self._active and self._ready:
            raise RuntimeError(_UNFINISHED)
        if self.broadcast_buffers and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers and self.process_group.size() > 1:
                self._broadcast_coalesced(buffers)
        output = self.module(*inputs, **kwargs)
        self._reset()
        if ember.is_grad_enabled() and self.require_backward_grad_sync:
            self._active = True
            if self.find_unused_parameters:
                self._mark_unused(output)
        return output

    def _mark_unused(self, output):
        """Count the parameters ``output`` does not depend on as ready, and share which ones each rank used."""
        import ember
        import ember.distributed as dist
        reached = _reachable_leaves(output)
        flags = np.array([1 if id(p) in reached else 0 for p in self._params], np.int32)
        work = dist.all_reduce(ember.from_numpy(flags), op=dist.ReduceOp.MAX, group=self.process_group,
                               async_op=True)
        self._used = (flags, work)
        for index, p in enumerate(self._params):
            if id(p) not in reached:
                self._mark_ready(index, None)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context backward only accumulates local gradients; the first backward after it averages
        the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _set_static_graph(self):
        self.static_graph = True

    def register_comm_hook(self, state, hook):
        """Not supported: ember always averages with all-reduce."""
        raise NotImplementedError("DistributedDataParallel.register_comm_hook is not supported by ember")
