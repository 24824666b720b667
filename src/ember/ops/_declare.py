"""How an op says what it is, and the one function that builds the namespaces from what ops said.

An op is a plain function whose first argument is its input tensor, so the
same function object is ``ember.exp(x)`` and ``x.exp()``: a method call costs
one Python call.  Its family module declares it with ``@op(...)``::

    @op(inplace=True, aliases=("arctan",))
    def atan(input, *, out=None): ...

which makes ``ember.atan``, ``ember.arctan``, ``Tensor.atan``, ``Tensor.arctan``
and ``Tensor.atan_``/``Tensor.arctan_`` (built by ``_common.inplace``); ``inplace_function=True`` also
exports that in-place form as ``ember.atan_``/``ember.arctan_``, for the ops PyTorch has as
``torch.atan_``.  A function that is not
declared is not exported: it is a helper of the op layer (``ember.nn`` may
import it by name from its module).
"""
import inspect

_DECLARED = []    # (function, Declaration) in declaration order


class Declaration:
    """What ``@op`` recorded about one function.

    Attributes:
        name: the public name (defaults to the function's ``__name__``).
        function: whether it is ``ember.<name>``.
        method: whether it is ``Tensor.<name>``.
        inplace: None, True (build ``<name>_`` with ``_common.inplace``), or the in-place function itself.
        inplace_function: the names (among ``name`` and ``aliases``) whose in-place form is also
            ``ember.<name>_`` (PyTorch's ``torch.relu_``, ``torch.clamp_`` ...).
        aliases: more names with the same meaning, given the same roles (``ember.arctan``, ``Tensor.arctan``).
        operators: Tensor dunder names bound to the function (``__add__``, ``__radd__``).
        inplace_operators: Tensor dunder names bound to the in-place form (``__ipow__``).
    """

    __slots__ = ("name", "function", "method", "inplace", "aliases", "operators", "inplace_operators",
                 "inplace_function")

    def __init__(self, name, function, method, inplace, aliases, operators, inplace_operators, inplace_function):
        self.name, self.function, self.method, self.inplace = name, function, method, inplace
        self.aliases, self.operators, self.inplace_operators = tuple(aliases), tuple(operators), \
            tuple(inplace_operators)
        names = (name,) + self.aliases
        self.inplace_function = names if inplace_function is True else tuple(inplace_function or ())
        if not set(self.inplace_function) <= set(names):
            raise ValueError(f"inplace_function names {self.inplace_function} must be among {names}")


def op(fn=None, *, name=None, function=True, method=True, inplace=None, aliases=(), operators=(),
       inplace_operators=(), inplace_function=False):
    """Declare ``fn`` as a public op; usable bare (``@op``) or with options.

    Args:
        name: the public name, when it differs from ``fn.__name__``.
        function: export as ``ember.<name>``.
        method: bind as ``Tensor.<name>``.
        inplace: True to derive the in-place form ``<name>_`` from the op (with ``_common.inplace``), or a
            function implementing it; it is the method ``Tensor.<name>_`` when ``method`` is true.
        aliases: other public names for the same op.
        operators: Tensor operator names (``"__add__"``) to bind to ``fn``.
        inplace_operators: Tensor operator names (``"__ipow__"``) to bind to the in-place form.
        inplace_function: also export the in-place form as ``ember.<name>_``: True for the name and every
            alias, or a tuple of the names that get it (``("abs",)``: PyTorch has ``torch.abs_`` but no
            ``torch.absolute_``).

    Returns ``fn`` itself: declaring adds no call layer.
    """
    if (inplace_operators or inplace_function) and inplace is None:
        raise ValueError("inplace_operators and inplace_function need an in-place form (inplace=...)")

    def declare(f):
        _DECLARED.append((f, Declaration(name or f.__name__, function, method, inplace, aliases, operators,
                                         inplace_operators, inplace_function)))
        return f
    return declare(fn) if fn is not None else declare


