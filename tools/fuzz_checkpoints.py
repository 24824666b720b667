"""Long fuzz run of ``ember.load`` on mutated checkpoints, each case in a child process.

A case is (base checkpoint, mutation, seed), the mutations of ``tests/checkpoint_mutations.py``: bytes
flipped in data.pkl, in records or anywhere, records resized, members removed or renamed, truncation at
k/16, zip bombs by declared size, random tensor records.  Cases run in child processes that the parent
feeds one case at a time: a child that dies (a crash: segfault, abort, out-of-memory kill) or takes longer
than ``--timeout`` seconds (a hang) is counted against the case it was running and replaced.  A load must
end in an ordinary Python exception, or succeed with every tensor inside the memory of its own storage.

    .venv/bin/python tools/fuzz_checkpoints.py --seconds 600 --workers 2

prints the counts per mutation and outcome, and a command that reruns each failing case.
``--torch-records N`` instead loads N random tensor records in ember and in torch and lists where they differ.
"""
import argparse
import collections
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def run_case(bases, mutation, seed):
    """Load one mutated checkpoint; returns the outcome's name ('ok' or the exception type)."""
    import checkpoint_mutations as cm
    import ember
    table = {f.__name__: f for f in cm.ZIP_MUTATIONS + cm.LEGACY_MUTATIONS}
    kind, _, name = mutation.partition(":")
    outcome, result = cm.load_outcome(ember, table[name](bases[kind], random.Random(seed)))
    if outcome != "ok":
        return outcome.__name__   # any ordinary exception is a clean refusal
    cm.assert_within_storages(result)   # an AssertionError here escapes: the worker reports it as a failure
    return "ok"


def compare_with_torch(count, seed):
    """Load ``count`` random tensor records in ember and in torch (in this process); print how many end the
    same way (same exception type, or equal tensors) and the ones that do not."""
    import numpy as np
    import torch
    import checkpoint_mutations as cm
    import ember
    same, differ = 0, []
    for s in range(seed, seed + count):
        data = cm.random_tensor_record(None, random.Random(s))
        (tk, tr), (ek, er) = cm.load_outcome(torch, data), cm.load_outcome(ember, data)
        if tk == ek == "ok":
            agree = tuple(tr.shape) == tuple(er.shape) and (
                tr.numel() > 10 ** 6 or np.array_equal(tr.numpy(), er.numpy(), equal_nan=tr.is_floating_point()))
        else:
            agree = tk == ek
        same += agree
        if not agree:
            differ.append(f"  seed {s}: torch {getattr(tk, '__name__', tk)} {str(tr)[:90]!r}; "
                          f"ember {getattr(ek, '__name__', ek)} {str(er)[:90]!r}")
    print(f"{count} random tensor records: {same} end as in torch, {len(differ)} differ")
    print("\n".join(differ))


def _worker(base_dir, memory_limit, inbox, outbox):
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))   # a bomb fails, not the machine
    bases = {k: open(os.path.join(base_dir, k), "rb").read() for k in ("zip", "legacy")}
    while True:
        case = inbox.get()
        if case is None:
            return
        try:
            outbox.put(("done", run_case(bases, *case)))
        except BaseException as exc:  # noqa: BLE001 - reported, and the run goes on
            outbox.put(("failed", f"{type(exc).__name__}: {exc}"))


class _Child:
    def __init__(self, ctx, base_dir, memory_limit):
        self.inbox, self.outbox = ctx.Queue(), ctx.Queue()
        self.proc = ctx.Process(target=_worker, args=(base_dir, memory_limit, self.inbox, self.outbox), daemon=True)
        self.proc.start()

    def run(self, case, timeout):
        """('done', outcome), ('failed', why), ('crash', exit code) or ('hang', seconds)."""
        self.inbox.put(case)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return self.outbox.get(timeout=0.2)
            except Exception:  # noqa: BLE001 - queue.Empty: still running
                if not self.proc.is_alive():
                    return "crash", self.proc.exitcode
        self.proc.kill()
        return "hang", timeout

    def stop(self):
        if self.proc.is_alive():
            self.inbox.put(None)
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="how long to run")
    parser.add_argument("--cases", type=int, default=0, help="stop after this many cases (0: no limit)")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a case counts as a hang")
    parser.add_argument("--memory", type=float, default=3.0, help="address-space limit of a child, GiB")
    parser.add_argument("--only", help="run only this mutation, e.g. zip:flip_pickle (with --seed, one case)")
    parser.add_argument("--torch-records", type=int, default=0,
                        help="instead: compare this many random tensor records with torch.load")
    args = parser.parse_args()
    if args.torch_records:
        compare_with_torch(args.torch_records, args.seed)
        return 0

    import checkpoint_mutations as cm
    kinds = [f"zip:{f.__name__}" for f in cm.ZIP_MUTATIONS] + [f"legacy:{f.__name__}" for f in cm.LEGACY_MUTATIONS]
    if args.only:
        kinds = [args.only]
    base_dir = tempfile.mkdtemp(prefix="fuzz_bases_")
    for name, data in cm.base_checkpoints().items():
        with open(os.path.join(base_dir, name), "wb") as f:
            f.write(data)

    ctx = mp.get_context("spawn")
    memory_limit = int(args.memory * 2 ** 30)
    child = _Child(ctx, base_dir, memory_limit)
    counts = collections.defaultdict(collections.Counter)
    bad = []
    start, n = time.monotonic(), 0
    try:
        while time.monotonic() - start < args.seconds and (not args.cases or n < args.cases):
            mutation = kinds[n % len(kinds)]
            seed = args.seed + n
            status, detail = child.run((mutation, seed), args.timeout)
            n += 1
            counts[mutation][detail if status == "done" else status] += 1
            if status != "done":
                bad.append((status, detail, mutation, seed))
                child.stop()
                child = _Child(ctx, base_dir, memory_limit)
    finally:
        child.stop()

    elapsed = time.monotonic() - start
    print(f"{n} cases in {elapsed:.0f} s; crashes: {sum(s == 'crash' for s, *_ in bad)}, hangs: "
          f"{sum(s == 'hang' for s, *_ in bad)}, failed checks: {sum(s == 'failed' for s, *_ in bad)}")
    for mutation in kinds:
        print(f"  {mutation:28s} " + ", ".join(f"{k} {v}" for k, v in counts[mutation].most_common()))
    for status, detail, mutation, seed in bad:
        print(f"{status} ({detail}): {sys.executable} {__file__} --only {mutation} --seed {seed} --cases 1")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
