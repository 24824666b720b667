"""``ember.accelerator``: no accelerator is present; the CPU does the work."""


def is_available():
    """False: there is no accelerator."""
    return False


def current_accelerator(check_available=False):
    """None: there is no accelerator."""
    return None


def device_count():
    return 0
