"""``python -m ember.distributed.run`` / ``emberrun``: start a training script on several processes, as ``torchrun``.

Each node runs one launcher, which starts ``--nproc-per-node`` workers with torchrun's environment (RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_*), hosts (on node
0) the TCP store the workers rendezvous through, watches them, and on the first failure stops the others,
reports which rank failed and how, and exits non-zero (or restarts the whole group, ``--max-restarts`` times).

Two machines (node A reachable from node B as ``10.0.0.1``)::

    A$ emberrun --nnodes 2 --node-rank 0 --nproc-per-node 2 --master-addr 10.0.0.1 --master-port 29500 train.py
    B$ emberrun --nnodes 2 --node-rank 1 --nproc-per-node 2 --master-addr 10.0.0.1 --master-port 29500 train.py

(``--rdzv-endpoint 10.0.0.1:29500`` may replace the two master flags; without ``--node-rank`` the launcher on
the endpoint's host becomes node 0 and the others number themselves in arrival order.)  The workers then join
into one MPI communicator through MPI's connect/accept; MPICH must be able to reach each machine over TCP.
"""
import argparse
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from .store import DistStoreError, TCPStore

__all__ = ["main", "get_args_parser", "parse_args", "run"]


def get_args_parser():
    """The argument parser, with torchrun's flags (dashed and underscored spellings)."""
    p = argparse.ArgumentParser(description="ember distributed launcher (torchrun's interface)")
    both = lambda name: [f"--{name}", f"--{name.replace('-', '_')}"]  # noqa: E731
    p.add_argument(*both("nnodes"), default="1", help="number of nodes, or MIN:MAX (MIN is used)")
    p.add_argument(*both("nproc-per-node"), default="1", help="workers per node: an int, 'cpu' or 'auto'")
    p.add_argument(*both("rdzv-backend"), default="static", help="accepted for compatibility")
    p.add_argument(*both("rdzv-endpoint"), default="", help="host:port of the rendezvous store")
    p.add_argument(*both("rdzv-id"), default="none", help="job id")
    p.add_argument(*both("rdzv-conf"), default="", help="accepted for compatibility")
    p.add_argument("--standalone", action="store_true", help="single node, free port picked automatically")
    p.add_argument(*both("max-restarts"), type=int, default=0, help="restarts of the worker group on failure")
    p.add_argument(*both("monitor-interval"), type=float, default=0.1, help="seconds between worker checks")
    p.add_argument(*both("start-method"), default="spawn", choices=["spawn", "fork", "forkserver"])
    p.add_argument("--role", default="default", help="worker role name (log prefix)")
    p.add_argument("-m", "--module", action="store_true", help="run the script as a module (python -m)")
    p.add_argument(*both("no-python"), action="store_true", help="run the script directly, not with python")
    p.add_argument(*both("run-path"), action="store_true", help="run the script with runpy.run_path")
    p.add_argument(*both("log-dir"), default=None, help="directory for the workers' stdout/stderr logs")
    p.add_argument("-r", "--redirects", default="0", help="send worker streams to log files only (0-3)")
    p.add_argument("-t", "--tee", default="0", help="prefix worker streams and copy them to log files (0-3)")
    p.add_argument(*both("local-ranks-filter"), default="", help="only show these local ranks' output")
    p.add_argument(*both("node-rank"), type=int, default=None, help="this node's rank")
    p.add_argument(*both("master-addr"), default="127.0.0.1", help="host of node 0")
    p.add_argument(*both("master-port"), type=int, default=29500, help="port of the rendezvous store")
    p.add_argument(*both("local-addr"), default=None, help="accepted for compatibility")
    p.add_argument(*both("shutdown-timeout"), type=float, default=30.0, help="seconds from SIGTERM to SIGKILL")
    p.add_argument("training_script", help="the script (or module with -m) to run")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def parse_args(args):
    """Parse the command line ``args`` (a list of strings)."""
    return get_args_parser().parse_args(args)


