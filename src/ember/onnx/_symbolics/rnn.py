"""Symbolic of ember's fused recurrent layer (``ember.ops.rnn_ops.rnn_layer``): one ONNX LSTM, GRU or RNN
node per layer and direction, with PyTorch's gate order rearranged into ONNX's."""
import numpy

from .._registry import symbolic
from ..errors import SymbolicValueError
from ._util import arg, axes_op

# ONNX's gate order, as indices into PyTorch's: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h
_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}
_NODE = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _gates(g, w, order):
    """``w`` (PyTorch's gate blocks stacked on dim 0) with its blocks in ONNX order, plus a leading
    num_directions axis."""
    if len(order) > 1:
        n = w.shape[0] // len(order)
        parts = g.op("Split", w, g.ints([n] * len(order)), axis=0, outputs=len(order))
        w = g.op("Concat", *[parts[i] for i in order], axis=0)
    return axes_op(g, "Unsqueeze", w, [0])


def _initial(g, t):
    """The initial state as (1, B, H), or None when it is the zeros ONNX assumes anyway."""
    if t is None:
        return None
    if g.is_literal(t) and not bool(numpy.any(t.detach().cpu().numpy())):
        return None
    return axes_op(g, "Unsqueeze", g.v(t), [0])


@symbolic("aten::rnn_layer")
def rnn_layer(g, call):
    mode = arg(call, "mode")
    if arg(call, "batch_sizes") is not None:
        raise SymbolicValueError(f"packed sequences cannot be exported (in {call.scope})")
    if arg(call, "w_hr") is not None:
        raise SymbolicValueError(f"an LSTM with proj_size has no ONNX LSTM equivalent (in {call.scope})")
    order = _ORDER[mode]
    x = g.v(arg(call, "input"))
    w_ih, w_hh = g.v(arg(call, "w_ih")), g.v(arg(call, "w_hh"))
    hidden = w_hh.shape[1]
    W, R = _gates(g, w_ih, order), _gates(g, w_hh, order)
    b_ih, b_hh = arg(call, "b_ih"), arg(call, "b_hh")
    B = None
    if b_ih is not None:
        B = g.op("Concat", _gates(g, g.v(b_ih), order), _gates(g, g.v(b_hh), order), axis=1)
    h0 = _initial(g, arg(call, "hx"))
    attrs = dict(hidden_size=hidden, direction="reverse" if arg(call, "reverse") else "forward")
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    if mode.startswith("RNN"):
        attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"]
    if mode == "LSTM":
        c0 = _initial(g, arg(call, "cx"))
        y, yh, yc = g.op("LSTM", x, W, R, B, None, h0, c0, outputs=3, **attrs)
        return axes_op(g, "Squeeze", y, [1]), axes_op(g, "Squeeze", yh, [0]), axes_op(g, "Squeeze", yc, [0])
    y, yh = g.op(_NODE[mode], x, W, R, B, None, h0, outputs=2, **attrs)
    return axes_op(g, "Squeeze", y, [1]), axes_op(g, "Squeeze", yh, [0])


