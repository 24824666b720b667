"""A stack of unidirectional recurrent layers as one op, its layers run as a wavefront on two threads.

A layer's recurrence is a chain of small products (20x256 @ 256x1024 in the LSTM language model), each
too small for a second BLAS thread to pay.  But layer ``l + 1`` at step ``t`` only needs layer ``l``'s
output at step ``t``: so layer ``l`` runs on one thread and layer ``l + 1`` on the other, a chunk of steps
behind, each with BLAS on one thread (layer ``l`` on thread ``l % 2``).  Backward runs the same way from
the top layer down, each layer's input gradient handed to the layer below chunk by chunk.

Each layer's arithmetic is ``rnn_ops``' (``layer_forward`` / ``layer_backward``); this module only
decides who runs what when.  While the machine's cores are busy with other work (``parallel_ok``) or
BLAS is set to one thread, the layers run one after another on the calling thread.
"""
import threading

from ._block_threads import blas_single, block_threads, executor, parallel_ok, timed_parallel
from ._common import module_of_array, GradMode, _make, record
from .rnn_ops import (_FusedRnnNode, _check_dtypes, _composed, _grad_through, _need, _packed_rows, _rows,
                      _schedule, layer_backward, layer_forward)

_CHUNK_ROWS = 64     # rows per chunk of steps: the lag of one layer behind the other, and the input GEMM's height


class _FeedFailed(RuntimeError):
    """The layer feeding this one raised; its own exception is the one reported."""


class _Progress:
    """How many steps (in processing order) a layer has finished, for the layer that follows it."""

    __slots__ = ("done", "failed", "_cond")

    def __init__(self):
        self.done, self.failed = 0, False
        self._cond = threading.Condition()

    def publish(self, k):
        with self._cond:
            self.done = k
            self._cond.notify_all()

    def fail(self):
        with self._cond:
            self.failed = True
            self._cond.notify_all()

    def wait(self, k):
        if self.done >= k:
            return
        with self._cond:
            while self.done < k:
                if self.failed:
                    raise _FeedFailed("the recurrent layer feeding this one failed")
                self._cond.wait()


