"""Matrix products: matmul (all broadcasting cases), mm, bmm, mv, dot, outer, einsum."""
from ._common import xp, Tensor, Node, attach, GradMode, _make, unbroadcast, Autocast, autocast_args
from .elementwise import write_out, _dtype_name


def _product(fn, a, b):
    """``fn(a, b)`` in ``a``'s dtype: NumPy computes bfloat16 products in float32, PyTorch rounds back."""
    r = fn(a, b)
    return r if r.dtype == a.dtype else r.astype(a.dtype)


def _product_result(res, node_cls, a, b, out):
    """Record ``node_cls`` for the product ``res`` of ``a`` and ``b`` when a graph is needed; honour ``out``."""
    if GradMode.enabled and (a._requires_grad or b._requires_grad):
        node = node_cls()
        node.save(a, b)
        attach(res, node, a, b)
    return write_out(out, res) if out is not None else res


def _same_dtype(a, b, op):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_dtype_name(a.dtype).lower()} != "
                           f"{_dtype_name(b.dtype).lower()}" if op != "dot" else
                           f"dot : expected both vectors to have same dtype, but found {_dtype_name(a.dtype)} and "
                           f"{_dtype_name(b.dtype)}")


class MmBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        ga = grad.mm(b.t()) if a._requires_grad else None
        gb = a.t().mm(grad) if b._requires_grad else None
        return ga, gb


