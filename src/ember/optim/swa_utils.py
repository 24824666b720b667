"""Weight averaging: stochastic weight averaging (SWA) and exponential moving averages (EMA).

:class:`AveragedModel` keeps a copy of a model whose parameters are a running average of the
trained model's; :class:`SWALR` anneals the learning rate to a constant SWA rate; :func:`update_bn`
recomputes batch-norm statistics for the averaged weights.  As ``torch.optim.swa_utils``.
"""
import itertools
import math
import warnings
from copy import deepcopy

import ember
from ..nn import Module
from ..ops import optim_kernels as K
from .lr_scheduler import LRScheduler, _format_param
from .optimizer import _bump, _data

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _is_float_or_complex(t):
    return t.dtype.is_floating_point or t.dtype.is_complex


def _multi_lerp(averaged, current, weight):
    K.lerp_(_data(averaged), _data(current), float(weight))
    _bump(averaged)


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """Return ``fn(ema_params, current_params, num_averaged)`` updating a list of EMA tensors in
    place: ``ema = decay * ema + (1 - decay) * current``.

    Args:
        decay (float): the EMA decay, in [0, 1] (default: 0.999).
    """
    _check_decay(decay)

    @ember.no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if _is_float_or_complex(ema_param_list[0]):
            _multi_lerp(ema_param_list, current_param_list, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """Return ``fn(averaged_params, current_params, num_averaged)`` updating a list of running
    means in place: ``avg = avg + (current - avg) / (num_averaged + 1)``."""

    @ember.no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if _is_float_or_complex(averaged_param_list[0]):
            # with a tensor count the weight is a default-dtype (float32) scalar, as in torch
            _multi_lerp(averaged_param_list, current_param_list, float(1 / (num_averaged + 1)))
        else:
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                p_avg.add_((p_model - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """Return ``fn(ema_param, current_param, num_averaged) -> new ema_param`` for one tensor.

    Args:
        decay (float): the EMA decay, in [0, 1] (default: 0.999).
    """
    _check_decay(decay)

    @ember.no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """Return ``fn(averaged_param, current_param, num_averaged) -> new average`` for one tensor
    (the equally weighted running mean)."""

    @ember.no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters track an average of ``model``'s over training.

    Call :meth:`update_parameters` after optimizer steps; the first call copies the weights,
    later calls average them in (an equal-weight mean by default, or ``avg_fn`` /
    ``multi_avg_fn``, e.g. :func:`get_ema_multi_avg_fn` for an EMA).  The number of averaged
    models is kept in the buffer ``n_averaged``.

    Args:
        model (Module): the model to average (deep-copied).
        device (device, optional): where to keep the averaged copy.
        avg_fn (callable, optional): ``avg_fn(averaged, current, num_averaged) -> tensor``.
        multi_avg_fn (callable, optional): ``multi_avg_fn(averaged_list, current_list,
            num_averaged)`` updating in place (give at most one of the two functions).
        use_buffers (bool): average the buffers too instead of copying them (default: False).
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ember.tensor(0, dtype=ember.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Average ``model``'s current parameters into this copy (copy them on the first call).

        Args:
            model (Module): the model being trained (same architecture).
        """
        if self.use_buffers:
            self_param = itertools.chain(self.module.parameters(), self.module.buffers())
            model_param = itertools.chain(model.parameters(), model.buffers())
        else:
            self_param, model_param = self.parameters(), model.parameters()
        averaged, current = [], []
        copy_param = bool(self.n_averaged == 0)
        for p_averaged, p_model in zip(self_param, model_param):
            p_model_ = p_model.detach()
            averaged.append(p_averaged.detach())
            current.append(p_model_)
            if copy_param:
                p_averaged.detach().copy_(p_model_)

        if self.n_averaged > 0:
            if self.multi_avg_fn is not None:
                # one call per dtype, like PyTorch's grouping of tensors by device and dtype
                groups = {}
                for a, c in zip(averaged, current):
                    groups.setdefault(a.dtype, ([], []))
                    groups[a.dtype][0].append(a)
                    groups[a.dtype][1].append(c)
                for avg_list, cur_list in groups.values():
                    self.multi_avg_fn(avg_list, cur_list, self.n_averaged)
            else:
                fn = self.avg_fn if self.avg_fn is not None else get_swa_avg_fn()
                with ember.no_grad():
                    for p_averaged, p_model in zip(averaged, current):
                        p_averaged.copy_(fn(p_averaged, p_model, self.n_averaged))

        if not self.use_buffers:
            # the buffers (e.g. batch-norm statistics) follow the trained model
            for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                b_swa.detach().copy_(b_model.detach())
        with ember.no_grad():
            self.n_averaged += 1


@ember.no_grad()
def update_bn(loader, model, device=None):
    """Recompute the batch-norm running statistics of ``model`` with one pass over ``loader``.

    Args:
        loader (iterable): batches of inputs (or tuples/lists whose first element is the input).
        model (Module): the model, typically an :class:`AveragedModel`.
        device (device, optional): move each input there first.
    """
    from ..nn.modules.batchnorm import _BatchNorm

    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # cumulative average over the pass
    for input in loader:
        if isinstance(input, (list, tuple)):
            input = input[0]
        if device is not None:
            input = input.to(device)
        model(input)
    for module in momenta:
        module.momentum = momenta[module]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to a fixed ``swa_lr`` over ``anneal_epochs`` epochs,
    then hold it (the SWA phase of training).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        swa_lr (float or list): the SWA learning rate, one for all groups or one per group.
        anneal_epochs (int): epochs of the annealing, >= 0 (default: 10).
        anneal_strategy (str): ``'cos'`` or ``'linear'`` (default: ``'cos'``).
        last_epoch (int): index of the last epoch (default: -1).
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        """The rates of the current epoch on the annealing path to ``swa_lr``."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        """Return the state (without the optimizer and the annealing function)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        """Restore the state from :meth:`state_dict`'s output."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