def method(fn=None, *, name=None, aliases=(), operators=()):
    """Declare ``fn`` as a Tensor method only (no ``ember.<name>``)."""
    return op(fn, name=name, function=False, aliases=aliases, operators=operators)


def function(fn=None, *, name=None, aliases=(), inplace_function=False):
    """Declare ``fn`` as ``ember.<name>`` only (factories, functions of several tensors); with
    ``inplace_function=True`` its derived in-place form is ``ember.<name>_`` too (``torch.dropout_``)."""
    return op(fn, name=name, method=False, aliases=aliases, inplace=True if inplace_function else None,
              inplace_function=inplace_function)


def declarations():
    """Every ``(function, Declaration)`` pair, in declaration order."""
    return tuple(_DECLARED)


_CASES = {}   # public name -> [(position, tensor class, implementation)], in registration order


def case(cls, position, *names):
    """Declare the decorated function as the ``cls`` case of the ops ``names``: ``ember.<name>(...)`` runs it when
    the argument at ``position`` is exactly a ``cls`` (sparse tensors: ``ember.add(s, t)``, ``ember.mm(d, s)``),
    with the op's own arguments.  Methods of a ``cls`` instance (``position`` 0) come from the subclass itself;
    for ``position`` >= 1 the plain ``Tensor.<name>`` dispatches too (``d.add(s)``)."""
    def register(fn):
        for n in names:
            _CASES.setdefault(n, []).append((position, cls, fn))
        return fn
    return register


def _dispatching(default, cases):
    """``default`` preceded by a check for ``cases`` (one call layer, only on ops that have cases); an earlier
    argument's case wins (``addmm(input, sparse, sparse)`` is the sparse-``mat1`` case).

    The check is compiled with ``default``'s parameters (see :func:`_compiled_dispatch`): an identity test per
    case on a named argument (given by position or keyword), no loop over the cases."""
    cases = sorted(cases, key=lambda c: c[0])
    try:
        params = list(inspect.signature(default).parameters.values())
    except (TypeError, ValueError):
        params = None
    dispatch = _compiled_dispatch(default, cases, params) if params is not None else None
    if dispatch is None:
        def dispatch(*args, **kwargs):
            for position, cls, fn in cases:
                if len(args) > position and args[position].__class__ is cls:
                    return fn(*args, **kwargs)
            return default(*args, **kwargs)
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(dispatch, attr, getattr(default, attr, None))
    dispatch.__wrapped__ = default
    dispatch.layout_cases = cases
    return dispatch


def _given(*triples):
    """``{name: value}`` of the ``(name, value, default)`` whose value is not the default object: the options a
    caller gave, forwarded to a case as keywords."""
    return {name: value for name, value, default in triples if value is not default}


