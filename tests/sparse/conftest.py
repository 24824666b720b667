"""PyTorch's beta-state and invariant-check notices are not what these tests look at."""
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("ignore:Sparse (CSR tensor support|invariant checks)"))
