"""``ember.onnx``: export models to ONNX (``torch.onnx``), checked in ONNX Runtime.

Needs the optional ``onnx`` package (``pip install ember[onnx]``; ``onnxruntime``
to run the result).  ``export`` traces one run of the model through ember's op
layer and maps each traced op to ONNX nodes by a symbolic function; see
``_trace.py`` and ``_lower.py``.
"""
from . import errors
from ._export import (export, is_in_onnx_export, select_model_mode_for_export, TrainingMode, OperatorExportTypes,
                      ONNXProgram)
from ._registry import register_custom_op_symbolic, unregister_custom_op_symbolic
from .errors import OnnxExporterError

__all__ = ["export", "is_in_onnx_export", "select_model_mode_for_export", "register_custom_op_symbolic",
           "unregister_custom_op_symbolic", "TrainingMode", "OperatorExportTypes", "ONNXProgram",
           "OnnxExporterError", "errors", "producer_name", "producer_version"]

producer_name = "ember"
producer_version = "0.1.0"