class _Wave:
    """One layer's place in a wavefront: its steps in chunks.  Before a chunk it waits until ``feed`` (the
    layer before, or None) has finished that chunk and calls ``enter(r0, r1)``; after it, ``leave(r0, r1)``,
    then publishes to ``progress`` (None for the last layer).  ``(r0, r1)``: the chunk's packed rows.
    ``dX``: in backward, the buffer this layer's input gradient goes to for the layer below (or None)."""

    __slots__ = ("feed", "progress", "enter", "leave", "dX", "_first", "_last")

    def __init__(self, steps, feed, progress):
        self.feed, self.progress = feed, progress
        self.enter = self.leave = self.dX = None
        per = max(1, _CHUNK_ROWS // max(1, steps[0][1] - steps[0][0]))
        self._first, self._last = {}, {}
        for k0 in range(0, len(steps), per):
            k1 = min(k0 + per, len(steps))
            chunk = (k1, min(r0 for r0, _ in steps[k0:k1]), max(r1 for _, r1 in steps[k0:k1]))
            self._first[k0] = self._last[k1 - 1] = chunk

    def before(self, k):
        chunk = self._first.get(k)
        if chunk is not None:
            if self.feed is not None:
                self.feed.wait(chunk[0])
            if self.enter is not None:
                self.enter(chunk[1], chunk[2])

    def after(self, k):
        chunk = self._last.get(k)
        if chunk is not None:
            if self.leave is not None:
                self.leave(chunk[1], chunk[2])
            if self.progress is not None:
                self.progress.publish(chunk[0])


def _waves(n, steps):
    """``n`` waves chained in order (wave ``i`` fed by wave ``i - 1``)."""
    progress = [_Progress() for _ in range(n)]
    return [_Wave(steps, progress[i - 1] if i else None, progress[i] if i < n - 1 else None) for i in range(n)]


def _parallel(array):
    """Whether a stack on ``array``'s device runs as a wavefront now."""
    return type(array).__module__ == "numpy" and block_threads() >= 2 and parallel_ok()


def _run(jobs, waves):
    """Run ``jobs`` (job ``i`` on thread ``i % 2``: the caller and one pool worker) with BLAS on one thread.
    A job that raises fails every wave, so no job waits forever; the first real exception is raised."""
    def guarded(i):
        try:
            jobs[i]()
        except BaseException:
            for w in waves:
                if w.progress is not None:
                    w.progress.fail()
            raise

    def worker():
        for i in range(1, len(jobs), 2):
            guarded(i)

    err = None
    with blas_single(), timed_parallel(2):
        future = executor().submit(worker)
        try:
            for i in range(0, len(jobs), 2):
                guarded(i)
        except BaseException as e:   # noqa: BLE001 - re-raised below, after the worker has stopped
            err = e
        try:
            future.result()
        except BaseException as e:   # noqa: BLE001
            if err is None or isinstance(err, _FeedFailed):
                err = e
    if err is not None:
        raise err


class RnnStackBackward0(_FusedRnnNode):
    """Backward of ``rnn_stack``: outputs (output, h_n, c_n), or (output, h_n) without a cell state."""

    def backward(self, dout, dhn, dcn=None):
        ins = self.saved_tensors
        x, hx, cx = ins[:3]
        layers = [ins[3 + 5 * i:8 + 5 * i] for i in range(self.num_layers)]
        self._check_output_version()
        if GradMode.enabled:                       # create_graph: differentiate the composed layers
            return _grad_through(ins, _composed_stack(self.mode, x, hx, cx, layers, self.steps), (dout, dhn, dcn))
        states, L, B = self.state, self.num_layers, hx._data.shape[1]
        D = lambda t: t._data if t is not None else None  # noqa: E731
        for i, (w_ih, w_hh, b_ih, b_hh, _) in enumerate(layers):
            need = _need(x, w_ih, w_hh, b_ih, b_hh)
            states[i].need = need if i == 0 else (True,) + need[1:]    # a layer above always passes its input's down
        parallel = _parallel(hx._data)
        top_down = list(reversed(range(L)))
        waves = _waves(L, list(reversed(self.steps))) if parallel else [None] * L
        order = {i: waves[L - 1 - i] for i in range(L)}     # layer i's wave: the top layer goes first
        douts = [None] * L
        douts[L - 1] = _rows(dout)
        if parallel:
            xp = module_of_array(hx._data)
            for i in range(1, L):
                st = states[i]
                douts[i - 1] = order[i].dX = xp.empty(st.X.shape, dtype=st.X.dtype)
        results = [None] * L

        def job(i):
            w_ih, w_hh, _, _, w_hr = layers[i]
            results[i] = layer_backward(self.mode, states[i], w_ih._data, w_hh._data, D(w_hr), douts[i],
                                        D(dhn)[i] if dhn is not None else None,
                                        D(dcn)[i] if dcn is not None else None, B, order[i])
            if not parallel and i > 0:
                douts[i - 1] = results[i][0]

        if parallel:
            _run([(lambda i=i: job(i)) for i in top_down], waves)
        else:
            for i in top_down:
                job(i)
        xp = module_of_array(hx._data)
        dX = results[0][0]
        grads = [_make(dX.reshape(x._data.shape)) if x._requires_grad and dX is not None else None,
                 _make(xp.stack([r[1] for r in results])) if hx._requires_grad else None,
                 _make(xp.stack([r[2] for r in results])) if cx is not None and cx._requires_grad else None]
        for tensors, r in zip(layers, results):
            grads.extend(_make(a) if t is not None and t._requires_grad and a is not None else None
                         for t, a in zip(tensors, r[3:]))
        return tuple(grads)


def _composed_stack(mode, x, hx, cx, layers, steps):
    """The stack written with differentiable ember ops (create_graph): ``(output, h_n, c_n)``."""
    from .joining import stack
    h = x.reshape(-1, x.shape[-1]) if x.ndim == 3 else x
    hs, cs = [], []
    for i, params in enumerate(layers):
        h, hn, cn = _composed(mode, h, hx[i], cx[i] if cx is not None else None, *params, steps, None)
        hs.append(hn)
        cs.append(cn)
    return h, stack(hs), (stack(cs) if cx is not None else None)


def rnn_stack(mode, input, hx, cx, layers, batch_sizes=None):
    """All layers of a unidirectional multi-layer recurrent network (no dropout between them) as one
    differentiable op.

    Args:
        mode: ``'LSTM'``, ``'GRU'``, ``'RNN_TANH'`` or ``'RNN_RELU'``.
        input: ``(T, B, I)``, or packed data ``(N, I)`` when ``batch_sizes`` is given.
        hx: ``(L, B, H_out)`` initial hidden states; cx: ``(L, B, H)`` initial cell states (LSTM) or None.
        layers: per layer ``(w_ih, w_hh, b_ih, b_hh, w_hr)`` in PyTorch's layout (biases, ``w_hr`` may be None).
        batch_sizes: a list of ints (the packed layout's active rows per step), or None.

    Returns ``(output, h_n, c_n)``: output ``(T, B, H_out)`` (or ``(N, H_out)`` packed), ``h_n`` ``(L, B, H_out)``,
    ``c_n`` ``(L, B, H)`` (None except for LSTM).
    """
    x = input._data
    X, batch_sizes = _packed_rows(x, batch_sizes)
    for w_ih, w_hh, *_ in layers:
        _check_dtypes(input, hx, w_ih, w_hh)
    params = (input, hx, cx) + tuple(t for layer in layers for t in layer)
    keep = GradMode.enabled and any(t is not None and t._requires_grad for t in params)
    steps = _schedule(batch_sizes, False)
    L = len(layers)
    A = lambda t: t._data if t is not None else None  # noqa: E731
    xp = module_of_array(X)
    parallel = L > 1 and _parallel(X)
    waves = _waves(L, steps) if parallel else [None] * L
    outs = [None] * L
    if parallel:        # the buffers each layer fills and the next one reads, chunk by chunk
        outs = [xp.empty((X.shape[0], layer[1].shape[1] if layer[4] is None else layer[4].shape[0]), dtype=X.dtype)
                for layer in layers]
    results = [None] * L

    def job(i):
        w_ih, w_hh, b_ih, b_hh, w_hr = layers[i]
        Xi = X if i == 0 else outs[i - 1] if parallel else results[i - 1][0]
        results[i] = layer_forward(mode, Xi, hx._data[i], A(cx)[i] if cx is not None else None, w_ih._data,
                                   w_hh._data, A(b_ih), A(b_hh), A(w_hr), steps, keep, waves[i], outs[i])

    if parallel:
        _run([(lambda i=i: job(i)) for i in range(L)], waves)
    else:
        for i in range(L):
            job(i)
    out = results[-1][0]
    if x.ndim == 3:
        out = out.reshape(x.shape[0], x.shape[1], out.shape[-1])
    o, h = _make(out), _make(xp.stack([r[1] for r in results]))
    c = _make(xp.stack([r[2] for r in results])) if mode == "LSTM" else None
    node = record((o, h, c) if c is not None else (o, h), RnnStackBackward0, params, params)
    if node is not None:
        node.mode, node.num_layers, node.steps = mode, L, steps
        node.state, node.out_version = [r[3] for r in results], (o._version, 0)
    return o, h, c
