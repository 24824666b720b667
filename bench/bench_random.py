"""Random sampling benchmarks: the samplers whose numbers equal PyTorch's CPU numbers, at sizes where the
generator and the transform dominate (a 1M-element draw) and at the size of a layer's initialisation."""


def cases():
    import ember
    import torch
    n = 1_000_000
    e32, t32 = ember.empty(n), torch.empty(n)
    e64, t64 = ember.empty(n, dtype=ember.float64), torch.empty(n, dtype=torch.float64)
    probs_e, probs_t = ember.rand(64, 1000), torch.rand(64, 1000)
    return [
        ("rand 1M float32", lambda: ember.rand(n), lambda: torch.rand(n)),
        ("randn 1M float32", lambda: ember.randn(n), lambda: torch.randn(n)),
        ("randn 1M float64", lambda: ember.randn(n, dtype=ember.float64), lambda: torch.randn(n, dtype=torch.float64)),
        ("uniform_(-a, a) 1M float32", lambda: e32.uniform_(-0.05, 0.05), lambda: t32.uniform_(-0.05, 0.05)),
        ("normal_(0, s) 1M float64", lambda: e64.normal_(0, 0.02), lambda: t64.normal_(0, 0.02)),
        ("bernoulli_(0.5) 1M", lambda: e32.bernoulli_(0.5), lambda: t32.bernoulli_(0.5)),
        ("randint 1M", lambda: ember.randint(0, 1000, (n,)), lambda: torch.randint(0, 1000, (n,))),
        ("randperm 1M", lambda: ember.randperm(n), lambda: torch.randperm(n)),
        ("multinomial 64x1000 k=1", lambda: ember.multinomial(probs_e, 1), lambda: torch.multinomial(probs_t, 1)),
        ("nn.Linear(1024, 1024) init", lambda: ember.nn.Linear(1024, 1024), lambda: torch.nn.Linear(1024, 1024)),
        ("randn(3) (call overhead)", lambda: ember.randn(3), lambda: torch.randn(3)),
    ]