def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors, (n, k) @ (k, m) -> (n, m)."""
    if Autocast.cpu_dtype is not None:
        input, mat2 = autocast_args(input, mat2)
    a, b = input._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'self' if a.ndim != 2 else 'mat2'} must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")
    _same_dtype(input, mat2, "mm")
    return _product_result(_make(_product(xp.matmul, a, b)), MmBackward0, input, mat2, out)


class BmmBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        ga = grad.bmm(b.transpose(1, 2)) if a._requires_grad else None
        gb = a.transpose(1, 2).bmm(grad) if b._requires_grad else None
        return ga, gb


def bmm(input, mat2, *, out=None):
    """Batched matrix product of 3-D tensors, (b, n, k) @ (b, k, m) -> (b, n, m)."""
    if Autocast.cpu_dtype is not None:
        input, mat2 = autocast_args(input, mat2)
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch{'1' if a.ndim != 3 else '2'} must be a 3D tensor")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
                           f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _same_dtype(input, mat2, "bmm")
    return _product_result(_make(_product(xp.matmul, a, b)), BmmBackward0, input, mat2, out)


class MatmulBackward0(Node):
    """Gradient of the general (broadcast, possibly vector) matmul."""

    def backward(self, grad):
        a, b = self.saved_tensors
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if a._requires_grad:
            ga = unbroadcast(g.matmul(b2.mT), a2.shape)
            ga = ga.squeeze(0) if a.ndim == 1 else ga
        if b._requires_grad:
            gb = unbroadcast(a2.mT.matmul(g), b2.shape)
            gb = gb.squeeze(-1) if b.ndim == 1 else gb
        return ga, gb


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch broadcasting: vectors, matrices and batches of matrices."""
    if Autocast.cpu_dtype is not None:
        input, other = autocast_args(input, other)
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 2 and b.ndim == 2:
        return mm(input, other, out=out)
    if a.ndim == 2 and b.ndim == 1:
        return mv(input, other, out=out)   # PyTorch's matmul dispatches here too (MvBackward0, mv's errors)
    _same_dtype(input, other, "matmul")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                               f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
                               "respectively")
        lhs = "x".join(str(s) for s in (a.shape if a.ndim <= 2 else (a.size // a.shape[-1], a.shape[-1])))
        rhs = "x".join(str(s) for s in (b.shape if b.ndim <= 2 else (b.shape[-2], b.shape[-1])))
        if a.ndim == 1:
            lhs = f"1x{a.shape[0]}"
        if b.ndim == 1:
            rhs = f"{b.shape[0]}x1"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lhs} and {rhs})")
    try:
        r = _product(xp.matmul, a, b)
    except ValueError:
        raise RuntimeError(f"The size of tensor a must match the size of tensor b at a non-singleton batch "
                           f"dimension: shapes {list(a.shape)} and {list(b.shape)}") from None
    node_cls = MatmulBackward0 if a.ndim != 1 or b.ndim != 1 else DotBackward0
    return _product_result(_make(r), node_cls, input, other, out)


class DotBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        return (grad * b if a._requires_grad else None), (grad * a if b._requires_grad else None)



def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors."""
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                           f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
                           "respectively")
    _same_dtype(input, tensor, "dot")
    return _product_result(_make(_product(xp.dot, a, b)), DotBackward0, input, tensor, out)


class MvBackward0(Node):
    def backward(self, grad):
        a, v = self.saved_tensors
        ga = grad.unsqueeze(1) * v.unsqueeze(0) if a._requires_grad else None
        gv = a.t().mv(grad) if v._requires_grad else None
        return ga, gv


def mv(input, vec, *, out=None):
    """Matrix-vector product, (n, m) @ (m,) -> (n,)."""
    a, v = input._data, vec._data
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {v.ndim}, {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), "
                           f"vec ({v.shape[0]})")
    _same_dtype(input, vec, "mv")
    return _product_result(_make(_product(xp.matmul, a, v)), MvBackward0, input, vec, out)


def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors -> (n, m)."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        name, bad = ("self", input) if input._data.ndim != 1 else ("vec2", vec2)
        raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {bad._data.ndim}-D")
    res = input.reshape(input._data.shape[0], 1) * vec2   # PyTorch's composition (ViewBackward0 -> MulBackward0)
    return write_out(out, res) if out is not None else res


ger = outer


class EinsumBackward(Node):
    """Gradient of einsum: for each operand, another einsum of the output gradient with the other operands.

    Letters summed in only one operand are broadcast back; repeated letters in one operand (a diagonal)
    are put back on the diagonal by an einsum with identity matrices; size-1 dims that broadcast in the
    forward are summed.  All of it is einsum, so higher derivatives come for free.
    """

    def name(self):
        return "EinsumBackward"

    def backward(self, grad):
        ops = self.saved_tensors
        ins, out_sub = self.subscripts
        sizes = self.sizes
        grads = []
        for i, t in enumerate(ops):
            if not t._requires_grad:
                grads.append(None)
                continue
            target = ins[i]
            others = [ops[j] for j in range(len(ops)) if j != i]
            other_subs = [ins[j] for j in range(len(ops)) if j != i]
            available = set(out_sub).union(*other_subs)
            unique = "".join(dict.fromkeys(target))
            kept = "".join(c for c in unique if c in available)
            g = _einsum_arrays(f"{','.join([out_sub] + other_subs)}->{kept}", [grad] + others)
            # letters only this operand had were summed in the forward: broadcast them back
            for pos, c in enumerate(unique):
                if c not in available:
                    g = g.unsqueeze(pos)
            full = [sizes[c] for c in unique]
            if list(g.shape) != full:
                g = g.expand(full)
            # repeated letters: place the gradient on the diagonal
            if len(unique) != len(target):
                fresh = iter(c for c in _LETTERS if c not in set("".join(ins) + out_sub))
                tgt, eyes, eye_subs, seen = [], [], [], set()
                for c in target:
                    if c in seen:
                        f = next(fresh)
                        tgt.append(f)
                        eyes.append(_eye_like(grad, sizes[c]))
                        eye_subs.append(c + f)
                    else:
                        seen.add(c)
                        tgt.append(c)
                g = _einsum_arrays(f"{','.join([unique] + eye_subs)}->{''.join(tgt)}", [g] + eyes)
            # size-1 dims of this operand that broadcast against other operands
            shape = tuple(t.shape)
            if tuple(g.shape) != shape:
                dims = tuple(k for k, (a, b) in enumerate(zip(g.shape, shape)) if a != b)
                g = g.sum(dims, keepdim=True)
            grads.append(g.reshape(shape) if tuple(g.shape) != shape else g)
        return tuple(grads)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _eye_like(t, n):
    from .creation import eye
    return eye(n, dtype=t.dtype)


def _parse_einsum(equation, operands):
    """The equation with '...' spelled out as letters: (input subscripts, output subscripts)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
        explicit = True
    else:
        lhs, rhs, explicit = eq, None, False
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(ins) else
                           "einsum(): fewer operands were provided than specified in the equation")
    for part in ins + ([rhs] if explicit else []):
        bad = [c for c in part.replace("...", "") if c not in _LETTERS]
        if bad:
            raise RuntimeError(f"einsum(): invalid subscript given at index {part.index(bad[0])} in the equation "
                               f"string, subscripts must be in [a-zA-Z]")
    used = set(lhs.replace("...", "").replace(",", "")) | set((rhs or "").replace("...", ""))
    free = [c for c in _LETTERS[26:] + _LETTERS[:26] if c not in used]
    n_ell = 0
    for sub, t in zip(ins, operands):
        if "..." in sub:
            n_ell = max(n_ell, t._data.ndim - len(sub.replace("...", "")))
    ell = "".join(free[:n_ell])
    out_ins = []
    for k, (sub, t) in enumerate(zip(ins, operands)):
        if "..." in sub:
            k_ell = t._data.ndim - len(sub.replace("...", ""))
            if k_ell < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(sub) - 3}) is more than "
                                   f"the number of dimensions ({t._data.ndim}) for operand {k}")
            sub = sub.replace("...", ell[n_ell - k_ell:])
        elif len(sub) != t._data.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(sub)}) does not match the "
                               f"number of dimensions ({t._data.ndim}) for operand {k} and no ellipsis was given")
        out_ins.append(sub)
    if explicit:
        rhs = rhs.replace("...", ell)
        for c in rhs:
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if not any(c in sub for sub in out_ins):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
    else:
        letters = "".join(sub.replace("...", "") for sub in ins)
        rhs = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return out_ins, rhs


