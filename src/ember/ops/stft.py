"""The short-time Fourier transform and its inverse (``stft``, ``istft``), composed from framing
(``unfold``), windowing, ember's FFTs and an overlap-add (``index_add``), so both are differentiable through
those ops."""
import warnings

from ._common import Tensor, op
from .creation import arange, ones, zeros
from .resample import pad as _pad


def _window_for(window, win_length, n_fft, like):
    """The window centred in ``n_fft`` samples (a rectangular one when None)."""
    if window is None:
        window = ones(win_length, dtype=like.real.dtype if like.dtype.is_complex else like.dtype,
                      device=like.device)
    elif window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"stft: expected a 1D window tensor of size equal to win_length={win_length}, but got "
                           f"window with size {list(window.shape)}")
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = _pad(window, (left, n_fft - win_length - left))
    return window


def _lengths(n_fft, hop_length, win_length, name):
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if hop <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got win_length={win}")
    return hop, win


@op
def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """The short-time Fourier transform of a 1-D signal or a batch of them (B, L): frames of ``n_fft`` samples
    every ``hop_length`` (default ``n_fft // 4``), multiplied by ``window`` (``win_length`` samples, centred),
    transformed.  Returns (B?, n_fft // 2 + 1 or n_fft, frames), complex (or its real view when
    ``return_complex=False``)."""
    from .. import fft
    if return_complex is None and not input.dtype.is_complex:
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                           "require that return_complex=True in a future PyTorch release.")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D tensor")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied,which is known to cause "
                      "spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
                      "recommended to reduce spectral leakage.To suppress this warning and use a rectangular "
                      "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.", UserWarning,
                      stacklevel=2)
    hop, win = _lengths(n_fft, hop_length, win_length, "stft")
    x = input if input.dim() == 2 else input.unsqueeze(0)
    if center:
        half = n_fft // 2
        x = _pad(x.unsqueeze(0), (half, half), mode=pad_mode).squeeze(0)
    if not 0 < n_fft <= x.shape[-1]:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {x.shape[-1]}, but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop) * _window_for(window, win, n_fft, input)
    one = not input.dtype.is_complex and not (window is not None and window.dtype.is_complex) \
        if onesided is None else onesided
    spec = fft.rfft(frames, dim=-1) if one else fft.fft(frames, dim=-1)
    if normalized:
        spec = spec * (n_fft ** -0.5)
    spec = spec.transpose(-1, -2)
    if input.dim() == 1:
        spec = spec.squeeze(0)
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                      "complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you "
                      "can still call torch.view_as_real on the complex output to recover the old return format.",
                      UserWarning, stacklevel=2)
        from .complex_ops import view_as_real
        return view_as_real(spec)
    return spec


@op
def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """The inverse of ``stft``: inverse transforms of the frames, windowed, overlap-added and divided by the
    summed squared window.  ``input`` is (B?, freqs, frames) complex; ``length`` trims or zero-pads the result."""
    from .. import fft
    if not isinstance(input, Tensor) or not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex, but got {input.dim()}D")
    hop, win = _lengths(n_fft, hop_length, win_length, "istft")
    spec = input if input.dim() == 3 else input.unsqueeze(0)
    n_freq, n_frames = spec.shape[-2], spec.shape[-1]
    one = (n_freq != n_fft) if onesided is None else onesided
    if one and n_freq != n_fft // 2 + 1:
        raise RuntimeError(f"istft: expected the frequency dimension (2nd to last) of the input tensor to match "
                           f"n_fft / 2 + 1 when onesided=True, but got {n_freq}")
    if normalized:
        spec = spec * (n_fft ** 0.5)
    cols = spec.transpose(-1, -2)
    frames = fft.irfft(cols, n=n_fft, dim=-1) if one else fft.ifft(cols, n=n_fft, dim=-1)
    if not one and not return_complex:
        frames = frames.real
    w = _window_for(window, win, n_fft, frames)
    frames = frames * w
    total = n_fft + hop * (n_frames - 1)
    positions = (arange(n_frames, device=input.device).unsqueeze(1) * hop
                 + arange(n_fft, device=input.device).unsqueeze(0)).reshape(-1)
    batch = frames.shape[0]
    signal = zeros(batch, total, dtype=frames.dtype, device=input.device).index_add(
        1, positions, frames.reshape(batch, -1))
    envelope = zeros(total, dtype=w.dtype, device=input.device).index_add(
        0, positions, (w * w).expand(n_frames, n_fft).reshape(-1))
    start = n_fft // 2 if center else 0
    end = total - (n_fft // 2 if center else 0) if length is None else min(start + length, total)
    signal, envelope = signal[:, start:end], envelope[start:end]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError("istft: window overlap add min: 0")
    y = signal / envelope
    if length is not None and y.shape[-1] < length:
        y = _pad(y, (0, length - y.shape[-1]))
    return y if input.dim() == 3 else y.squeeze(0)
