"""Summaries of richer media: images with boxes, videos (animated GIF), audio (WAV) and 3-D meshes."""
import io
import json
import wave

import numpy as np
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

from ._convert import make_np, to_hwc
from .summary import make_image


def _draw_box(draw, font, box, label):
    left, top, right, bottom = (float(v) for v in box)
    draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=2, fill="Red")
    if label:
        x0, y0, x1, y1 = font.getbbox(label)
        width, height = x1 - x0, y1 - y0
        margin = np.ceil(0.05 * height)
        draw.rectangle([(left, bottom - height - 2 * margin), (left + width, bottom)], fill="Red")
        draw.text((left + margin, bottom - height - margin), label, fill="black", font=font)


def image_boxes(tag, img, boxes, rescale=1, dataformats="CHW", labels=None):
    """An image summary with red boxes drawn on it.

    Args:
        img: tensor or array laid out as ``dataformats`` (uint8 0..255 or float 0..1).
        boxes: (K, 4) corners ``x_min, y_min, x_max, y_max`` in pixels.
        rescale: the image is resized by this factor after drawing.
        labels: one string per box, written at its lower left corner.
    """
    from PIL import Image, ImageDraw, ImageFont
    hwc = to_hwc(make_np(img), dataformats)
    scale = 1 if hwc.dtype == np.uint8 else 255
    picture = Image.fromarray((hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8))
    draw, font = ImageDraw.Draw(picture), ImageFont.load_default()
    boxes = make_np(boxes)
    for i in range(boxes.shape[0]):
        _draw_box(draw, font, boxes[i], None if labels is None else labels[i])
    height, width = hwc.shape[:2]
    picture = picture.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    encoded = make_image(np.asarray(picture))
    # TensorBoard is told the size before rescaling, as PyTorch does
    encoded.height, encoded.width = height, width
    return Summary(value=[Summary.Value(tag=tag, image=encoded)])


def _video_frames(video):
    """(N, T, C, H, W) -> (T, H', W', C) float frames in [0, 1]: the N clips tiled in a grid whose
    size is a power of two (missing clips black)."""
    n, t, c, h, w = video.shape
    if video.dtype == np.uint8:
        video = np.float32(video) / 255.0
    padded = 1 << (n - 1).bit_length() if n > 1 else 1
    if padded != n:
        video = np.concatenate([video, np.zeros((padded - n, t, c, h, w))], axis=0)
    rows = 2 ** ((n.bit_length() - 1) // 2)
    cols = padded // rows
    video = video.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return video.reshape(t, rows * h, cols * w, c)


def video(tag, vid, fps=4):
    """A video summary of ``vid`` (N, T, C, H, W) (uint8 or float in [0, 1]) as an animated GIF at ``fps``."""
    from PIL import Image
    frames = (_video_frames(make_np(vid)) * 255).clip(0, 255).astype(np.uint8)
    t, h, w, c = frames.shape
    pictures = [Image.fromarray(f[:, :, 0] if c == 1 else f) for f in frames]
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], duration=1000 / fps, loop=0)
    image = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=buf.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def audio(tag, sound, sample_rate=44100):
    """An audio summary: one channel of samples in [-1, 1] (clipped, with a warning) as 16-bit WAV."""
    samples = make_np(sound).squeeze()
    if abs(samples).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        samples = samples.clip(-1, 1)
    if samples.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    pcm = (samples * np.iinfo(np.int16).max).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    sound = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=pcm.shape[-1],
                          encoded_audio_string=buf.getvalue(), content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=sound)])


def mesh(tag, vertices, colors, faces, config_dict, display_name=None, description=None):
    """A mesh (or point cloud) summary for the mesh plugin: vertices, faces and colors, each (B, N, 3),
    with ``config_dict`` the Three.js scene settings."""
    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData
    config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(t, kind) for t, kind in ((vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE),
                                       (colors, MeshPluginData.COLOR)) if t is not None]
    components = metadata.get_components_bitmask([kind for _, kind in parts])
    values = []
    for t, kind in parts:
        arr = make_np(t)
        meta = metadata.create_summary_metadata(tag, display_name, kind, components, arr.shape, description,
                                                json_config=config)
        proto = TensorProto(dtype="DT_FLOAT", float_val=arr.reshape(-1).tolist(),
                            tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in arr.shape[:3]]))
        values.append(Summary.Value(tag=metadata.get_instance_name(tag, kind), tensor=proto, metadata=meta))
    return Summary(value=values)
