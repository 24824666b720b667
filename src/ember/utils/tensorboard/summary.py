"""Builders of TensorBoard ``Summary`` protocol buffers, one per kind of data (the layouts TensorBoard's
plugins read: scalars, histograms, images, text, hparams, PR curves, custom scalar layouts, tensors)."""
import io

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

from ._convert import make_np, to_hwc

__all__ = ["scalar", "histogram", "histogram_raw", "make_histogram", "image", "make_image", "text",
           "hparams", "pr_curve", "pr_curve_raw", "compute_curve", "custom_scalars", "tensor_proto",
           "default_bins"]


def _plugin_summary(tag, plugin_name, tensor, content=b""):
    """One Summary value carrying ``tensor`` (a TensorProto) for the plugin ``plugin_name``."""
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin_name, content=content))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)])


def _shape(dims):
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in dims])


def scalar(name, value, new_style=False, double_precision=False):
    """A scalar summary of a one-element tensor, array or number.

    ``new_style`` stores it as a tensor for the scalars plugin (float32, or float64 with
    ``double_precision``) instead of the classic ``simple_value``.
    """
    arr = make_np(value).squeeze()
    if arr.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: {arr.size} "
                             f"and {arr.ndim} dimensions.")
    number = float(arr)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=number)])
    tensor = (TensorProto(double_val=[number], dtype="DT_DOUBLE") if double_precision
              else TensorProto(float_val=[number], dtype="DT_FLOAT"))
    return _plugin_summary(name, "scalars", tensor)


def default_bins():
    """TensorBoard's default histogram edges: 0 and +-1e-12 grown by 10% a step up to 1e20."""
    edges, v = [], 1e-12
    while v < 1e20:  # by repeated multiplication, so the edges equal the reference ones bit for bit
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0] + edges


def make_histogram(values, bins, max_bins=None):
    """A HistogramProto of ``values`` (float64 array) over ``bins`` (edges, a count or a NumPy rule name).

    With ``max_bins``, neighbouring bins are merged until at most that many remain. Empty bins at both
    ends are dropped, keeping one empty bin on the left so that the leftmost edge is still recorded
    (TensorBoard stores right edges only).
    """
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % group)).reshape(-1, group).sum(axis=1)
        limits = np.append(limits[:-1:group], limits[-1])
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    start, end = int(nonzero[0]), int(nonzero[-1]) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    return HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                          sum_squares=values.dot(values), bucket_limit=limits.tolist(), bucket=counts.tolist())


def histogram(name, values, bins, max_bins=None):
    """A histogram summary of the values of a tensor or array (see ``make_histogram``)."""
    hist = make_histogram(make_np(values).astype(float), bins, max_bins)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    """A histogram summary from precomputed statistics and buckets (right edges and counts)."""
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def make_image(hwc):
    """An ``Summary.Image`` holding ``hwc`` (uint8, H x W x C with C of 3 or 4) encoded as PNG."""
    from PIL import Image
    height, width, channels = hwc.shape
    buf = io.BytesIO()
    Image.fromarray(hwc).save(buf, format="PNG")
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=buf.getvalue())


def image(tag, img, dataformats="NCHW"):
    """An image summary. ``img``: a tensor or array laid out as ``dataformats``; uint8 values are taken
    as 0..255, any other dtype as 0..1 (scaled by 255); values out of range are clipped. A batch is
    tiled into one image, 8 per row."""
    hwc = to_hwc(make_np(img), dataformats)
    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(pixels))])


def text(tag, text_string):
    """A text summary (shown by TensorBoard's text plugin as Markdown) under ``tag + '/text_summary'``."""
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
    tensor = TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf_8")], tensor_shape=_shape([1]))
    return _plugin_summary(tag + "/text_summary", "text", tensor, TextPluginData(version=0).SerializeToString())


def _hparams_summary(tag, **data):
    from tensorboard.plugins.hparams.metadata import PLUGIN_DATA_VERSION, PLUGIN_NAME
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
    content = HParamsPluginData(version=PLUGIN_DATA_VERSION, **data).SerializeToString()
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=content))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta)])


