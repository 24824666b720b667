"""``optim.swap_in_optimizer_params_and_state``: run an optimizer for a while on other parameters and state."""
import contextlib
from collections import defaultdict

from .._tensor import Tensor

_NAME = "swap_in_optimizer_params_and_state"


def _checked_state(state):
    """``state`` of a ``state_dict()``: a dict from packed parameter ids to per-parameter dicts."""
    if not isinstance(state, dict):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to be a dict mapping packed parameter "
                           f"ids to per-param state dicts, got {type(state).__name__}.")
    if any(isinstance(key, Tensor) for key in state):
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style state keyed by packed parameter ids.")
    if any(isinstance(key, int) and not isinstance(entry, dict) for key, entry in state.items()):
        raise RuntimeError(f"{_NAME} requires per-parameter optimizer state entries to be dictionaries.")
    return state


def _checked_groups(optimizer, groups):
    """``param_groups`` of a ``state_dict()``: one dict per live group, with the live group's keys."""
    if not isinstance(groups, list):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['param_groups'] to be a list of param-group "
                           f"dicts, got {type(groups).__name__}.")
    if len(groups) != len(optimizer.param_groups):
        raise RuntimeError("swapin_optim_state has a different number of parameter groups than the live optimizer.")
    for index, (live, group) in enumerate(zip(optimizer.param_groups, groups)):
        if not isinstance(group, dict):
            raise RuntimeError(f"{_NAME} requires each optimizer param group to be a dictionary.")
        ids = group.get("params")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style param_groups[*]['params'] entries "
                               "keyed by packed parameter ids.")
        if len(ids) != len(live["params"]):
            raise RuntimeError(f"swapin_optim_state param group {index} has a different number of params than the "
                               "live optimizer param group.")
        only_new = [k for k in group if k not in live]
        only_live = [k for k in live if k not in group]
        if only_new or only_live:
            raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style param group keys to exactly match "
                               f"the live optimizer group keys for group {index}. Keys only in swap-in: {only_new}. "
                               f"Keys only in live: {only_live}.")
    return groups


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters, swapin_optim_state):
    """Within the context, ``optimizer`` steps ``swapin_parameters`` with the state ``swapin_optim_state``.

    Args:
        optimizer: an optimizer that has already stepped (its state is initialized).
        swapin_parameters: ``{name: tensor}`` in the order of the optimizer's parameters (as
            ``model.named_parameters()``); the tensors stand in for them, group by group.
        swapin_optim_state: a dict shaped as ``optimizer.state_dict()``: ``"state"`` keyed by packed parameter
            ids, ``"param_groups"`` with the live groups' keys. Its per-parameter dicts are copied shallowly, so
            in-place edits of their tensors reach it and nothing else does.

    On exit the optimizer's own parameters, hyperparameters and state are back, whatever happened inside.
    """
    if not optimizer.state:
        raise RuntimeError(f"{_NAME} requires initialized optimizer state.")
    if not isinstance(swapin_optim_state, dict):
        raise RuntimeError(f"{_NAME} requires a DCP-style optimizer state_dict.")
    state = _checked_state(swapin_optim_state.get("state"))
    groups = _checked_groups(optimizer, swapin_optim_state.get("param_groups"))
    tensors = list(swapin_parameters.values())
    swapped, start, used_ids = [], 0, set()
    for group in groups:
        ids = group["params"]
        if start + len(ids) > len(tensors):
            raise RuntimeError(f"{_NAME} requires the explicit parameter state to match optimizer.param_groups "
                               "ordering.")
        swapped.append(tensors[start:start + len(ids)])
        start += len(ids)
        used_ids.update(ids)
    extra = [k for k in state if k not in used_ids]
    if extra:
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to be keyed only by packed parameter ids "
                           f"from param_groups[*]['params']; got extra keys {extra!r}.")

    live_state = optimizer.state
    snapshots = [dict(g) for g in optimizer.param_groups]   # shallow: the live 'params' lists keep their identity
    try:
        new_state = defaultdict(dict)
        for live, group, params in zip(optimizer.param_groups, groups, swapped):
            live.update({k: v for k, v in group.items() if k != "params"})
            live["params"] = params
            for p, pid in zip(params, group["params"]):
                new_state[p] = dict(state.get(pid, {}))
        optimizer.state = new_state
        yield
    finally:
        for live, snapshot in zip(optimizer.param_groups, snapshots):
            live.clear()
            live.update(snapshot)
        optimizer.state = live_state
