"""segment_reduce against torch: every reduction, empty segments, initial, offsets, batched lengths, gradients."""
import numpy as np
import pytest
import torch

import ember
from devices import TABLE_DEVICES
from parity import check_op

rng = np.random.default_rng(17)
D1 = rng.standard_normal(7)
D3 = rng.standard_normal((2, 6, 3))
L1 = np.array([2, 0, 3, 1, 1])
L2 = np.array([[2, 4], [3, 3]])


def row(name, fn, args):
    return pytest.param(fn, args, id=name)


ROWS = [row(f"{r}_lengths", lambda m, d, r=r: m.segment_reduce(d, r, lengths=m.tensor(L1)), (D1,))
        for r in ("sum", "mean", "max", "min", "prod")]
ROWS += [row(f"{r}_initial", lambda m, d, r=r: m.segment_reduce(d, r, lengths=m.tensor(L1), initial=0.5), (D1,))
         for r in ("sum", "mean", "max", "min", "prod")]
ROWS += [
    row("offsets", lambda m, d: m.segment_reduce(d, "sum", offsets=m.tensor([0, 2, 2, 5, 6, 7])), (D1,)),
    row("axis1_batched_lengths", lambda m, d: m.segment_reduce(d, "max", lengths=m.tensor(L2), axis=1), (D3,)),
    row("axis0_trailing_dims", lambda m, d: m.segment_reduce(d, "mean", lengths=m.tensor([1, 1])), (D3,)),
]


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("fn,args", ROWS)
def test_row(fn, args, device):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *args, device=device)


@pytest.mark.parametrize("kwargs", [dict(reduce="bad", lengths=[2, 0, 3, 1, 1]), dict(reduce="sum", lengths=[2, 2])])
def test_errors_match_torch(kwargs):
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as exc:
            lib.segment_reduce(lib.tensor(D1), kwargs["reduce"], lengths=lib.tensor(kwargs["lengths"]))
        msgs.append(str(exc.value))
    assert msgs[0] == msgs[1]
