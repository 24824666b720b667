"""One rank of the distributed tests: run under the launcher, it exercises every collective and DDP/SyncBatchNorm
and saves what it got to ``OUTDIR/rank{r}.npz``; the test process compares with NumPy and one-process runs.

    python -m ember.distributed.run --standalone --nproc-per-node N _dist_worker.py OUTDIR [SECTION ...]
    python _dist_worker.py --die RANK PORT       # tcp:// rendezvous, rank 1 is killed, rank 0 must time out
    python _dist_worker.py --spawn PORT OUTDIR   # ember.multiprocessing.spawn + tcp:// rendezvous, 2 processes
    python _dist_worker.py --raise               # under the launcher: rank 1 raises inside @record
    python _dist_worker.py --flaky               # under the launcher: rank 1 fails in attempt 0 only
    python _dist_worker.py --sleep               # under the launcher: ready, then sleeps (to be signalled)
"""
import datetime
import os
import sys
import time

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.distributed.elastic.multiprocessing.errors import record
from ember.nn.parallel import DistributedDataParallel as DDP


def rank_input(r, shape=(3, 4), dtype=np.float64):
    """The input rank ``r`` contributes to a collective (the test rebuilds it to compute the expectation)."""
    return (np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * (r + 1) + r).astype(dtype)


def t(a):
    return ember.from_numpy(np.array(a))


def collectives(r, n, out):
    for op in ("SUM", "PRODUCT", "MIN", "MAX", "AVG"):
        x = t(rank_input(r))
        dist.all_reduce(x, op=getattr(dist.ReduceOp, op))
        out[f"all_reduce_{op}"] = x.numpy()
    x = t(rank_input(r, dtype=np.int64))
    dist.all_reduce(x)
    out["all_reduce_int64"] = x.numpy()
    base = t(rank_input(r, (4, 3), np.float32))
    view = base.t()                         # non-contiguous: reduced through a copy, written back
    dist.all_reduce(view)
    out["all_reduce_view"] = base.numpy()
    x = t(rank_input(r, dtype=np.float16))
    dist.all_reduce(x)
    out["all_reduce_f16"] = x.numpy()
    x = t(rank_input(r))
    work = dist.all_reduce(x, async_op=True)
    work.wait()
    out["all_reduce_async"] = x.numpy()
    out["async_completed"] = np.array(work.is_completed())
    x = t(rank_input(r))
    dist.reduce(x, dst=n - 1)
    out["reduce"] = x.numpy()
    x = t(rank_input(r))
    dist.broadcast(x, src=n - 1)
    out["broadcast"] = x.numpy()
    parts = [ember.zeros(3, 4, dtype=ember.float64) for _ in range(n)]
    dist.all_gather(parts, t(rank_input(r)))
    out["all_gather"] = np.stack([p.numpy() for p in parts])
    whole = ember.zeros(3 * n, 4, dtype=ember.float64)
    dist.all_gather_into_tensor(whole, t(rank_input(r)))
    out["all_gather_into_tensor"] = whole.numpy()
    got = ember.zeros(3, 4, dtype=ember.float64)
    dist.reduce_scatter(got, [t(rank_input(r + 10 * k)) for k in range(n)])
    out["reduce_scatter"] = got.numpy()
    got = ember.zeros(2, 4, dtype=ember.float64)
    dist.reduce_scatter_tensor(got, t(rank_input(r, (2 * n, 4))))
    out["reduce_scatter_tensor"] = got.numpy()
    gl = [ember.zeros(3, 4, dtype=ember.float64) for _ in range(n)] if r == 0 else None
    dist.gather(t(rank_input(r)), gl, dst=0)
    if r == 0:
        out["gather"] = np.stack([g.numpy() for g in gl])
    got = ember.zeros(3, 4, dtype=ember.float64)
    dist.scatter(got, [t(rank_input(k + 100)) for k in range(n)] if r == 0 else None, src=0)
    out["scatter"] = got.numpy()
    outs = [ember.zeros(k + 1, dtype=ember.float64) for k in range(n)]
    dist.all_to_all(outs, [t(np.full(r + 1, 10.0 * r + k)) for k in range(n)])
    out["all_to_all"] = np.concatenate([o.numpy() for o in outs])
    single = ember.zeros(n, dtype=ember.float64)
    dist.all_to_all_single(single, t(np.arange(n, dtype=np.float64) + 10 * r))
    out["all_to_all_single"] = single.numpy()
    ring = ember.zeros(3, dtype=ember.float64)
    send = dist.isend(t(np.full(3, float(r))), dst=(r + 1) % n)
    dist.recv(ring, src=(r - 1) % n)
    send.wait()
    out["ring"] = ring.numpy()
    if r == 0:
        got = ember.zeros(2, dtype=ember.int64)
        out["recv_any_source"] = np.array(dist.recv(got))
        out["recv_any_value"] = got.numpy()
    elif r == 1:
        dist.send(t(np.array([7, 8], np.int64)), dst=0)
    dist.barrier()
    objs = [{"from": r}, r * 2] if r == 1 else [None, None]
    dist.broadcast_object_list(objs, src=1)
    out["broadcast_object"] = np.array([objs[0]["from"], objs[1]])
    gathered = [None] * n
    dist.all_gather_object(gathered, ("r", r, [r] * r))
    out["all_gather_object"] = np.array([g[1] + len(g[2]) for g in gathered])
    gl = [None] * n if r == 0 else None
    dist.gather_object({"rank": r}, gl, dst=0)
    if r == 0:
        out["gather_object"] = np.array([g["rank"] for g in gl])
    got = [None]
    dist.scatter_object_list(got, [f"item{k}" for k in range(n)] if r == 0 else None, src=0)
    out["scatter_object"] = np.array(int(got[0][4:]))
    sub = dist.new_group([0, n - 1])
    x = t(rank_input(r))
    if sub is dist.GroupMember.NON_GROUP_MEMBER:
        out["sub_group"] = np.array(-1.0)
    else:
        dist.all_reduce(x, group=sub)
        out["sub_group"] = x.numpy()
        out["sub_rank"] = np.array(dist.get_rank(sub))


