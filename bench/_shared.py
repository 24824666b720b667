"""Helpers the benchmark modules share."""


def copy_weights(em, tm):
    """Load torch module ``tm``'s parameters and buffers into the ember module ``em`` (same architecture), so both
    sides do the same arithmetic."""
    import ember
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})


def classifier_steps(make, x, y):
    """Training steps of the model ``make(lib)`` builds, on both sides: cross-entropy on the NumPy batch ``x``,
    ``y``, SGD with lr 0.01 and momentum 0.9, ember's weights copied from torch's.

    Returns ``(ember_step, torch_step, ember_model, torch_model)``; a step is zero_grad, forward, loss, backward,
    optimizer step.
    """
    import ember
    import ember.optim  # noqa: F401
    import torch
    tm, em = make(torch), make(ember)
    copy_weights(em, tm)

    def steps(lib, model):
        crit = lib.nn.CrossEntropyLoss()
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        xb, yb = lib.tensor(x), lib.tensor(y)

        def step():
            opt.zero_grad()
            loss = crit(model(xb), yb)
            loss.backward()
            opt.step()
            return loss
        return step

    return steps(ember, em), steps(torch, tm), em, tm