def _compiled_dispatch(default, cases, params):
    """The dispatcher of :func:`_dispatching` compiled with ``default``'s parameters, or None where a case's
    position is not a named positional parameter.

    The dense path calls ``default`` with every parameter (``def add(input, other, *, alpha=1, out=None)``: no
    ``*args``/``**kwargs`` repack); a case gets the arguments up to its position and the options that differ from
    their defaults, so it need not take options the caller left out.  Signatures with ``*args`` or
    positional-only parameters name the positional parameters up to the last case and forward the rest as given.
    """
    K = inspect.Parameter
    positional = [p for p in params if p.kind in (K.POSITIONAL_ONLY, K.POSITIONAL_OR_KEYWORD)]
    last = max(position for position, _, _ in cases)
    if last >= len(positional):
        return None
    namespace = {"_default": default, "_given": _given}

    def with_default(i, p):
        if p.default is K.empty:
            return p.name
        namespace[f"_d{i}"] = p.default
        return f"{p.name}=_d{i}"

    exact = not any(p.kind in (K.VAR_POSITIONAL, K.POSITIONAL_ONLY) for p in params)
    if exact:
        names, keyword_only = [], False
        for i, p in enumerate(params):
            if p.kind is K.KEYWORD_ONLY and not keyword_only:
                names.append("*")
                keyword_only = True
            names.append(("**" if p.kind is K.VAR_KEYWORD else "") + with_default(i, p))
        plain = [p for p in params if p.kind is not K.VAR_KEYWORD]
        call = ", ".join(f"{p.name}={p.name}" if p.kind is K.KEYWORD_ONLY else p.name for p in plain)
        call += "".join(f", **{p.name}" for p in params if p.kind is K.VAR_KEYWORD)
        # a case gets the positional arguments up to its position or the last required one, then the options
        required = max([last] + [i for i, p in enumerate(positional) if p.default is K.empty])
        options = [f"('{p.name}', {p.name}, _d{i})" for i, p in enumerate(params)
                   if i > required and p.kind is not K.VAR_KEYWORD]
        kwargs = "".join(f", **{p.name}" for p in params if p.kind is K.VAR_KEYWORD)
        case_call = ", ".join(p.name for p in positional[:required + 1]) + \
            f", **_given({', '.join(options)}){kwargs}"
    else:
        names = [with_default(i, p) for i, p in enumerate(positional[:last + 1])]
        names += ["/"] if positional[last].kind is K.POSITIONAL_ONLY else []
        names += ["*args", "**kwargs"]
        call = case_call = ", ".join(p.name for p in positional[:last + 1]) + ", *args, **kwargs"
    name = default.__name__ if default.__name__.isidentifier() else "dispatch"
    lines = [f"def {name}({', '.join(names)}):"]
    for k, (position, cls, fn) in enumerate(cases):
        namespace[f"_cls{k}"], namespace[f"_fn{k}"] = cls, fn
        lines.append(f"    if {positional[position].name}.__class__ is _cls{k}: return _fn{k}({case_call})")
    lines.append(f"    return _default({call})")
    exec("\n".join(lines), namespace)   # noqa: S102  source built above from parameter names only
    return namespace[name]


def undispatched(fn):
    """The op behind a layout-case dispatcher (``fn`` itself for any other function): tools that look at ops
    (the ONNX tracer, the profiler) see the op, not the check in front of it."""
    return fn.__wrapped__ if hasattr(fn, "layout_cases") else fn


def build_namespaces(tensor_cls, make_inplace):
    """The ``ember`` functions and ``Tensor`` methods the declarations describe.

    ``make_inplace(fn)`` builds an in-place method from an out-of-place op.
    Returns ``(functions, methods)``: two dicts from public name to callable.
    Raises RuntimeError when two declarations claim one name.
    """
    functions, methods = {}, {}

    def claim(table, key, value, what):
        if key in table and table[key] is not value:
            raise RuntimeError(f"{what} {key!r} is declared twice ({table[key].__module__} and {value.__module__})")
        table[key] = value

    for fn, d in _DECLARED:
        names = (d.name,) + d.aliases
        for n in names:
            if d.function:
                claim(functions, n, fn, "ember function")
            if d.method:
                claim(methods, n, fn, "Tensor method")
        for dunder in d.operators:
            claim(methods, dunder, fn, "Tensor operator")
        if d.inplace is not None:
            fn_ = make_inplace(fn) if d.inplace is True else d.inplace
            for n in names if d.method else ():
                claim(methods, n + "_", fn_, "Tensor method")
            for dunder in d.inplace_operators:
                claim(methods, dunder, fn_, "Tensor operator")
            for n in d.inplace_function:
                claim(functions, n + "_", fn_, "ember function")
    for name, cases in _CASES.items():
        if name in functions:
            functions[name] = _dispatching(functions[name], cases)
        later = [c for c in cases if c[0] >= 1]
        if later and name in methods:
            methods[name] = _dispatching(methods[name], later)
    return functions, methods
