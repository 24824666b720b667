"""Custom autograd.Function (every ctx feature) and gradcheck/gradgradcheck, against torch."""
import numpy as np
import pytest
import torch

import ember
from parity import assert_same, check_raises

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((3, 4))


def make_functions(lib):
    """The same custom Functions written against ``lib`` (ember or torch)."""
    F = lib.autograd.Function

    class Cube(F):
        @staticmethod
        def forward(ctx, x, scale):              # a non-tensor argument
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.scale, None

    class MulAdd(F):
        @staticmethod
        def forward(x, y, alpha):                # separate setup_context
            return x * y + alpha

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, y, _ = inputs
            ctx.save_for_backward(x, y)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            gx = g * y if ctx.needs_input_grad[0] else None
            gy = g * x if ctx.needs_input_grad[1] else None
            return gx, gy, None

    class SortWithIndices(F):    # row maxima and their (integer, non-differentiable) positions
        @staticmethod
        def forward(ctx, x):
            values, idx = x.max(dim=-1)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            ctx.shape = x.shape
            return values, idx

        @staticmethod
        def backward(ctx, g_values, g_idx):
            (idx,) = ctx.saved_tensors
            out = lib.zeros(ctx.shape, dtype=g_values.dtype)
            return out.scatter(-1, idx.unsqueeze(-1), g_values.unsqueeze(-1))

    class AddOneInPlace(F):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    class TwoOutputs(F):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            total = None
            if g1 is not None:
                total = g1 * 2
            if g2 is not None:
                total = g2 * 3 if total is None else total + g2 * 3
            return total

    class TwoOutputsMaterialized(F):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            return g1 * 2 + g2 * 3

    class Once(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.exp()

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.exp()

    class Passthrough(F):
        @staticmethod
        def forward(ctx, x):
            return x                       # returning an input unchanged

        @staticmethod
        def backward(ctx, g):
            return g * 5

    class WrongCount(F):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    return dict(Cube=Cube, MulAdd=MulAdd, Sort=SortWithIndices, AddOne=AddOneInPlace, Two=TwoOutputs,
                TwoM=TwoOutputsMaterialized, Once=Once, Pass=Passthrough, Wrong=WrongCount)


FE, FT = make_functions(ember), make_functions(torch)


def leaves(*arrays):
    return ([ember.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def test_forward_backward_non_tensor_args_and_names():
    (xe,), (xt,) = leaves(A)
    ye, yt = FE["Cube"].apply(xe, 0.5), FT["Cube"].apply(xt, 0.5)
    assert_same(ye, yt)
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__ == "CubeBackward"
    assert ye.grad_fn.next_functions[0][0].variable is xe
    assert len(ye.grad_fn.next_functions) == len(yt.grad_fn.next_functions)
    ye.sum().backward()
    yt.sum().backward()
    assert_same(xe.grad, xt.grad)
    assert repr(ye).endswith("grad_fn=<CubeBackward>)") and repr(ye) == repr(yt)


def test_setup_context_and_needs_input_grad():
    xe, xt = ember.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    ye, yt = ember.tensor(B), torch.tensor(B)
    oe, ot = FE["MulAdd"].apply(xe, ye, 2.0), FT["MulAdd"].apply(xt, yt, 2.0)
    assert_same(oe, ot)
    assert oe.grad_fn.needs_input_grad == ot.grad_fn.needs_input_grad == (True, False, False)
    oe.sum().backward()
    ot.sum().backward()
    assert_same(xe.grad, xt.grad)


def test_mark_non_differentiable_and_integer_outputs():
    (xe,), (xt,) = leaves(A)
    ve, ie = FE["Sort"].apply(xe)
    vt, it = FT["Sort"].apply(xt)
    assert_same((ve, ie), (vt, it))
    assert not ie.requires_grad and not it.requires_grad
    assert ve.requires_grad
    (ve * ember.tensor(B[:, 0])).sum().backward()
    (vt * torch.tensor(B[:, 0])).sum().backward()
    assert_same(xe.grad, xt.grad)


def test_mark_dirty():
    (xe,), (xt,) = leaves(A)
    ae, at = xe * 1, xt * 1
    re, rt = FE["AddOne"].apply(ae), FT["AddOne"].apply(at)
    assert re is ae and rt is at
    assert ae._version_count == at._version == 2   # the op's own bump plus mark_dirty's
    assert type(re.grad_fn).__name__ == type(rt.grad_fn).__name__
    assert_same(re, rt)
    (re * 2).sum().backward()
    (rt * 2).sum().backward()
    assert_same(xe.grad, xt.grad)
    # in place on a leaf that requires grad is refused
    check_raises(lambda: FE["AddOne"].apply(ember.ones(2, requires_grad=True)),
                 lambda: FT["AddOne"].apply(torch.ones(2, requires_grad=True)))


@pytest.mark.parametrize("materialize", [False, True])
def test_set_materialize_grads(materialize):
    key = "TwoM" if materialize else "Two"
    (xe,), (xt,) = leaves(A)
    ae, be = FE[key].apply(xe)
    at, bt = FT[key].apply(xt)
    ae.sum().backward()   # only the first output is used
    at.sum().backward()
    assert ae.grad_fn.seen == at.grad_fn.seen == (False, materialize is False)
    assert_same(xe.grad, xt.grad)


def test_once_differentiable():
    (xe,), (xt,) = leaves(A)
    ye, yt = FE["Once"].apply(xe), FT["Once"].apply(xt)
    (ge,) = ember.autograd.grad(ye.sum(), xe, create_graph=True)
    (gt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
    assert_same(ge, gt)
    assert ge.requires_grad == gt.requires_grad
    # differentiating through a once_differentiable backward raises, in torch as in ember
    check_raises(lambda: ge.sum().backward(), lambda: gt.sum().backward())


def test_returning_an_input_and_none_gradients():
    (xe,), (xt,) = leaves(A)
    ye, yt = FE["Pass"].apply(xe), FT["Pass"].apply(xt)
    assert ye is not xe and yt is not xt
    assert_same(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    assert_same(xe.grad, xt.grad)
    # without grad recording the function just runs
    with ember.no_grad():
        assert not FE["Cube"].apply(xe, 1.0).requires_grad
    assert not FE["Cube"].apply(ember.tensor(A), 1.0).requires_grad


def test_wrong_number_of_gradients():
    (xe, ye), (xt, yt) = leaves(A, B)
    exc = check_raises(lambda: FE["Wrong"].apply(xe, ye).sum().backward(),
                       lambda: FT["Wrong"].apply(xt, yt).sum().backward())
    assert "incorrect number of gradients" in str(exc)


def test_double_backward_through_custom_function():
    (xe,), (xt,) = leaves(A)
    ye, yt = FE["Cube"].apply(xe, 2.0), FT["Cube"].apply(xt, 2.0)
    (ge,) = ember.autograd.grad(ye.sum(), xe, create_graph=True)
    (gt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
    (hge,) = ember.autograd.grad(ge.sum(), xe)
    (hgt,) = torch.autograd.grad(gt.sum(), xt)
    assert_same(hge, hgt)


def test_saved_tensor_version_check_in_custom_function():
    (xe,), (xt,) = leaves(A)
    ae, at = xe * 1, xt * 1
    ye, yt = FE["Cube"].apply(ae, 1.0), FT["Cube"].apply(at, 1.0)
    ae.add_(1)
    at.add_(1)
    exc = check_raises(lambda: ye.sum().backward(), lambda: yt.sum().backward())
    assert "modified by an inplace operation" in str(exc)
    ye2 = FE["Cube"].apply(xe * 1, 1.0)
    ye2.sum().backward()
    exc = check_raises(lambda: ye2.sum().backward(), lambda: None if False else (_ for _ in ()).throw(RuntimeError()))
    assert "second time" in str(exc)


def test_save_for_backward_rejects_non_tensors():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    class BadT(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g
    check_raises(lambda: Bad.apply(ember.ones(2, requires_grad=True)),
                 lambda: BadT.apply(torch.ones(2, requires_grad=True)))


# ------------------------------------------------------------------ gradcheck / gradgradcheck
def test_gradcheck_passes_and_fails():
    x = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = ember.tensor(rng.standard_normal((3,)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: (a * b).tanh().sum(1), (x, y))
    assert ember.autograd.gradcheck(lambda a: FE["Cube"].apply(a, 0.7), (x,))
    assert ember.autograd.gradgradcheck(lambda a, b: (a.exp() * b).sum(), (x, y))
    assert ember.autograd.gradgradcheck(lambda a: FE["Cube"].apply(a, 0.7), (x,))

    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * a

        @staticmethod
        def backward(ctx, g):
            return g * 3.0

    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Wrong.apply, (x,))
    assert ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False
    with pytest.raises(ValueError):
        ember.autograd.gradcheck(lambda a: a * 2, (ember.ones(2, dtype=ember.float64),))


def test_gradgradcheck_detects_wrong_second_derivative():
    class WrongSecond(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * 3 * a.detach() ** 2   # right first derivative, cut graph: second derivative wrong

    x = ember.tensor(rng.standard_normal((4,)), requires_grad=True)
    assert ember.autograd.gradcheck(WrongSecond.apply, (x,))
    assert ember.autograd.gradgradcheck(WrongSecond.apply, (x,), raise_exception=False) is False
