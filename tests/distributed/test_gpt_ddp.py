"""A real program: examples/gpt.py (nanoGPT-style) under the launcher with 2 ranks and batch 8 per rank follows
the same loss curve as one process with batch 16 (each rank takes its half of the same global batch)."""
import os
import re
import subprocess
import sys

from dist_helpers import ROOT, env

ARGS = ["--iters", "12", "--n-layer", "1", "--n-embd", "32", "--block-size", "16"]


def losses(out):
    found = [float(v) for v in re.findall(r"iter \d+: loss ([\d.]+)", out)]
    assert len(found) == 2, out
    return found


def test_two_ranks_match_one_process_with_twice_the_batch(tmp_path):
    script = os.path.join(ROOT, "examples", "gpt.py")
    one = subprocess.run([sys.executable, script, "--batch-size", "16", *ARGS], env=env(), cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([sys.executable, "-m", "ember.distributed.run", "--standalone", "--nproc-per-node", "2",
                          script, "--batch-size", "8", *ARGS], env=env(), cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    first, last = losses(one.stdout)
    assert last < first - 0.3, one.stdout                 # it learns
    for a, b in zip(losses(two.stdout), (first, last)):
        assert abs(a - b) < 1e-4 * b, (two.stdout, one.stdout)
