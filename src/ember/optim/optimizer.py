"""The optimizer base class: param groups, per-parameter state, state_dict, step hooks.

A concrete optimizer subclasses :class:`Optimizer`, passes its hyper-parameters as ``defaults``
and implements ``step``.  The base class takes care of everything that is the same for all
algorithms, with PyTorch's behaviour:

* ``params`` may be an iterable of tensors, of ``(name, tensor)`` pairs (``named_parameters()``)
  or of dicts (one per param group, with per-group options overriding ``defaults``);
* ``state`` maps each parameter to a dict of its optimizer state (tensors and numbers);
* ``state_dict()`` replaces parameters by their index (counting across groups) so a checkpoint
  does not hold the parameters themselves, and ``load_state_dict`` maps the indices back;
* ``step`` is wrapped so that step pre/post hooks run around it and the update runs with
  gradient recording off (or on, for ``differentiable=True``).
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

import ember
from .._tensor import Tensor
from ..ops import optim_kernels as K
from ..utils.hooks import RemovableHandle, _add_hook  # noqa: F401 (as in torch.optim.optimizer)

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook",
           "required"]


class _RequiredParameter:
    """Marker for a hyper-parameter that has no default (every group must give it)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``.

    The hook may return ``None`` or a pair ``(new_args, new_kwargs)`` that replaces the arguments
    of ``step``.  Returns a :class:`RemovableHandle`.
    """
    return _add_hook(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``.

    Returns a :class:`RemovableHandle`.
    """
    return _add_hook(_global_optimizer_post_hooks, hook)


def _typename(obj):
    """PyTorch's ``torch.typename``: ``torch.FloatTensor`` for tensors, the type name otherwise."""
    if isinstance(obj, Tensor):
        try:
            return obj.type()
        except Exception:  # a core without Tensor.type()
            return "torch.Tensor"
    module = type(obj).__module__
    qualname = type(obj).__qualname__
    if module in ("builtins", "__builtin__", None):
        return qualname
    return f"{module}.{qualname}"


