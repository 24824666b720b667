"""``ember.nn``: Module, Parameter, layers, losses, init, functional, utils (``torch.nn``)."""
from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer
from .modules import *  # noqa: F401,F403
from .modules import (Module, Container, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
                      Identity, Linear, Bilinear)
from . import modules, functional, init, parameter, grad
from .parallel import DataParallel
from . import parallel
import importlib as _importlib
utils = _importlib.import_module(".utils", __name__)  # `from .modules import *` binds `utils` to nn.modules.utils
from .modules.module import (register_module_forward_pre_hook, register_module_forward_hook,
                             register_module_full_backward_pre_hook, register_module_full_backward_hook,
                             register_module_backward_hook, register_module_buffer_registration_hook,
                             register_module_module_registration_hook,
                             register_module_parameter_registration_hook)


def factory_kwargs(kwargs):
    """Normalise ``device``/``dtype``/``memory_format`` keyword arguments (``torch.nn.factory_kwargs``)."""
    if kwargs is None:
        return {}
    simple_keys = {"device", "dtype", "memory_format"}
    expected_keys = simple_keys | {"factory_kwargs"}
    if not kwargs.keys() <= expected_keys:
        raise TypeError(f"unexpected kwargs {kwargs.keys() - expected_keys}")
    r = dict(kwargs.get("factory_kwargs", {}))
    for k in simple_keys:
        if k in kwargs:
            if k in r:
                raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
            r[k] = kwargs[k]
    return r
