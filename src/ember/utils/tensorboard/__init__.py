"""``ember.utils.tensorboard``: log training to TensorBoard (``torch.utils.tensorboard``).

The event files are written with the ``tensorboard`` package's protocol buffers and record writer,
which is an optional dependency: install it with ``pip install 'ember[tensorboard]'``.
"""
try:
    import tensorboard as _tensorboard
except ImportError as _e:
    raise ImportError(
        "ember.utils.tensorboard needs the 'tensorboard' package, which is not installed: "
        "install it with pip install 'ember[tensorboard]' (or pip install tensorboard)") from _e
del _tensorboard

from tensorboard.summary.writer.record_writer import RecordWriter

from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
