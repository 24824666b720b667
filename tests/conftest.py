"""Shared pytest setup: the source tree on sys.path, and fixed seeds for every test."""
import random
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _seed():
    import ember
    random.seed(0)
    np.random.seed(0)
    ember.manual_seed(0)
    yield
