"""The launcher (``python -m ember.distributed.run``): a failed rank is named, restarts and log files,
SIGTERM reaches the workers, and two "nodes" (two launchers) on loopback form one group."""
import signal
import subprocess
import sys
import time

import numpy as np

from dist_helpers import WORKER, check_collectives, env, free_port, launch


def test_launcher_reports_failed_rank():
    r = launch("--standalone", "--nproc-per-node", "2", WORKER, "--raise", timeout=60)
    assert r.returncode == 1
    assert "rank      : 1 (local_rank: 1)" in r.stderr
    assert "ValueError: rank one gives up" in r.stderr


def test_two_nodes_on_loopback(tmp_path):
    port = str(free_port())
    nodes = [subprocess.Popen([sys.executable, "-m", "ember.distributed.run", "--nnodes", "2", "--node-rank", str(k),
                               "--nproc-per-node", "1", "--master-addr", "127.0.0.1", "--master-port", port,
                               "--tee", "3", WORKER, str(tmp_path), "collectives"],
                              env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in (1, 0)]
    for p in nodes:
        out, err = p.communicate(timeout=90)
        assert p.returncode == 0, out[-2000:] + err[-2000:]
    check_collectives([dict(np.load(tmp_path / f"rank{i}.npz")) for i in range(2)])


def test_launcher_restarts_and_logs(tmp_path):
    r = launch("--standalone", "--nproc-per-node", "2", "--max-restarts", "1", "--log-dir", str(tmp_path),
               "--rdzv-id", "job", "--tee", "3", WORKER, "--flaky", timeout=90)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "restarting (1/1)" in r.stderr
    for rank in (0, 1):
        line = f"attempt 1 rank {rank} sum 2 {rank} 2 0 1"
        assert f"[default{rank}]:{line}" in r.stdout
        assert (tmp_path / "job" / "attempt_1" / str(rank) / "stdout.log").read_text().strip() == line


def test_launcher_forwards_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "ember.distributed.run", "--standalone", "--nproc-per-node", "2",
                             "--tee", "1", WORKER, "--sleep"], env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ready = 0
    while ready < 2:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        ready += "ready" in line
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert time.monotonic() - start < 10
    assert "received signal SIGTERM" in proc.stderr.read()