class Net(nn.Module):
    """A small model with a branch that ``forward(x, skip=True)`` leaves unused."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.fc2 = nn.Linear(8, 3)
        self.extra = nn.Linear(8, 8)

    def forward(self, x, skip=False):
        h = ember.tanh(self.fc1(x))
        if not skip:
            h = h + ember.tanh(self.extra(h))
        return self.fc2(h)


def batches(steps, per_rank, n, seed=1):
    """The global batches every rank slices (the one-process reference uses them whole)."""
    g = np.random.default_rng(seed)
    return [(g.standard_normal((per_rank * n, 5)), g.standard_normal((per_rank * n, 3))) for _ in range(steps)]


def ddp(r, n, out, steps=20, per_rank=4):
    ember.manual_seed(0 if r == 0 else 1234)      # rank 1 starts elsewhere: DDP must broadcast rank 0's weights
    model = DDP(Net().double(), bucket_cap_mb=0.0005)  # several buckets
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches(steps, per_rank, n):
        sl = slice(r * per_rank, (r + 1) * per_rank)
        opt.zero_grad()
        nn.functional.mse_loss(model(t(x[sl])), t(y[sl])).backward()
        opt.step()
    out.update({f"ddp.{k}": v.numpy() for k, v in model.state_dict().items()})

    # no_sync: two local micro-batches accumulated, then one synchronized backward
    ember.manual_seed(0)
    model = DDP(Net().double())
    x, y = batches(1, 2 * per_rank, n, seed=2)[0]
    mine = slice(r * 2 * per_rank, (r + 1) * 2 * per_rank)
    xs, ys = x[mine], y[mine]
    with model.no_sync():
        nn.functional.mse_loss(model(t(xs[:per_rank])), t(ys[:per_rank])).backward()
    out["no_sync.local"] = model.module.fc1.weight.grad.numpy().copy()
    nn.functional.mse_loss(model(t(xs[per_rank:])), t(ys[per_rank:])).backward()
    out["no_sync.fc1"] = model.module.fc1.weight.grad.numpy()

    # find_unused_parameters: rank 0 skips the branch, rank 1 uses it; then both skip it
    ember.manual_seed(0)
    model = DDP(Net().double(), find_unused_parameters=True)
    x, y = batches(1, per_rank, n, seed=3)[0]
    sl = slice(r * per_rank, (r + 1) * per_rank)
    nn.functional.mse_loss(model(t(x[sl]), skip=(r == 0)), t(y[sl])).backward()
    out.update({f"unused.{k}": p.grad.numpy() for k, p in model.module.named_parameters()})
    model.zero_grad(set_to_none=True)
    nn.functional.mse_loss(model(t(x[sl]), skip=True), t(y[sl])).backward()
    out["unused_all.extra_is_none"] = np.array(model.module.extra.weight.grad is None)
    out["unused_all.fc1"] = model.module.fc1.weight.grad.numpy()

    # without find_unused_parameters an unused parameter is an error at the next forward
    ember.manual_seed(0)
    model = DDP(Net().double())
    nn.functional.mse_loss(model(t(x[sl]), skip=True), t(y[sl])).backward()
    try:
        model(t(x[sl]))
        out["unfinished_error"] = np.array("")
    except RuntimeError as exc:
        out["unfinished_error"] = np.array(str(exc)[:60])
    out["state_dict_keys"] = np.array(sorted(model.state_dict()))


def syncbn(r, n, out, per_rank=3):
    ember.manual_seed(0)
    bn = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(4))).double()
    g = np.random.default_rng(5)
    x = g.standard_normal((per_rank * n, 4, 2, 3)) * 3 + 1
    w = g.standard_normal((per_rank * n, 4, 2, 3))
    xr = t(x[r * per_rank:(r + 1) * per_rank]).requires_grad_()
    for _ in range(2):
        y = bn(xr)
    (y * t(w[r * per_rank:(r + 1) * per_rank])).sum().backward()
    out["syncbn.y"] = y.detach().numpy()
    out["syncbn.xgrad"] = xr.grad.numpy()
    out["syncbn.wgrad"] = bn[0].weight.grad.numpy()
    out["syncbn.running_mean"] = bn[0].running_mean.numpy()
    out["syncbn.running_var"] = bn[0].running_var.numpy()


SECTIONS = {"collectives": collectives, "ddp": ddp, "syncbn": syncbn}


def die(rank, port):
    """Rank 1 is killed after the rendezvous; rank 0's all_reduce must fail within the 2 s timeout."""
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=2))
    if rank == 1:
        os.kill(os.getpid(), 9)
    start = time.monotonic()
    try:
        dist.all_reduce(ember.ones(4))
    except RuntimeError as exc:
        print(f"failed after {time.monotonic() - start:.2f} s: {exc}", flush=True)
        os._exit(3)
    print("all_reduce returned", flush=True)


