"""ember has PyTorch 2.13's public names, namespace by namespace, except the families excluded with a reason.

The names come from ``tests/public_names_2_13.json`` (``tools/gen_public_names.py`` writes it from the
installed torch); the exclusions and the shrinking ``NOT_YET`` list from ``tests/public_surface_exclusions.py``.
"""
import fnmatch
import importlib
import json
import os

import pytest
import torch

import ember
from public_surface_exclusions import EXCLUDED, NOT_YET

with open(os.path.join(os.path.dirname(__file__), "public_names_2_13.json")) as _f:
    PUBLIC = json.load(_f)
NAMESPACES = list(PUBLIC["namespaces"])


def ember_namespace(ns):
    """ember's counterpart of a PyTorch namespace (None when it is missing altogether)."""
    if ns == "torch":
        return ember
    if ns == "Tensor":
        return ember.Tensor
    try:
        return importlib.import_module("ember." + ns)
    except ImportError:
        return None


def has_name(ns, name, kind):
    """Whether ember's ``ns`` has ``name``; a submodule counts when ``import ember.<ns>.<name>`` works."""
    obj = ember_namespace(ns)
    if obj is None:
        return False
    if hasattr(obj, name):
        return True
    if kind == "module" and ns != "Tensor":
        prefix = "ember." if ns == "torch" else f"ember.{ns}."
        try:
            importlib.import_module(prefix + name)
        except ImportError:
            return False
        return True
    return False


def excluded(ns, name):
    """The family excluding ``ns.name``, or None."""
    for fam in EXCLUDED:
        if any(fnmatch.fnmatchcase(name, p) for p in fam.patterns.get(ns, ())):
            return fam
    return None


def required(ns):
    """The names of ``ns`` ember must have or list in NOT_YET: API kinds, outside the excluded families."""
    return sorted(n for n, kind in PUBLIC["namespaces"][ns].items()
                  if kind not in ("import", "doc") and excluded(ns, n) is None)


def test_list_matches_the_oracle():
    assert PUBLIC["torch_version"] == torch.__version__.split("+")[0]
    assert set(NAMESPACES) >= set(NOT_YET)


@pytest.mark.parametrize("ns", NAMESPACES)
def test_every_public_name_is_present(ns):
    kinds = PUBLIC["namespaces"][ns]
    not_yet = set(NOT_YET.get(ns, ()))
    missing = [n for n in required(ns) if n not in not_yet and not has_name(ns, n, kinds[n])]
    assert not missing, f"{ns}: missing names (add them, or list them in NOT_YET with the plan): {missing}"


@pytest.mark.parametrize("ns", NAMESPACES)
def test_not_yet_names_are_really_missing(ns):
    kinds = PUBLIC["namespaces"][ns]
    listed = NOT_YET.get(ns, ())
    assert list(listed) == sorted(set(listed)), "keep NOT_YET sorted and without repeats"
    unknown = [n for n in listed if n not in kinds or excluded(ns, n) is not None]
    assert not unknown, f"{ns}: NOT_YET names that torch lacks or a family excludes: {unknown}"
    present = [n for n in listed if has_name(ns, n, kinds[n])]
    assert not present, f"{ns}: these are implemented now, remove them from NOT_YET: {present}"


def test_every_exclusion_pattern_is_used():
    unused = [(fam.title, ns, p) for fam in EXCLUDED for ns, pats in fam.patterns.items() for p in pats
              if not fnmatch.filter(PUBLIC["namespaces"][ns], p)]
    assert not unused, f"exclusion patterns that match no PyTorch name: {unused}"
