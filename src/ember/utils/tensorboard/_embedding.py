"""The files of TensorBoard's embedding projector: tensors.tsv, metadata.tsv, sprite.png and the
projector_config.pbtxt that lists them (``SummaryWriter.add_embedding``)."""
import io
import math
import os

import numpy as np

from ._convert import make_np, tile


def write_tsv_matrix(mat, folder):
    """One line per row of ``mat``, its values separated by tabs."""
    with open(os.path.join(folder, "tensors.tsv"), "w", encoding="utf-8") as f:
        for row in mat.tolist():
            f.write("\t".join(str(v) for v in row) + "\n")


def write_metadata(metadata, folder, header=None):
    """One label per line, or with ``header`` a table: the header line, then one row of columns per point."""
    if header:
        if len(header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in metadata")
        lines = ["\t".join(str(v) for v in row) for row in [header] + list(metadata)]
    else:
        lines = [str(v) for v in metadata]
    with open(os.path.join(folder, "metadata.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_sprite(label_img, folder):
    """The thumbnails (N, C, H, W, values in [0, 1]) tiled into a square PNG, as the projector wants."""
    from PIL import Image
    images = make_np(label_img)
    grid = tile(images, ncols=math.ceil(images.shape[0] ** 0.5)).transpose(1, 2, 0)
    side = grid.shape[1]
    square = np.zeros((side, side, 3))
    square[:grid.shape[0]] = grid
    buf = io.BytesIO()
    Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(buf, format="PNG")
    with open(os.path.join(folder, "sprite.png"), "wb") as f:
        f.write(buf.getvalue())


def embedding_info(tag, global_step, subdir, metadata, label_img):
    """The projector's ``EmbeddingInfo`` for one logged embedding (paths relative to the log folder)."""
    from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo
    info = EmbeddingInfo(tensor_name=f"{tag}:{str(global_step).zfill(5)}", tensor_path=f"{subdir}/tensors.tsv")
    if metadata is not None:
        info.metadata_path = f"{subdir}/metadata.tsv"
    if label_img is not None:
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
    return info