def _to_scalar(x):
    """A hyper-parameter as a Python number (a 1-element tensor gives its value)."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def _scalar_dtype(is_fused=None):
    """dtype of the 0-d ``step`` tensors: float32, or float64 when that is the default dtype."""
    if is_fused:
        return ember.float32
    return ember.float64 if ember.get_default_dtype() == ember.float64 else ember.float32


_CAPTURABLE_DEVICES = ["cuda", "xpu", "hpu", "privateuseone", "xla"]


def _check_not_capturable(group, what="params and state_steps"):
    """``capturable=True`` needs an accelerator; on the CPU PyTorch fails the same assertion."""
    if group.get("capturable", False):
        raise AssertionError(
            f"If capturable=True, {what} must be on supported devices: {_CAPTURABLE_DEVICES}.")


def _check_fused_dtype(p):
    """``fused=True`` requires floating point parameters (all ember devices support it)."""
    if not p.dtype.is_floating_point:
        raise RuntimeError(
            "`fused=True` requires all the params to be floating point Tensors of supported "
            f"devices: ['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', 'privateuseone'] but "
            f"{p.dtype} and {p.device.type}")


def _check_args(lr, **values):
    """PyTorch's constructor checks of an optimizer's usual hyper-parameters, in the order given.

    ``lr`` must be a number >= 0 or a 1-element tensor, ``betas`` a pair in [0, 1), ``rho`` in
    [0, 1] and every other keyword >= 0 (``eps`` is called "epsilon" in the message).  Raises
    ValueError with PyTorch's message for the first value out of range.
    """
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    for name, value in values.items():
        if name == "betas":
            for i in (0, 1):
                if not 0.0 <= value[i] < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {value[i]}")
        elif name == "rho":
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Invalid rho value: {value}")
        elif not 0.0 <= value:
            raise ValueError(f"Invalid {'epsilon' if name == 'eps' else name} value: {value}")


def _data(tensors):
    """The arrays of ``tensors`` (what the kernels of :mod:`ember.ops.optim_kernels` take)."""
    return [t._data for t in tensors]


def _grads(params):
    """The arrays of the gradients of ``params``."""
    return [p.grad._data for p in params]


def _gather(states, *keys):
    """One list per key of the values ``state[key]`` of every state dict in ``states``."""
    return tuple([state[key] for state in states] for key in keys)


def _bump(*tensor_lists):
    """Advance the version counter of tensors whose arrays a kernel changed in place."""
    for tensors in tensor_lists:
        for t in tensors:
            t._version[0] += 1


def _increment_steps(states):
    """Add one to the 0-d ``step`` tensor of every state; return the new counts as floats."""
    step_tensors = [state["step"] for state in states]
    steps = K.increment_(_data(step_tensors))
    _bump(step_tensors)
    return steps


def _hook_step(step):
    """Wrap a subclass's ``step`` with the step hooks and the grad mode of the update."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self._step_depth:  # a subclass's step calling super().step(): hooks already ran
            return step(self, *args, **kwargs)
        for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                              self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}.")
        self._step_depth += 1
        try:
            with ember.set_grad_enabled(bool(self.defaults.get("differentiable", False))):
                out = step(self, *args, **kwargs)
        finally:
            self._step_depth -= 1
        for post_hook in chain(self._optimizer_step_post_hooks.values(),
                               _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


_STEP_DOC = """Perform a single optimization step.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.
        """


class Optimizer:
    r"""Base class of all optimizers.

    Args:
        params (iterable): the tensors to optimize -- an iterable of tensors, of
            ``(name, tensor)`` pairs, or of dicts each defining a param group (a ``'params'``
            entry plus options that override ``defaults`` for that group).  Use an ordered
            collection (list, tuple, generator over a module): the order fixes the indices used
            by :meth:`state_dict`.
        defaults (dict): default values of the optimization options, used by groups that do
            not set them.

    Attributes:
        param_groups (list of dict): the groups, each with its ``'params'`` list and options.
        state (defaultdict): per-parameter state, keyed by the parameter tensor.
        defaults (dict): the constructor's defaults.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            if step.__doc__ is None:
                step.__doc__ = _STEP_DOC
            cls.step = _hook_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._step_depth = 0

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))

        self.state = defaultdict(dict)
        self.param_groups = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- pickling -------------------------------------------------------------------------------

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.__dict__.setdefault("_step_depth", 0)
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- hooks ----------------------------------------------------------------------------------

    def register_step_pre_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``, called
        before each :meth:`step`.  Returns a :class:`RemovableHandle`."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs) -> None``, called after each :meth:`step`.
        Returns a :class:`RemovableHandle`."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Register ``hook(optimizer) -> None``, called at the start of :meth:`state_dict`.

        Args:
            hook (callable): the hook.
            prepend (bool): run it before the hooks already registered (default: after them).

        Returns:
            :class:`RemovableHandle`.
        """
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Register ``hook(optimizer, state_dict) -> state_dict or None``, called on the dict
        :meth:`state_dict` is about to return (a returned dict replaces it).

        Returns:
            :class:`RemovableHandle`.
        """
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Register ``hook(optimizer, state_dict) -> state_dict or None``, called at the start of
        :meth:`load_state_dict` on a shallow copy of its argument (a returned dict replaces it).

        Returns:
            :class:`RemovableHandle`.
        """
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Register ``hook(optimizer) -> None``, called at the end of :meth:`load_state_dict`.

        Returns:
            :class:`RemovableHandle`.
        """
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state_dict -----------------------------------------------------------------------------

    def state_dict(self):
        """Return the optimizer's state as a dict with two entries.

        * ``'state'``: ``{index: {name: value}}`` -- the per-parameter state, keyed by the
          parameter's position when counting through all groups in order (the parameters
          themselves are not saved).  The values are the live state tensors, not copies.
        * ``'param_groups'``: a list of dicts, one per group, holding the group's options and
          ``'params'`` as a list of those indices (plus ``'param_names'`` when the optimizer was
          given named parameters).
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        index_of = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        # Floating point state follows the parameter's dtype; 'step' keeps its own dtype unless
        # the group is fused or capturable, where it is float32.
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=ember.float32)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype)
        return value

    def load_state_dict(self, state_dict):
        """Load optimizer state from a dict produced by :meth:`state_dict`.

        The saved groups must match this optimizer's groups in number and size; saved indices
        are mapped onto this optimizer's parameters in order.  Floating point state tensors are
        cast to their parameter's dtype.

        Args:
            state_dict (dict): the state, as returned by :meth:`state_dict`.

        Raises:
            ValueError: when the group layout differs.
        """
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")

        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(cast(param, v, param_id=param_id, param_groups=param_groups)
                                   for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # -- the training-loop API ------------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none (bool): set each ``.grad`` to None (the default) instead of filling it
                with zeros.  Note that optimizers skip parameters whose grad is None but do
                update (decay, momentum) parameters whose grad is zero.
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Perform one optimization step (implemented by each algorithm).

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None without a closure.
        """
        raise NotImplementedError

    def add_param_group(self, param_group):
        """Add a param group to :attr:`param_groups`.

        Useful for fine-tuning: layers frozen at first can be added with their own options
        later.  Options the group does not set take the optimizer's defaults.

        Args:
            param_group (dict): ``'params'`` (a tensor, or an ordered iterable of tensors or of
                ``(name, tensor)`` pairs) plus optional per-group options.

        Raises:
            TypeError: ``param_group`` is not a dict, ``params`` is a set, or holds a non-tensor.
            ValueError: a non-leaf tensor, a parameter already in another group, a required
                option missing, or mixing named and unnamed parameters.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError("all optimizer params should be with/without names. "
                                 "Some param names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or getattr(param, "retains_grad", False)):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)

    # -- helpers for the algorithms -------------------------------------------------------------

    def _setup_fused(self, fused, differentiable, foreach):
        """PyTorch's checks of ``fused=True``; a fused optimizer cooperates with ``GradScaler``."""
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
            self._step_supports_amp_scaling = True

    def _upgrade_state(self, options, scalar_state=("step",)):
        """Bring the groups and state of a pickle from an older version up to date
        (``__setstate__``).

        Every group gets the ``options`` (name -> default) it lacks, and every scalar state
        entry named in ``scalar_state`` that is still a Python number becomes a 0-d tensor of
        the scalar dtype (float32 when ``options`` has ``fused`` and the group is fused).
        """
        for group in self.param_groups:
            for name, default in options.items():
                group.setdefault(name, default)
            dtype = _scalar_dtype(is_fused=group["fused"] if "fused" in options else None)
            for p in group["params"]:
                state = self.state.get(p, [])
                if len(state) != 0:
                    for key in scalar_state:
                        if not isinstance(state[key], Tensor):
                            state[key] = ember.tensor(float(state[key]), dtype=dtype)

    def _groups_with_grad(self, init_state, sparse_error=None, *, fused_check=False,
                          capturable_what="params and state_steps"):
        """Yield ``(group, params, states)`` for each param group with gradients to apply.

        ``params`` are the group's parameters that have a gradient, in order, and ``states``
        their state dicts; an empty state is first filled by ``init_state(group, p, state)``.
        Raises PyTorch's errors for ``differentiable=True``, for a sparse gradient (with the
        message ``sparse_error``, when given), for a non-floating parameter of a fused group
        (with ``fused_check``) and for ``capturable=True`` (``capturable_what`` names the tensors
        in the message; None skips the check).
        """
        for group in self.param_groups:
            self._check_differentiable(group)
            params = self._with_grad(group)
            if not params:
                continue
            fused = fused_check and group["fused"]
            states = []
            for p in params:
                if sparse_error and getattr(p.grad, "is_sparse", False):
                    raise RuntimeError(sparse_error)
                if fused:
                    _check_fused_dtype(p)
                state = self.state[p]
                if len(state) == 0:
                    init_state(group, p, state)
                states.append(state)
            if capturable_what:
                _check_not_capturable(group, capturable_what)
            yield group, params, states

    def _run_closure(self, closure):
        """Evaluate ``closure`` (if given) with gradient recording on; return its loss."""
        if closure is None:
            return None
        with ember.enable_grad():
            return closure()

    def _with_grad(self, group):
        """The parameters of ``group`` that have a gradient, in order."""
        return [p for p in group["params"] if p.grad is not None]

    def _amp_skip_or_unscale(self):
        """Handle a GradScaler driving a ``fused=True`` optimizer.

        GradScaler sets ``self.grad_scale`` and ``self.found_inf`` before calling ``step`` on
        optimizers that support AMP scaling.  Returns True when the step must be skipped (an
        inf/NaN gradient was found); otherwise divides the gradients by the scale in place (as
        PyTorch's fused kernels do) and returns False.
        """
        found_inf = getattr(self, "found_inf", None)
        if found_inf is not None and float(found_inf) != 0:
            return True
        grad_scale = getattr(self, "grad_scale", None)
        if grad_scale is not None:
            grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
            K.div_(_data(grads), float(grad_scale))
            _bump(grads)
        return False

    def _check_differentiable(self, group):
        if group.get("differentiable", False):
            raise NotImplementedError(
                f"{type(self).__name__}(differentiable=True) is not supported by ember: optimizer "
                "steps update parameters in place without recording an autograd graph")