def _nproc(value):
    if value in ("cpu", "auto", "gpu"):
        return os.cpu_count() or 1
    return int(value)


def _streams(value, local_rank):
    """Which streams a ``--tee``/``--redirects`` value selects for ``local_rank``: (stdout, stderr)."""
    mapping = {}
    for part in str(value).split(","):
        if ":" in part:
            r, v = part.split(":")
            mapping[int(r)] = int(v)
        else:
            mapping = {None: int(part)}
    v = mapping.get(local_rank, mapping.get(None, 0))
    return bool(v & 1), bool(v & 2)


class _Pump(threading.Thread):
    """Copies one worker stream line by line to the console (prefixed) and/or a log file."""

    def __init__(self, src, console, prefix, logfile):
        super().__init__(daemon=True)
        self.src, self.console, self.prefix, self.logfile = src, console, prefix, logfile

    def run(self):
        for line in iter(self.src.readline, b""):
            if self.logfile is not None:
                self.logfile.write(line)
                self.logfile.flush()
            if self.console is not None:
                self.console.write(self.prefix + line)
                self.console.flush()
        if self.logfile is not None:
            self.logfile.close()


def _die_with_launcher():
    from ember.multiprocessing.spawn import _die_with_parent
    _die_with_parent(signal.SIGKILL)


class _Worker:
    """One worker process with its rank and its output plumbing."""

    def __init__(self, cmd, env, local_rank, rank, cfg, attempt_dir):
        self.local_rank, self.rank = local_rank, rank
        self.error_file = os.path.join(attempt_dir, str(local_rank), "error.json")
        os.makedirs(os.path.dirname(self.error_file), exist_ok=True)
        env = dict(env, TORCHELASTIC_ERROR_FILE=self.error_file)
        tee = _streams(cfg.tee, local_rank)
        redirect = _streams(cfg.redirects, local_rank)
        shown = not cfg.local_ranks_filter or str(local_rank) in cfg.local_ranks_filter.split(",")
        captured = [tee[i] or redirect[i] or not shown for i in range(2)]
        self.proc = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_launcher,
                                     stdout=subprocess.PIPE if captured[0] else None,
                                     stderr=subprocess.PIPE if captured[1] else None)
        self.pumps = []
        for i, (stream, console, name) in enumerate(((self.proc.stdout, sys.stdout.buffer, "stdout"),
                                                     (self.proc.stderr, sys.stderr.buffer, "stderr"))):
            if not captured[i]:
                continue
            logfile = open(os.path.join(attempt_dir, str(local_rank), f"{name}.log"), "wb") \
                if (tee[i] or redirect[i]) and cfg.log_dir else None
            show = console if shown and not redirect[i] else None
            pump = _Pump(stream, show, f"[{cfg.role}{local_rank}]:".encode(), logfile)
            pump.start()
            self.pumps.append(pump)

    def failure(self):
        """A description of how the worker failed (exit code or signal, and its recorded error)."""
        code = self.proc.returncode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            how = f"Signal {-code} ({name}) received by PID {self.proc.pid}"
        else:
            how = f"exit code {code}"
        message = None
        if os.path.exists(self.error_file):
            try:
                with open(self.error_file) as fh:
                    message = json.load(fh)["message"]["extraInfo"]["py_callstack"]
            except (OSError, ValueError, KeyError):
                message = None
        return code, how, message


