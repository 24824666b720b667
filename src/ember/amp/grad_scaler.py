"""GradScaler: loss scaling for mixed-precision training.

The scaler multiplies the loss by a scale factor before ``backward()`` so that small float16
gradients do not underflow, divides the gradients by it again before the optimizer step, skips
steps whose gradients overflowed (inf/NaN) and adapts the scale: it shrinks it after an overflow
and grows it after ``growth_interval`` clean steps.

On ``device='cpu'`` and on ``'cuda'`` with a GPU this is a working scaler, exactly like PyTorch's
(its scale is a 0-d CPU tensor, which multiplies CUDA losses as a scalar).  Without a GPU a scaler
for ``'cuda'`` (the default device, as in PyTorch) warns and disables itself; a disabled scaler
passes losses through unscaled and calls ``optimizer.step()`` directly -- which is what a CUDA
training script running on a CPU-only machine needs.
"""
import inspect
import warnings
from collections import abc, defaultdict
from enum import Enum

import ember
from ..ops import optim_kernels as K

__all__ = ["OptState", "GradScaler"]


class OptState(Enum):
    """Where an optimizer is in the scaler's per-iteration cycle."""
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """Scale losses, unscale gradients, skip overflowing steps and adapt the scale.

    Typical use::

        scaler = ember.amp.GradScaler("cpu")
        for x, y in loader:
            optimizer.zero_grad()
            with ember.autocast("cpu", dtype=ember.bfloat16):
                loss = loss_fn(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)      # unscales, then steps unless a grad is inf/NaN
            scaler.update()

    Args:
        device (str): device type of the tensors to scale (default: ``'cuda'``, which ember
            does not have: the scaler then warns and is disabled).
        init_scale (float): initial scale factor (default: 2.0**16).
        growth_factor (float): factor applied to the scale after ``growth_interval``
            consecutive steps without overflow, > 1 (default: 2.0).
        backoff_factor (float): factor applied to the scale after an overflow, < 1
            (default: 0.5).
        growth_interval (int): clean steps between growths (default: 2000).
        enabled (bool): if False every method is a pass-through (default: True).
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if self._device == "cuda" and enabled and not ember.cuda.is_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname):
        fix = ("This may indicate your script did not use scaler.scale(loss or outputs) earlier "
               "in the iteration.")
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self):
        if self._growth_tracker is not None:
            raise AssertionError("_growth_tracker initialized before _scale")
        self._scale = ember.full((), self._init_scale, dtype=ember.float32)
        self._growth_tracker = ember.full((), self._init_growth_tracker, dtype=ember.int32)

    def scale(self, outputs):
        """Multiply ``outputs`` by the scale factor.

        Args:
            outputs (Tensor or iterable of Tensors): typically the loss.

        Returns:
            The scaled tensor(s), in the same structure (unchanged when disabled).
        """
        if not self._enabled:
            return outputs

        def apply_scale(val):
            if isinstance(val, ember.Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker()
                return val * self._scale
            if isinstance(val, abc.Iterable):
                scaled = map(apply_scale, val)
                if isinstance(val, (list, tuple)):
                    return type(val)(scaled)
                return scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        grads = []
        with ember.no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if not isinstance(param, ember.Tensor):
                        raise AssertionError(
                            f"expected param to be torch.Tensor, got {type(param).__name__}")
                    if param.grad is None:
                        continue
                    if not allow_fp16 and param.grad.dtype == ember.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    grads.append(param.grad)
            if K.amp_non_finite_check_and_unscale_([g._data for g in grads], float(inv_scale)):
                found_inf.fill_(1.0)
            for g in grads:
                g._version[0] += 1
        return {ember.device("cpu"): found_inf} if grads else {}

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale factor, in place.

        Call it between ``backward()`` and :meth:`step` to work on true gradients (e.g. to clip
        them); :meth:`step` then does not unscale again.  At most once per optimizer per
        iteration.

        Args:
            optimizer (Optimizer): the optimizer owning the gradients.
        """
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = ember.full((), 1.0 / float(self._scale.item()), dtype=ember.float32)
        found_inf = ember.full((), 0.0, dtype=ember.float32)
        optimizer_state["found_inf_per_device"] = self._unscale_grads_(
            optimizer, inv_scale.item(), found_inf, False)
        optimizer_state["stage"] = OptState.UNSCALED

    def _maybe_opt_step(self, optimizer, optimizer_state, *args, **kwargs):
        if not sum(v.item() for v in optimizer_state["found_inf_per_device"].values()):
            return optimizer.step(*args, **kwargs)
        return None

    def step(self, optimizer, *args, **kwargs):
        """Unscale the gradients (unless :meth:`unscale_` did) and call ``optimizer.step`` if
        none of them is inf/NaN.

        Args:
            optimizer (Optimizer): the optimizer to step.
            *args, **kwargs: forwarded to ``optimizer.step`` (a closure is not supported when
                the scaler is enabled).

        Returns:
            What ``optimizer.step`` returned, or None when the step was skipped.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")

        if getattr(optimizer, "_step_supports_amp_scaling", False):
            # fused optimizers unscale and skip by themselves, given the scale and found_inf
            kwargs_ = kwargs
            has_grad_scaler_kwarg = "grad_scaler" in inspect.signature(optimizer.step).parameters
            if has_grad_scaler_kwarg:
                warnings.warn(
                    "GradScaler is going to stop passing itself as a keyword argument to the "
                    "passed optimizer. In the near future GradScaler registers `grad_scale: "
                    "Tensor` and `found_inf: Tensor` to the passed optimizer and let the optimizer "
                    "use them directly.", FutureWarning, stacklevel=2)
                kwargs_.update({"grad_scaler": self})
            else:
                if optimizer_state["stage"] is OptState.READY:
                    self._check_inf_per_device(optimizer)
                found = [t for t in optimizer_state["found_inf_per_device"].values()]
                found_inf = found[0].clone() if found else ember.zeros((), dtype=ember.float32)
                for t in found[1:]:
                    found_inf = found_inf + t
                optimizer.grad_scale = (getattr(optimizer, "grad_scale", None)
                                        if optimizer_state["stage"] == OptState.UNSCALED
                                        else self._scale * getattr(optimizer, "grad_scale", 1))
                optimizer.found_inf = found_inf
            retval = optimizer.step(*args, **kwargs_)
            optimizer_state["stage"] = OptState.STEPPED
            if not has_grad_scaler_kwarg:
                del optimizer.grad_scale
                del optimizer.found_inf
            return retval

        if optimizer_state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(optimizer_state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, optimizer_state, *args, **kwargs)
        optimizer_state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Update the scale factor at the end of an iteration.

        Without ``new_scale``: multiply the scale by ``backoff_factor`` if any optimizer step
        this iteration saw inf/NaN gradients, else count a clean step and multiply by
        ``growth_factor`` after ``growth_interval`` of them.

        Args:
            new_scale (float or 1-element Tensor, optional): set the scale to this value instead.
        """
        if not self._enabled:
            return
        _scale, _growth_tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                self._scale.fill_(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                          "torch.FloatTensor with requires_grad=False.")
                if new_scale.device.type != self._device:
                    raise AssertionError(reason)
                if new_scale.numel() != 1:
                    raise AssertionError(reason)
                if new_scale.requires_grad is True:
                    raise AssertionError(reason)
                self._scale.copy_(new_scale.reshape(()))
        else:
            found_infs = [found_inf for state in self._per_optimizer_states.values()
                          for found_inf in state["found_inf_per_device"].values()]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            found = sum(float(t.item()) for t in found_infs)
            K.amp_update_scale_(_scale._data, _growth_tracker._data, found != 0,
                                self._growth_factor, self._backoff_factor, self._growth_interval)
            _scale._version[0] += 1
            _growth_tracker._version[0] += 1
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def get_scale(self):
        """Return the current scale factor as a float (1.0 when disabled)."""
        if self._enabled:
            return self._init_scale if self._scale is None else float(self._scale.item())
        return 1.0

    def get_growth_factor(self):
        """Return the growth factor."""
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Set the growth factor."""
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        """Return the backoff factor."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Set the backoff factor."""
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        """Return the growth interval."""
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Set the growth interval."""
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._enabled:
            return (self._init_growth_tracker if self._growth_tracker is None
                    else int(self._growth_tracker.item()))
        return 0

    def is_enabled(self):
        """Return True when the scaler is active."""
        return self._enabled

    def state_dict(self):
        """Return the scaler's state as a dict: ``scale``, ``growth_factor``,
        ``backoff_factor``, ``growth_interval`` and ``_growth_tracker`` ({} when disabled)."""
        if self._enabled:
            return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                    "backoff_factor": self._backoff_factor,
                    "growth_interval": self._growth_interval,
                    "_growth_tracker": self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict):
        """Restore the scaler's state from :meth:`state_dict`'s output.

        Raises:
            RuntimeError: when ``state_dict`` is empty (saved from a disabled scaler).
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the beginning "
                                     "of an iteration, or at the end after scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def _check_inf_per_device(self, optimizer):
        self._check_scale_growth_tracker("_check_inf_per_device")
        found_inf = ember.full((), 0.0, dtype=ember.float32)
        self._per_optimizer_states[id(optimizer)]["found_inf_per_device"] = \
            self._unscale_grads_(optimizer, 1.0, found_inf, True)
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

    def _found_inf_per_device(self, optimizer):
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]
