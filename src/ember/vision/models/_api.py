"""The model registry and weight enums: ``get_model``, ``list_models``, ``get_model_weights``, ``get_weight``,
``Weights`` and ``WeightsEnum`` (torchvision's API).

ember never downloads anything. Asking for named pretrained weights loads them from the hub cache
(``$TORCH_HOME/hub/checkpoints``, as PyTorch's; ``ember.load`` reads PyTorch's checkpoint files) when the file
is there; otherwise it raises a RuntimeError that names the file to fetch and how to load it with
``load_state_dict``.
"""
import fnmatch
import importlib
import inspect
import os
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, Callable, get_args

__all__ = ["WeightsEnum", "Weights", "get_model", "get_model_builder", "get_model_weights", "get_weight",
           "list_models"]


@dataclass
class Weights:
    """A set of pretrained weights: where they live (``url``), the preprocessing they expect (``transforms``,
    called with no arguments to build it) and facts about them (``meta``: categories, num_params, metrics...)."""

    url: str
    transforms: Callable
    meta: dict

    def __eq__(self, other):
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        if isinstance(self.transforms, partial) and isinstance(other.transforms, partial):
            return (self.transforms.func == other.transforms.func and self.transforms.args == other.transforms.args
                    and self.transforms.keywords == other.transforms.keywords)
        return self.transforms == other.transforms


def _hub_dir():
    torch_home = os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"),
                                                                         "torch")))
    return os.path.join(torch_home, "hub", "checkpoints")


class WeightsEnum(Enum):
    """Base of the per-model weight enums (``ResNet18_Weights.IMAGENET1K_V1``, ``.DEFAULT``...)."""

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member of this enum: None stays None, a name ('IMAGENET1K_V1' or
        'ResNet18_Weights.IMAGENET1K_V1') is looked up, a member of another enum is a TypeError."""
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                                f"{obj.__class__.__name__}.")
        return obj

    @property
    def filename(self):
        return os.path.basename(self.url)

    def get_state_dict(self, progress=True, check_hash=False, model_dir=None, builder=None, **kwargs):
        """The state dict read (with ``ember.load``) from the hub cache; a RuntimeError explaining what to do when
        the file is not there (ember does not download)."""
        path = os.path.join(model_dir or _hub_dir(), self.filename)
        if not os.path.isfile(path):
            raise RuntimeError(self._offline_message(path, builder))
        import ember
        return ember.load(path, map_location="cpu", weights_only=True)

    def _offline_message(self, path, builder=None):
        make = f"{builder}(weights=None)" if builder else "<model builder>(weights=None)"
        return (f"Pretrained weights {self!r} are not available: ember does not download files and this machine is "
                f"offline. Fetch {self.url} on a machine with internet access and copy it to {path} (then "
                f"weights={self!r} loads it from there), or load it from anywhere yourself:\n"
                f"    model = torchvision.models.{make}\n"
                f"    model.load_state_dict(torch.load('{self.filename}'))   # import ember as torch, "
                "ember.vision as torchvision")

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def _load_weights(model, weights, progress, builder):
    """``model.load_state_dict(weights.get_state_dict(...))`` for a model built by ``builder``."""
    model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True, builder=builder))
    return model


def _require_weights(weights, builder):
    """Fail before building a big model when its weights file is not in the hub cache."""
    if weights is None:
        return
    path = os.path.join(_hub_dir(), weights.filename)
    if not os.path.isfile(path):
        raise RuntimeError(weights._offline_message(path, builder))


def get_weight(name):
    """The weights named 'EnumName.MEMBER', e.g. ``get_weight('ResNet50_Weights.IMAGENET1K_V2')``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    base = importlib.import_module(__name__.rsplit(".", 1)[0])
    weights_enum = base.__dict__.get(enum_name)
    if not (isinstance(weights_enum, type) and issubclass(weights_enum, WeightsEnum)):
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
    return weights_enum[value_name]


def get_model_weights(name):
    """The WeightsEnum class of a model builder (given as a name or a function)."""
    model = get_model_builder(name) if isinstance(name, str) else name
    return _get_enum_from_fn(model)


def _get_enum_from_fn(fn):
    sig = inspect.signature(fn)
    if "weights" not in sig.parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    ann = sig.parameters["weights"].annotation
    candidates = [ann] + list(get_args(ann))
    for t in candidates:
        if isinstance(t, type) and issubclass(t, WeightsEnum):
            return t
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. Make sure the typing info "
                     "is correct.")


BUILTIN_MODELS = {}


def register_model(name=None):
    """Decorator adding a model builder to the registry (under its function name by default)."""
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def list_models(module=None, include=None, exclude=None):
    """Sorted names of the registered models, optionally only those of ``module`` and filtered by
    ``include`` / ``exclude`` glob patterns."""
    all_models = {k for k, v in BUILTIN_MODELS.items()
                  if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        models = set()
        for pattern in [include] if isinstance(include, str) else include:
            models |= set(fnmatch.filter(all_models, pattern))
    else:
        models = all_models
    if exclude:
        for pattern in [exclude] if isinstance(exclude, str) else exclude:
            models -= set(fnmatch.filter(all_models, pattern))
    return sorted(models)


def get_model_builder(name):
    """The builder function registered as ``name`` (case-insensitive)."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    """Build the model registered as ``name``: ``get_model('resnet18', num_classes=10)``."""
    return get_model_builder(name)(**config)