def _letter_sizes(ins, operands):
    """The size of every letter (broadcast over operands); PyTorch's errors for mismatches."""
    sizes = {}
    for k, (sub, t) in enumerate(zip(ins, operands)):
        own = {}
        for c, n in zip(sub, t._data.shape):
            if c in own and own[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, "
                                   f"{own[c]} != {n}")
            own[c] = n
        for c, n in own.items():
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast "
                                   f"with previously seen size {prev}")
    return sizes


def _einsum_arrays(eq, tensors):
    """einsum of an explicit (no '...') equation over tensors, recording EinsumBackward."""
    ins, rhs = eq.split("->")
    ins = ins.split(",")
    arrays = [t._data for t in tensors]
    sizes = _letter_sizes(ins, tensors)
    # NumPy does not broadcast size-1 dims of repeated letters; expand size-1 dims explicitly
    fixed = []
    for sub, a in zip(ins, arrays):
        target = tuple(sizes[c] for c in sub)
        fixed.append(a if a.shape == target else xp.broadcast_to(a, target))
    r = xp.einsum(f"{','.join(ins)}->{rhs}", *fixed, optimize=len(fixed) > 2)
    res = _make(xp.ascontiguousarray(r) if isinstance(r, xp.ndarray) else xp.asarray(r))
    if GradMode.enabled and any(t._requires_grad for t in tensors):
        node = EinsumBackward()
        node.subscripts, node.sizes = (ins, rhs), sizes
        node.save(*tensors)
        attach(res, node, *tensors)
    return res


def _sublist_equation(args):
    """einsum(op1, sublist1, op2, sublist2, ..., [out_sublist]) -> (equation, operands)."""
    ops, subs = [], []
    args = list(args)
    while len(args) >= 2 and isinstance(args[0], Tensor):
        ops.append(args.pop(0))
        subs.append(args.pop(0))
    out = args.pop(0) if args else None

    def letters(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += "..."
            else:
                if not 0 <= v < 52:
                    raise RuntimeError(f"einsum(): subscript in subscript list is not within the valid range [0, 52)")
                s += _LETTERS[v]
        return s
    eq = ",".join(letters(s) for s in subs)
    if out is not None:
        eq += "->" + letters(out)
    return eq, ops


def einsum(*args):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; operands may also come as one list,
    and the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` works too.  '...' broadcasts."""
    if args and isinstance(args[0], Tensor):
        equation, operands = _sublist_equation(args)
    else:
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    dt = operands[0].dtype
    for t in operands[1:]:
        if t.dtype is not dt:
            raise RuntimeError(f"expected scalar type {_dtype_name(dt)} but found {_dtype_name(t.dtype)}")
    ins, rhs = _parse_einsum(equation, operands)
    return _einsum_arrays(f"{','.join(ins)}->{rhs}", list(operands))
