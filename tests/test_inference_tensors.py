"""Inference tensors: those made inside inference_mode (and views of them), as torch.is_inference reports."""
import threading

import numpy as np
import pytest
import torch

import ember


def _cases(lib):
    normal = lib.ones(2)
    with lib.inference_mode():
        made = [lib.ones(2), lib.ones(2) + 1, lib.tensor([1.]), lib.from_numpy(np.ones(2)), normal * 2]
        in_block_views = [normal[0:1], normal.add_(1)]
        view_of_inference = made[0][1:]
        with lib.inference_mode(False):
            nested_off = lib.ones(1)
    after = [made[0] + 1, made[0].clone(), made[0][0:1], lib.ones(1), view_of_inference]
    with lib.no_grad():
        under_no_grad = lib.ones(1)
    return ([t.is_inference() for t in made + in_block_views + after]
            + [lib.is_inference(under_no_grad), lib.is_inference(nested_off)])


def test_is_inference_as_torch():
    assert _cases(ember) == _cases(torch)


def test_decorator_and_other_threads():
    @ember.inference_mode()
    def make():
        return ember.zeros(1)

    assert make().is_inference() and not ember.zeros(1).is_inference()
    outside = []
    started, release = threading.Event(), threading.Event()

    def worker():
        started.wait()
        outside.append(ember.zeros(1))
        release.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with ember.inference_mode():
        started.set()
        release.wait()
        inside = ember.zeros(1)
    thread.join()
    assert (outside[0].is_inference(), inside.is_inference()) == (False, True)


def test_is_inference_needs_a_tensor():
    for lib in (ember, torch):
        with pytest.raises(TypeError, match=r"is_inference\(\): argument 'input' \(position 1\) must be Tensor, not list"):
            lib.is_inference([1])


def test_inference_mode_false_turns_grad_on():
    for lib in (ember, torch):
        states = []
        for outer in (lib.inference_mode(), lib.no_grad()):
            with outer, lib.inference_mode(False):
                states.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        assert states == [(True, False), (True, False)]
