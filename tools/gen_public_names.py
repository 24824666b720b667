"""Write PyTorch's public names per namespace to ``tests/public_names_2_13.json``.

The list is read from the installed PyTorch (the test oracle, pinned to 2.13) with ``dir()``: every name
without a leading underscore, and for ``Tensor`` also its dunder methods.  Each name is stored with its
kind, so the test can leave out what is not API at all (stdlib/typing objects a module happens to import,
docstring fragments) without listing them by hand:

    function  a callable that is not a class
    class     a class (exceptions and dtypes' types included)
    module    a submodule of the namespace (``torch.fft``)
    import    anything the namespace merely imported: another module (``math``, ``torch`` itself), a
              ``typing``/``__future__``/builtins object, ``torch.Tensor`` re-exported in a submodule
    doc       a string, or a dict of strings (shared docstring fragments such as ``common_args``)
    value     anything else (dtypes, layouts, numbers, ``newaxis``)

The families PyTorch has and ember leaves out on purpose, each with its reason, are in
``tests/public_surface_exclusions.py``; ``tests/test_public_surface.py`` holds ember to the rest.

    .venv/bin/python tools/gen_public_names.py          # rewrite the list
    .venv/bin/python tools/gen_public_names.py --check  # exit 1 when the list differs from the oracle
"""
import argparse
import importlib
import inspect
import json
import os
import sys
import types
import typing

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "public_names_2_13.json")
NAMESPACES = ("torch", "Tensor", "nn", "nn.functional", "nn.init", "nn.utils", "optim", "optim.lr_scheduler",
              "autograd", "linalg", "fft", "special", "utils.data", "distributions", "func")


def namespace_object(torch, ns):
    """The torch object behind a namespace name (``"Tensor"`` is the class, others are modules)."""
    if ns == "torch":
        return torch
    if ns == "Tensor":
        return torch.Tensor
    return importlib.import_module("torch." + ns)


_FOREIGN = ("typing", "typing_extensions", "collections.abc", "builtins", "__future__")


def kind_of(torch, ns, name, value):
    """One of the kinds listed in the module docstring, for ``value`` found as ``name`` in namespace ``ns``."""
    if isinstance(value, types.ModuleType):
        path = "torch" if ns == "torch" else "torch." + ns
        return "module" if value.__name__ == f"{path}.{name}" else "import"
    if (getattr(value, "__module__", None) in _FOREIGN or type(value).__module__ in _FOREIGN[:2] + _FOREIGN[4:]
            or isinstance(value, (typing.TypeVar, typing.ParamSpec)) or value is typing.TYPE_CHECKING
            or (value is torch.Tensor and ns not in ("torch", "Tensor"))):
        return "import"
    if inspect.isclass(value):
        return "class"
    if callable(value):
        return "function"
    if isinstance(value, str) or (isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values())):
        return "doc"
    return "value"


def public_names(obj, dunders):
    """``dir(obj)`` without private names (dunders kept when ``dunders``)."""
    return sorted(n for n in dir(obj)
                  if not n.startswith("_") or (dunders and n.startswith("__") and n.endswith("__")))


def generate():
    """{"torch_version": ..., "namespaces": {namespace: {name: kind}}} read from the installed torch."""
    import torch
    table = {}
    for ns in NAMESPACES:
        obj = namespace_object(torch, ns)
        table[ns] = {n: kind_of(torch, ns, n, getattr(obj, n, None)) for n in public_names(obj, ns == "Tensor")}
    return {"torch_version": torch.__version__.split("+")[0], "namespaces": table}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed list instead of writing")
    args = parser.parse_args()
    data = generate()
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if args.check:
        with open(OUT) as f:
            if f.read() != text:
                print(f"{OUT} differs from the installed torch {data['torch_version']}", file=sys.stderr)
                sys.exit(1)
        return
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {OUT}: " + ", ".join(f"{ns} {len(v)}" for ns, v in data["namespaces"].items()))


if __name__ == "__main__":
    main()
