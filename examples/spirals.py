"""A small end-to-end training run: a 2-layer MLP learns to separate three interleaved spirals.

Uses only tensors and autograd (nn and optim are built on the same two layers).
Run with ``python examples/spirals.py``; the printed loss falls and the accuracy rises.
"""
import math

import ember as torch


def spirals(n_per_class=200, classes=3, generator=None):
    """Points on ``classes`` noisy spiral arms in the plane and their arm labels."""
    xs, ys = [], []
    for c in range(classes):
        r = torch.linspace(0.05, 1.0, n_per_class)
        theta = torch.linspace(c * 2 * math.pi / classes, c * 2 * math.pi / classes + 4.0, n_per_class)
        theta = theta + torch.randn(n_per_class, generator=generator) * 0.2
        xs.append(torch.stack([r * theta.sin(), r * theta.cos()], dim=1))
        ys.append(torch.full((n_per_class,), c, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


def main():
    g = torch.Generator().manual_seed(0)
    x, y = spirals(generator=g)
    w1 = (torch.randn(2, 64, generator=g) * 0.5).requires_grad_()
    b1 = torch.zeros(64, requires_grad=True)
    w2 = (torch.randn(64, 3, generator=g) * 0.1).requires_grad_()
    b2 = torch.zeros(3, requires_grad=True)
    params = [w1, b1, w2, b2]
    lr = 0.5
    for step in range(1, 1001):
        logits = (x @ w1 + b1).tanh() @ w2 + b2
        # cross-entropy written out: logsumexp minus the logit of the true class
        loss = (logits.logsumexp(1) - logits.gather(1, y.unsqueeze(1)).squeeze(1)).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        if step % 100 == 0 or step == 1:
            acc = (logits.argmax(1) == y).float().mean().item()
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
