"""ember's benchmark suite: each bench_*.py module times the same workload on ember and on PyTorch."""
