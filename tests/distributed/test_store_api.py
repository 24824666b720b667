"""One-process checks of ember.distributed against torch.distributed: the stores' semantics and errors, and the
process-group API on a group of one (rendezvous through file://)."""
import datetime
import threading
import time

import pytest
import torch
import torch.distributed as tdist

import ember
import ember.distributed as edist

SHORT = datetime.timedelta(milliseconds=300)


def outcome(fn):
    """What ``fn()`` gives: its value, or the exception's type name and message."""
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 (the comparison is the point)
        return (type(exc).__name__, str(exc))


def store_script(s):
    """A fixed sequence of store operations; returns everything they gave."""
    s.set_timeout(SHORT)
    return [outcome(f) for f in (
        lambda: s.set("a", "x"), lambda: s.get("a"), lambda: s.add("c", 2), lambda: s.add("c", -5),
        lambda: s.get("c"), lambda: s.compare_set("a", "x", "y"), lambda: s.compare_set("a", "zz", "w"),
        lambda: s.compare_set("new", "", "v"), lambda: s.compare_set("missing", "e", "v"), lambda: s.get("a"),
        lambda: s.append("a", b"!"), lambda: s.get("a"), lambda: s.multi_get(["a", "c"]),
        lambda: s.multi_set(["m1", "m2"], [b"1", "2"]), lambda: s.get("m2"), lambda: s.check(["a", "m1"]),
        lambda: s.check(["a", "nope"]), lambda: s.delete_key("m1"), lambda: s.delete_key("m1"),
        lambda: s.wait(["a", "c"]), lambda: s.get("nokey"), lambda: s.wait(["a", "nokey"], SHORT),
        lambda: s.timeout, lambda: s.set("b", bytes([0, 255, 10]))  , lambda: s.get("b"))]


def test_tcp_store_matches_torch():
    t = tdist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
    e = edist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
    assert store_script(e) == store_script(t)
    assert e.num_keys() == t.num_keys()
    assert isinstance(e.port, int) and e.port > 0 and e.host == "127.0.0.1"


def test_file_store_matches_torch(tmp_path):
    t = tdist.FileStore(str(tmp_path / "t"), 1)
    e = edist.FileStore(str(tmp_path / "e"), 1)
    assert store_script(e) == store_script(t)
    assert e.num_keys() == t.num_keys()


@pytest.mark.parametrize("kind", ["hash", "prefix"])
def test_hash_and_prefix_stores_match_torch(kind):
    def make(lib):
        base = lib.HashStore()
        return base if kind == "hash" else lib.PrefixStore("job", base)
    assert store_script(make(edist)) == store_script(make(tdist))


def test_prefix_store_writes_under_prefix():
    base = edist.HashStore()
    edist.PrefixStore("job", base).set("k", "v")
    assert base.get("job/k") == b"v"


def test_tcp_store_client_waits_for_a_key_set_by_another():
    master = edist.TCPStore("127.0.0.1", 0, 2, True, timeout=datetime.timedelta(seconds=10),
                            wait_for_workers=False)
    client = edist.TCPStore("127.0.0.1", master.port, 2, False, timeout=datetime.timedelta(seconds=10))
    threading.Timer(0.2, lambda: master.set("late", "here")).start()
    start = time.monotonic()
    assert client.get("late") == b"here"
    assert 0.15 < time.monotonic() - start < 5
    assert client.add("init/", 0) == 2


def test_errors_before_init_match_torch():
    for name in ("get_rank", "get_world_size", "get_backend", "barrier"):
        assert outcome(getattr(edist, name)) == outcome(getattr(tdist, name)), name
    assert edist.is_initialized() is False and edist.is_available() is True


def test_enums_and_backend_match_torch():
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"):
        e, t = getattr(edist.ReduceOp, op), getattr(tdist.ReduceOp, op)
        assert (repr(e), str(e), int(e)) == (repr(t), str(t), int(t))
    assert edist.Backend("GLOO") == tdist.Backend("GLOO") == "gloo"
    assert edist.GroupMember.NON_GROUP_MEMBER == tdist.GroupMember.NON_GROUP_MEMBER


def test_group_of_one_matches_torch(tmp_path):
    def session(lib, dist, path):
        out = []
        dist.init_process_group("gloo", init_method=f"file://{path}", rank=0, world_size=1)
        try:
            out.append(outcome(lambda: dist.init_process_group("gloo", rank=0, world_size=1)))
            out.append((dist.is_initialized(), dist.get_rank(), dist.get_world_size(), dist.get_backend()))
            x = lib.arange(6.0).reshape(2, 3)
            out.append(outcome(lambda: dist.all_reduce(x, op=dist.ReduceOp.AVG)))
            out.append(x.tolist())
            work = dist.all_reduce(x, async_op=True)
            out.append((work.wait(), work.is_completed(), work.is_success(), [r.tolist() for r in work.result()]))
            out.append(outcome(lambda: dist.all_reduce([x])))
            out.append(outcome(lambda: dist.broadcast(x, src=3)))
            out.append(outcome(lambda: dist.broadcast(x)))
            out.append(outcome(lambda: dist.all_gather([lib.zeros(2)], x)))
            out.append(outcome(lambda: dist.all_gather([], x)))
            out.append(outcome(lambda: dist.send(x, 0)))
            g = dist.new_group([0])
            out.append((g.rank(), g.size(), dist.get_process_group_ranks(g), dist.get_group_rank(g, 0),
                        dist.get_global_rank(g, 0)))
            objs = [None]
            dist.all_gather_object(objs, {"k": [1, 2]})
            out.append(objs)
            s = lib.zeros(2, 3)
            dist.reduce_scatter_tensor(s, x)
            out.append(s.tolist())
        finally:
            dist.destroy_process_group()
        out.append(dist.is_initialized())
        return out

    assert session(ember, edist, tmp_path / "e") == session(torch, tdist, tmp_path / "t")


def test_nccl_without_cuda_raises_as_torch():
    assert outcome(lambda: edist.init_process_group("nccl", init_method="file:///nonexistent", rank=0,
                                                    world_size=1)) == \
        ("RuntimeError", "Distributed package doesn't have NCCL built in")


def test_distributed_sampler_takes_rank_and_size_from_the_group(tmp_path):
    from ember.utils.data.distributed import DistributedSampler
    edist.init_process_group("gloo", init_method=f"file://{tmp_path / 's'}", rank=0, world_size=1)
    try:
        sampler = DistributedSampler(range(10), shuffle=False)
        assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, list(range(10)))
    finally:
        edist.destroy_process_group()
