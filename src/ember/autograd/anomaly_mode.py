"""Anomaly detection: find the forward op behind a NaN produced in backward."""
from .grad_mode import AutogradFlags


class detect_anomaly:
    """Context manager: while active, nodes remember the forward stack that made them and a NaN
    gradient raises RuntimeError naming the node and that stack."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        import warnings
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)
        self.prev = (AutogradFlags.anomaly, AutogradFlags.anomaly_check_nan)
        AutogradFlags.anomaly, AutogradFlags.anomaly_check_nan = True, self.check_nan

    def __exit__(self, *exc):
        AutogradFlags.anomaly, AutogradFlags.anomaly_check_nan = self.prev
        return False


class set_detect_anomaly:
    """Turn anomaly detection on or off (``mode``); also a context manager restoring the old setting."""

    def __init__(self, mode, check_nan=True):
        self.prev = (AutogradFlags.anomaly, AutogradFlags.anomaly_check_nan)
        AutogradFlags.anomaly, AutogradFlags.anomaly_check_nan = bool(mode), check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        AutogradFlags.anomaly, AutogradFlags.anomaly_check_nan = self.prev
        return False


def is_anomaly_enabled():
    """True while anomaly detection is on."""
    return AutogradFlags.anomaly


def is_anomaly_check_nan_enabled():
    return AutogradFlags.anomaly_check_nan