class _Group:
    """The workers of this node for one attempt."""

    def __init__(self, workers):
        self.workers = workers

    def poll(self):
        """The first failed worker, ``'done'`` when all succeeded, or None while running."""
        running = False
        for w in self.workers:
            code = w.proc.poll()
            if code is None:
                running = True
            elif code != 0:
                return w
        return None if running else "done"

    def signal(self, sig):
        """Send ``sig`` to every live worker."""
        for w in self.workers:
            if w.proc.poll() is None:
                try:
                    w.proc.send_signal(sig)
                except ProcessLookupError:
                    pass

    def stop(self, timeout):
        """SIGTERM every live worker, then SIGKILL those still alive after ``timeout`` seconds."""
        self.signal(signal.SIGTERM)
        end = time.monotonic() + timeout
        for w in self.workers:
            try:
                w.proc.wait(max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        self.signal(signal.SIGKILL)
        for w in self.workers:
            w.proc.wait()
        for w in self.workers:
            for p in w.pumps:
                p.join(1.0)


def _worker_command(cfg):
    if cfg.no_python:
        return [cfg.training_script, *cfg.training_script_args]
    if cfg.module:
        return [sys.executable, "-u", "-m", cfg.training_script, *cfg.training_script_args]
    if cfg.run_path:
        code = "import runpy,sys; sys.argv=sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
        return [sys.executable, "-u", "-c", code, cfg.training_script, *cfg.training_script_args]
    return [sys.executable, "-u", cfg.training_script, *cfg.training_script_args]


def _is_local_endpoint(host, port):
    """True when this machine can listen on ``host:port`` (it is the endpoint's host and the port is free)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((socket.gethostbyname(host), port))
        return True
    except OSError:
        return False


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Launch:
    """Rendezvous of the launchers (node ranks, rank offsets) and the attempt loop."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.nnodes = int(str(cfg.nnodes).split(":")[0])
        self.nproc = _nproc(cfg.nproc_per_node)
        host, port = cfg.master_addr, cfg.master_port
        if cfg.standalone:
            host, port = "127.0.0.1", _free_port()
        elif cfg.rdzv_endpoint:
            host, _, p = cfg.rdzv_endpoint.rpartition(":")
            host, port = (host, int(p)) if host else (p, 29400)
        node_rank = cfg.node_rank
        if node_rank is None and self.nnodes == 1:
            node_rank = 0
        is_master = node_rank == 0 if node_rank is not None else _is_local_endpoint(host, port)
        self.is_master = is_master
        self.store = TCPStore(host, port, None, is_master=is_master, timeout=datetime.timedelta(seconds=900))
        self.host, self.port = host, self.store.port
        if node_rank is None:
            node_rank = 0 if is_master else self.store.add("ember_run/node_counter", 1)
        self.node_rank = node_rank
        self.store.set(f"ember_run/nproc/{node_rank}", str(self.nproc))
        counts = [int(self.store.get(f"ember_run/nproc/{n}")) for n in range(self.nnodes)]
        self.world_size = sum(counts)
        self.base = sum(counts[:node_rank])
        self.run_id = cfg.rdzv_id if cfg.rdzv_id != "none" else uuid.uuid4().hex[:8]
        self.log_root = os.path.join(cfg.log_dir, self.run_id) if cfg.log_dir else None
        self.stopping = None

    def _env(self, local_rank, attempt):
        env = dict(os.environ)
        rank = self.base + local_rank
        env.update(LOCAL_RANK=str(local_rank), RANK=str(rank), GROUP_RANK=str(self.node_rank),
                   ROLE_RANK=str(rank), ROLE_NAME=self.cfg.role, LOCAL_WORLD_SIZE=str(self.nproc),
                   WORLD_SIZE=str(self.world_size), GROUP_WORLD_SIZE=str(self.nnodes),
                   ROLE_WORLD_SIZE=str(self.world_size), MASTER_ADDR=self.host, MASTER_PORT=str(self.port),
                   TORCHELASTIC_RESTART_COUNT=str(attempt), TORCHELASTIC_MAX_RESTARTS=str(self.cfg.max_restarts),
                   TORCHELASTIC_RUN_ID=self.run_id, TORCHELASTIC_USE_AGENT_STORE=str(True),
                   TORCH_NCCL_ASYNC_ERROR_HANDLING="1")
        if "OMP_NUM_THREADS" not in os.environ and self.nproc > 1:
            env["OMP_NUM_THREADS"] = "1"
        return env

    def _start(self, attempt):
        import tempfile
        root = self.log_root or tempfile.mkdtemp(prefix="emberrun-")
        attempt_dir = os.path.join(root, f"attempt_{attempt}")
        cmd = _worker_command(self.cfg)
        return _Group([_Worker(cmd, self._env(i, attempt), i, self.base + i, self.cfg, attempt_dir)
                       for i in range(self.nproc)])

    def _on_signal(self, sig, frame):
        self.stopping = sig

    def run(self):
        """Run attempts until success, a signal, or the restarts are used up; returns the exit code."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, self._on_signal)
        attempt = 0
        while True:
            group = self._start(attempt)
            failed_key = f"ember_run/failed/{attempt}"
            result = None
            while result is None:
                time.sleep(self.cfg.monitor_interval)
                if self.stopping is not None:
                    group.signal(self.stopping)
                    group.stop(self.cfg.shutdown_timeout)
                    sys.stderr.write(f"emberrun: received signal {signal.Signals(self.stopping).name}, workers "
                                     "stopped\n")
                    return 128 + int(self.stopping)
                result = group.poll()
                if result is None and self._remote_failed(failed_key):
                    result = "remote"
            if result == "done":
                return self._finish_together(attempt, failed_key)
            group.stop(self.cfg.shutdown_timeout)
            if result != "remote":
                self.store.set(failed_key, str(result.rank))
            if attempt < self.cfg.max_restarts:
                attempt += 1
                sys.stderr.write(f"emberrun: worker group failed, restarting ({attempt}/{self.cfg.max_restarts})\n")
                continue
            if result == "remote":
                sys.stderr.write(f"emberrun: rank {self.store.get(failed_key).decode()} on another node failed\n")
            else:
                self._report(result)
            return 1

    def _remote_failed(self, failed_key):
        """True when another node's launcher has reported a failure of this attempt."""
        if self.nnodes == 1:
            return False
        try:
            return self.store.check([failed_key])
        except DistStoreError:
            return False  # the store's host has exited: its workers are done; ours report for themselves

    def _finish_together(self, attempt, failed_key):
        """After this node's workers succeeded: count it done; the store's host waits for every node (the
        others still poll its store), and fails if another node reports a failure meanwhile."""
        if self.nnodes == 1:
            return 0
        done_key = f"ember_run/done/{attempt}"
        self.store.add(done_key, 1)
        if not self.is_master:
            return 0
        while int(self.store.get(done_key)) < self.nnodes:
            if self.store.check([failed_key]):
                sys.stderr.write(f"emberrun: rank {self.store.get(failed_key).decode()} on another node failed\n")
                return 1
            time.sleep(self.cfg.monitor_interval)
        return 0

    def _report(self, worker):
        code, how, message = worker.failure()
        bar = "=" * 60
        lines = [bar, f"{self.cfg.training_script} FAILED", "-" * 60, "Root Cause (first observed failure):",
                 "[0]:", f"  time      : {datetime.datetime.now():%Y-%m-%d_%H:%M:%S}",
                 f"  host      : {socket.gethostname()}",
                 f"  rank      : {worker.rank} (local_rank: {worker.local_rank})",
                 f"  exitcode  : {code} (pid: {worker.proc.pid})",
                 f"  error_file: {worker.error_file if message else '<N/A>'}",
                 f"  traceback : {message.rstrip() if message else how}", bar]
        sys.stderr.write("\n".join(lines) + "\n")


def run(args):
    """Launch with parsed ``args``; returns the exit code."""
    return _Launch(args).run()


def main(args=None):
    """Entry point of ``emberrun`` and ``python -m ember.distributed.run``."""
    sys.exit(run(parse_args(sys.argv[1:] if args is None else args)))


if __name__ == "__main__":
    main()
