"""Helpers shared by the model builders: the legacy ``pretrained=`` interface, keyword checks and channel
rounding (torchvision's behaviour and warnings)."""
import functools
import inspect
import warnings

from ._api import WeightsEnum


def _make_divisible(v, divisor, min_value=None):
    """Round ``v`` to a multiple of ``divisor`` (at least ``min_value``), never going down by more than 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _sequence_to_str(seq, separate_last=""):
    if not seq:
        return ""
    if len(seq) == 1:
        return f"'{seq[0]}'"
    head = "'" + "', '".join(str(item) for item in seq[:-1]) + "'"
    return head + f"{'' if separate_last and len(seq) == 2 else ','} {separate_last}'{seq[-1]}'"


def kwonly_to_pos_or_kw(fn):
    """Let keyword-only parameters of ``fn`` still be passed positionally, with a deprecation warning."""
    params = inspect.signature(fn).parameters
    try:
        start = next(i for i, p in enumerate(params.values()) if p.kind == p.KEYWORD_ONLY)
    except StopIteration:
        raise TypeError(f"Found no keyword-only parameter on function '{fn.__name__}'") from None
    names = tuple(params)[start:]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args, extra = args[:start], args[start:]
        if extra:
            extra_kwargs = dict(zip(names, extra))
            warnings.warn(f"Using {_sequence_to_str(tuple(extra_kwargs), separate_last='and ')} as positional "
                          "parameter(s) is deprecated since 0.13 and may be removed in the future. Please use keyword "
                          "parameter(s) instead.")
            kwargs.update(extra_kwargs)
        return fn(*args, **kwargs)

    return wrapper


def handle_legacy_interface(**weights):
    """Map the old ``pretrained=True/False`` argument to ``weights=`` (the given default enum member, or None),
    warning as torchvision does. ``weights`` maps the new parameter name to (old name, default)."""
    def outer(builder):
        @kwonly_to_pos_or_kw
        @functools.wraps(builder)
        def inner(*args, **kwargs):
            for weights_param, (pretrained_param, default) in weights.items():
                sentinel = object()
                weights_arg = kwargs.get(weights_param, sentinel)
                if ((weights_param not in kwargs and pretrained_param not in kwargs)
                        or isinstance(weights_arg, WeightsEnum)
                        or (isinstance(weights_arg, str) and weights_arg != "legacy")
                        or weights_arg is None):
                    continue
                # a bool passed as ``weights`` (positionally) means the old ``pretrained``
                pretrained_positional = weights_arg is not sentinel
                if pretrained_positional:
                    kwargs[pretrained_param] = pretrained_arg = kwargs.pop(weights_param)
                else:
                    pretrained_arg = kwargs[pretrained_param]
                if pretrained_arg:
                    default_weights = default(kwargs) if callable(default) else default
                    if not isinstance(default_weights, WeightsEnum):
                        raise ValueError(f"No weights available for model {builder.__name__}")
                else:
                    default_weights = None
                if not pretrained_positional:
                    warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed in "
                                  f"the future, please use '{weights_param}' instead.")
                msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 "
                       f"and may be removed in the future. The current behavior is equivalent to passing "
                       f"`{weights_param}={default_weights}`.")
                if pretrained_arg:
                    msg = (f"{msg} You can also use `{weights_param}={type(default_weights).__name__}.DEFAULT` to get "
                           "the most up-to-date weights.")
                warnings.warn(msg)
                del kwargs[pretrained_param]
                kwargs[weights_param] = default_weights
            return builder(*args, **kwargs)

        return inner

    return outer


def _ovewrite_named_param(kwargs, param, new_value):
    """Set ``kwargs[param]`` to ``new_value``; a different value already given is a ValueError."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _build(model_cls, weights, progress, builder, *args, **kwargs):
    """Build ``model_cls(*args, **kwargs)`` and, for named weights, load them (the class count follows the
    weights' categories)."""
    from ._api import _load_weights, _require_weights
    if weights is not None:
        if weights.meta["categories"] is not None:
            _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
        _require_weights(weights, builder)
    model = model_cls(*args, **kwargs)
    if weights is not None:
        _load_weights(model, weights, progress, builder)
    return model
