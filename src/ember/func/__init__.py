"""``ember.func`` (``torch.func``): composable function transforms.

``grad``/``grad_and_value``/``vjp``/``jvp``/``linearize``/``jacrev``/``jacfwd``/``hessian`` differentiate
functions (``_transforms.py``); ``vmap`` maps a function over a batch dim (``_vmap.py``, with its batching rules in
``_batched.py``); ``functional_call`` and ``stack_module_state`` turn modules into functions of their
state (``_module_state.py``); ``rearrange`` reorders axes by an einops pattern (``_rearrange.py``).
The transforms nest: ``vmap(grad(f))``, ``jacfwd(jacrev(f))``...
"""
from ._transforms import grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd, hessian
from ._vmap import vmap
from ._module_state import functional_call, stack_module_state
from ._rearrange import rearrange

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call", "stack_module_state", "rearrange"]
