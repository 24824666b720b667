"""Grad modes: whether ops record the graph (no_grad, enable_grad, set_grad_enabled, inference_mode)."""
import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "set_multithreading_enabled", "enforce_grad_layout_policy",
           "is_multithreading_enabled", "is_view_replay_enabled"]


class AutogradFlags:
    """Process-wide autograd switches (global in PyTorch too): written and read on this class, so every thread
    sees one value."""
    anomaly = False
    anomaly_check_nan = True
    volatile_used = False  # set once a Variable(volatile=True) exists; see autograd.variable


class _GradModeState(threading.local, AutogradFlags):
    """The grad-mode switches read on every op, one set per thread as in PyTorch.

    ``enabled`` and ``inference`` are set per thread; the class attributes are
    the defaults a new thread starts with (grad on, inference off).  The
    process-wide ``AutogradFlags`` are inherited for reading only (hot paths
    read ``AutogradFlags`` itself, which is faster than a thread-local lookup).
    """
    enabled = True
    inference = False
    multithreading = True       # backward on per-device worker threads (ember's engine always runs on the caller)
    grad_layout_enforced = True  # accumulated grads take their parameter's strides (ember's are always row-major)
    view_replay = False         # views re-made by replaying their op instead of as_strided (no public setter)


GradMode = _GradModeState()


def is_grad_enabled():
    """True when ops record a graph for autograd."""
    return GradMode.enabled


def is_inference_mode_enabled():
    """True inside ``inference_mode()``."""
    return GradMode.inference


def is_multithreading_enabled():
    """True unless ``set_multithreading_enabled(False)`` is in effect in this thread."""
    return GradMode.multithreading


def is_view_replay_enabled():
    """Whether views are recreated by replaying their view op in this thread (False: ember keeps the view)."""
    return GradMode.view_replay


def _checked_bool(mode, setter):
    """``mode`` when it is a bool; PyTorch's TypeError otherwise (its switches take no truthy stand-ins)."""
    if not isinstance(mode, bool):
        raise TypeError(f"{setter}(): argument 'enabled' (position 1) must be bool, not {type(mode).__name__}")
    return mode


class _GradModeContext:
    """Base of the grad-mode context managers; each is also usable as a decorator."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError(f"{type(self).__name__} can't be used as a class decorator")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as exc:
                            with self.clone():
                                response = gen.throw(exc)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as stop:   # the wrapped generator finished: finish too, with its value
                    return stop.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_GradModeContext):
    """Context manager / decorator that turns graph recording off inside its block."""

    def __init__(self, orig_func=None):
        # ``@no_grad`` without parentheses passes the function here
        self._orig = orig_func

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None and callable(orig_func):
            self.__init__()
            return self(orig_func)
        return self

    def __enter__(self):
        self.prev = GradMode.enabled
        GradMode.enabled = False

    def __exit__(self, *exc):
        GradMode.enabled = self.prev
        return False


class enable_grad(_GradModeContext):
    """Context manager / decorator that turns graph recording on inside its block."""

    def __enter__(self):
        self.prev = GradMode.enabled
        GradMode.enabled = True

    def __exit__(self, *exc):
        GradMode.enabled = self.prev
        return False


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off (``mode``); takes effect at once, and also works as a context manager."""

    def __init__(self, mode):
        self.prev = GradMode.enabled
        self.mode = bool(mode)
        GradMode.enabled = self.mode

    def __enter__(self):
        GradMode.enabled = self.mode

    def __exit__(self, *exc):
        GradMode.enabled = self.prev
        return False

    def clone(self):
        return type(self)(self.mode)


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (``mode=True``) and marks the block as inference: tensors made in it are inference tensors
    (``Tensor.is_inference``); ``mode=False`` turns inference mode off and grad mode on inside the block."""

    def __init__(self, mode=True):
        self.mode = mode

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode) and not isinstance(mode, bool):
            self.__init__()
            return self(mode)
        return self

    def __enter__(self):
        from .._tensor import track_inference_mode
        self.prev = (GradMode.enabled, GradMode.inference)
        # inference_mode(False) turns inference mode off and grad mode on, even inside no_grad, as PyTorch's does
        GradMode.enabled, GradMode.inference = (False, True) if self.mode else (True, False)
        if self.mode:
            track_inference_mode(True)

    def __exit__(self, *exc):
        GradMode.enabled, GradMode.inference = self.prev
        if self.mode:
            from .._tensor import track_inference_mode
            track_inference_mode(False)
        return False

    def clone(self):
        return type(self)(self.mode)


class _FlagContext(_GradModeContext):
    """Set one per-thread ``GradMode`` switch at once (as a function) and restore it when a ``with`` block or a
    decorated call ends."""
    _flag = _setter = None

    def __init__(self, mode):
        self.prev = getattr(GradMode, self._flag)
        self.mode = _checked_bool(mode, self._setter)
        setattr(GradMode, self._flag, mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        setattr(GradMode, self._flag, self.prev)
        return False

    def clone(self):
        return type(self)(self.mode)


class set_multithreading_enabled(_FlagContext):
    """Allow (``mode=True``, the default state) or forbid backward on per-device worker threads, in this thread.

    Works as a function and as a context manager. ember's engine always runs backward on the calling thread, so
    the switch changes only what ``is_multithreading_enabled()`` reports.
    """
    _flag, _setter = "multithreading", "set_multithreading_enabled"

    def __init__(self, mode):
        super().__init__(mode)


class enforce_grad_layout_policy(_FlagContext):
    """Enforce (``enable=True``, the default state) or relax the contract that an accumulated ``.grad`` has its
    parameter's strides, in this thread. Works as a function and as a context manager; ember's gradients are
    always row-major, so relaxing it changes nothing else."""
    _flag, _setter = "grad_layout_enforced", "set_grad_layout_enforcement_enabled"

    def __init__(self, enable=True):
        super().__init__(enable)
