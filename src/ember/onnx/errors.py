"""The exceptions and warnings ``ember.onnx`` raises (``torch.onnx.errors``)."""

__all__ = ["OnnxExporterError", "OnnxExporterWarning", "SymbolicValueError", "UnsupportedOperatorError"]


class OnnxExporterWarning(UserWarning):
    """Something in the exported model may not behave as the eager model does."""


class OnnxExporterError(RuntimeError):
    """Export failed."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op was traced that has no symbolic function for the requested opset.

    Args:
        name: the op's qualified name (``"aten::erfinv"``).
        version: the opset being exported.
        supported_version: the first opset that supports it, when one does.
        scope: where the op was called (the module path and class), added to the message.
    """

    def __init__(self, name, version, supported_version=None, scope=None):
        if supported_version is not None:
            msg = (f"Exporting the operator '{name}' to ONNX opset version {version} is not supported. "
                   f"Support for this operator was added in version {supported_version}, "
                   "try exporting with this version")
        elif name.startswith(("aten::", "prim::", "quantized::", "nn.functional::")):
            msg = f"Exporting the operator '{name}' to ONNX opset version {version} is not supported"
        else:
            msg = (f"ONNX export failed on an operator with unrecognized namespace {name}. If you are trying to "
                   "export a custom operator, make sure you registered it with the right domain and version.")
        if scope:
            msg += f" (called in {scope})"
        super().__init__(msg)
        self.name, self.version, self.scope = name, version, scope


class SymbolicValueError(OnnxExporterError):
    """A symbolic function got a value it cannot express in ONNX (a data-dependent size, an unknown dtype)."""
