"""A chain of 50 tiny ops (8 floats: ``*1.001, +0.5, relu, -0.25, tanh`` ten times), no-grad or forward+backward,
repeated ``REPS`` times after a warm-up: the probe ``tools/count_instructions.sh`` runs under callgrind to count
the instructions one chain costs (deterministic, unlike wall-clock time on a shared machine).

Usage: ``python tools/tiny_chain.py nograd|fwdbwd REPS``
"""
import gc
import sys

import ember

mode, reps = sys.argv[1], int(sys.argv[2])
x = ember.ones(8, requires_grad=(mode == "fwdbwd"))


def chain(t):
    for _ in range(10):
        t = ((t * 1.001 + 0.5).relu() - 0.25).tanh()
    return t


def run():
    y = chain(x)
    if mode == "fwdbwd":
        y.sum().backward()


for _ in range(3):   # warm caches and first-use imports
    run()
gc.disable()         # a collection landing in one run but not the other would skew the difference
for _ in range(reps):
    run()