def spawned(index, port, outdir):
    """Body of each process started by ``ember.multiprocessing.spawn``."""
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=index, world_size=2)
    x = t(rank_input(index))
    dist.all_reduce(x)
    np.save(f"{outdir}/spawn{index}.npy", x.numpy())
    dist.destroy_process_group()


@record
def raising():
    dist.init_process_group("gloo")
    if dist.get_rank() == 1:
        raise ValueError("rank one gives up")
    dist.barrier()


def flaky():
    """Rank 1 fails in the first attempt; the restarted group all-reduces and reports its environment."""
    attempt = os.environ["TORCHELASTIC_RESTART_COUNT"]
    dist.init_process_group("gloo")
    if attempt == "0" and dist.get_rank() == 1:
        sys.exit(5)
    x = ember.ones(2)
    dist.all_reduce(x)
    keys = ("LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "TORCHELASTIC_MAX_RESTARTS")
    print(f"attempt {attempt} rank {dist.get_rank()} sum {x[0].item():.0f}", *(os.environ[k] for k in keys))


def sleep():
    dist.init_process_group("gloo")
    print("ready", flush=True)
    time.sleep(120)


def main():
    if sys.argv[1] == "--flaky":
        return flaky()
    if sys.argv[1] == "--sleep":
        return sleep()
    if sys.argv[1] == "--die":
        return die(int(sys.argv[2]), int(sys.argv[3]))
    if sys.argv[1] == "--spawn":
        import ember.multiprocessing as mp
        return mp.spawn(spawned, args=(int(sys.argv[2]), sys.argv[3]), nprocs=2)
    if sys.argv[1] == "--raise":
        return raising()
    outdir, sections = sys.argv[1], sys.argv[2:] or list(SECTIONS)
    dist.init_process_group("gloo")
    r, n = dist.get_rank(), dist.get_world_size()
    out = {"world_size": np.array(n)}
    for name in sections:
        SECTIONS[name](r, n, out)
    np.savez(f"{outdir}/rank{r}.npz", **out)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