def hparams(hparam_dict, metric_dict, hparam_domain_discrete=None):
    """The three hparams-plugin summaries (experiment, session start, session end) for one run.

    Args:
        hparam_dict: name -> value (int, float, bool, str, a one-element tensor, or None to leave out).
        metric_dict: name -> value of the metrics; only the names are recorded here.
        hparam_domain_discrete: name -> list of all values that hyperparameter can take.

    Returns:
        (experiment, session_start_info, session_end_info) summaries.
    """
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata
    from tensorboard.plugins.hparams.plugin_data_pb2 import SessionEndInfo, SessionStartInfo

    from ... import Tensor
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in domains.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                            f"hparam_dict[{k}].")
    start = SessionStartInfo()
    infos = []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, Tensor):
            v = float(make_np(v)[0])  # a 0-d tensor raises IndexError, as in PyTorch
        # bool is an int here: PyTorch records True/False as the numbers 1.0/0.0
        if isinstance(v, (int, float)):
            start.hparams[k].number_value = v
            field, kind = "number_value", "DATA_TYPE_FLOAT64"
        elif isinstance(v, str):
            start.hparams[k].string_value = v
            field, kind = "string_value", "DATA_TYPE_STRING"
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        domain = None
        if k in domains:
            domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in domains[k]])
        infos.append(api_pb2.HParamInfo(name=k, type=api_pb2.DataType.Value(kind), domain_discrete=domain))
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    end = SessionEndInfo(status=api_pb2.Status.Value("STATUS_SUCCESS"))
    return (_hparams_summary(metadata.EXPERIMENT_TAG, experiment=experiment),
            _hparams_summary(metadata.SESSION_START_INFO_TAG, session_start_info=start),
            _hparams_summary(metadata.SESSION_END_INFO_TAG, session_end_info=end))


def compute_curve(labels, predictions, num_thresholds, weights=None):
    """True/false positive/negative counts, precision and recall at ``num_thresholds`` thresholds
    evenly spaced over [0, 1], as a (6, num_thresholds) array in that row order."""
    weights = 1.0 if weights is None else weights
    buckets = np.floor(predictions * (num_thresholds - 1)).astype(np.int32)
    positive = labels.astype(np.float64)
    span = (0, num_thresholds - 1)
    tp_hist = np.histogram(buckets, bins=num_thresholds, range=span, weights=positive * weights)[0]
    fp_hist = np.histogram(buckets, bins=num_thresholds, range=span, weights=(1.0 - positive) * weights)[0]
    tp = np.cumsum(tp_hist[::-1])[::-1]  # predictions at or above each threshold
    fp = np.cumsum(fp_hist[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _pr_summary(tag, data, num_thresholds):
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
    tensor = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(), tensor_shape=_shape(data.shape))
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    return _plugin_summary(tag, "pr_curves", tensor, content)


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    """A precision-recall curve summary of binary ``labels`` and ``predictions`` in [0, 1] (arrays);
    at most 127 thresholds, as TensorBoard's protobuf allows."""
    num_thresholds = min(num_thresholds, 127)
    return _pr_summary(tag, compute_curve(labels, predictions, num_thresholds, weights), num_thresholds)


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    """A precision-recall curve summary from precomputed counts, precision and recall (one value per threshold)."""
    return _pr_summary(tag, np.stack((tp, fp, tn, fn, precision, recall)), min(num_thresholds, 127))


def custom_scalars(layout):
    """The custom-scalars plugin's layout: ``{category: {chart title: ["Multiline", [tag regexes]]
    or ["Margin", [value, lower, upper]]}}``."""
    from tensorboard.plugins.custom_scalar import layout_pb2
    categories = []
    for category, charts in layout.items():
        protos = []
        for title, (kind, tags) in charts.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError("len(tags) != 3")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                protos.append(layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                protos.append(layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=category, chart=protos))
    tensor = TensorProto(dtype="DT_STRING", string_val=[layout_pb2.Layout(category=categories).SerializeToString()],
                         tensor_shape=TensorShapeProto())
    return _plugin_summary("custom_scalars__config__", "custom_scalars", tensor)


# dtype name -> (TensorProto dtype, the TensorProto field holding the values)
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val"), "bfloat16": ("DT_BFLOAT16", "half_val"),
    "float32": ("DT_FLOAT", "float_val"), "float64": ("DT_DOUBLE", "double_val"),
    "int8": ("DT_INT8", "int_val"), "uint8": ("DT_UINT8", "uint32_val"), "int16": ("DT_INT16", "int_val"),
    "int32": ("DT_INT32", "int_val"), "int64": ("DT_INT64", "int64_val"), "bool": ("DT_BOOL", "bool_val"),
    "complex64": ("DT_COMPLEX64", "scomplex_val"), "complex128": ("DT_COMPLEX128", "dcomplex_val"),
}


def tensor_proto(tag, tensor):
    """A summary of a whole tensor's values, for TensorBoard's tensor plugin.

    Half-precision values are stored as the bit patterns of their float32 values, as PyTorch does.
    """
    name = str(tensor.dtype).replace("torch.", "")
    if tensor.numel() * tensor.element_size() >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if name not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {tensor.dtype}")
    dtype, field = _TENSOR_FIELDS[name]
    if field == "half_val":
        values = tensor.detach().cpu().float().numpy().reshape(-1).view(np.int32).tolist()
    elif field.endswith("complex_val"):
        values = tensor.detach().cpu().numpy().reshape(-1).view(np.float32 if name == "complex64" else np.float64)
        values = values.tolist()
    else:
        values = tensor.detach().cpu().numpy().reshape(-1).tolist()
    proto = TensorProto(dtype=dtype, tensor_shape=_shape(tensor.shape), **{field: values})
    return _plugin_summary(tag, "tensor", proto)
