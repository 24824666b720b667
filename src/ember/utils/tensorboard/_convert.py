"""Turning what users log (ember tensors, NumPy arrays, Python numbers, matplotlib figures) into arrays."""
import numpy as np


def make_np(x):
    """``x`` as a NumPy array: arrays pass through, a Python/NumPy scalar becomes a 1-element array,
    a tensor is detached and copied to the CPU (bfloat16 as float16, which NumPy knows)."""
    from ... import Tensor, bfloat16, float16
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, Tensor):
        x = x.detach().cpu()
        if x.dtype == bfloat16:
            x = x.to(float16)
        return x.numpy()
    raise NotImplementedError(f"Got {type(x)}, but numpy array or torch tensor are expected.")


def tile(images, ncols=8):
    """A batch (N, C, H, W) with C of 1 or 3 tiled edge to edge, ``ncols`` per row, as a (3, H', W') array."""
    from ... import from_numpy
    from ...vision.utils import make_grid
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    return make_grid(from_numpy(np.ascontiguousarray(images)), nrow=ncols, padding=0).numpy()


def to_hwc(array, dataformats):
    """An image array laid out as ``dataformats`` (``"NCHW"``, ``"CHW"``, ``"HWC"``, ``"HW"``, any order)
    as one (H, W, C) image with C of 3 or 4; a batch is tiled 8 per row, gray is repeated into RGB."""
    if len(set(dataformats)) != len(dataformats):
        raise AssertionError(f"You can not use the same dimension shorthand twice. input_format: {dataformats}")
    if array.ndim != len(dataformats):
        raise AssertionError(f"size of input tensor and input format are different. tensor shape: "
                             f"{array.shape}, input_format: {dataformats}")
    fmt = dataformats.upper()
    if len(fmt) == 4:
        return tile(array.transpose([fmt.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = array.transpose([fmt.find(c) for c in "HWC"])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    hw = array.transpose([fmt.find(c) for c in "HW"])
    return np.stack([hw] * 3, 2)


def figure_to_image(figures, close=True):
    """Render a matplotlib figure to a (3, H, W) uint8 array (a list of figures to (N, 3, H, W));
    ``close`` closes each figure afterwards."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(figure):
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        width, height = figure.canvas.get_width_height()
        rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(height, width, 4)
        if close:
            plt.close(figure)
        return np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)
