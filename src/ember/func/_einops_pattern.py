"""Parsing of einops-style patterns (``"b (h w) c -> b h w c"``) for :func:`ember.func.rearrange`.

One side of a pattern parses to a list of *groups*: a list of axis names for a name or a parenthesised
composition, ``[]`` for an anonymous ``1`` axis, or :data:`ELLIPSIS` for ``...``.  Messages and warnings
follow ``torch.func.rearrange``.
"""
import keyword
import warnings

ELLIPSIS = "\u2026"  # "..." is rewritten to this single character so it reads as one identifier


def _check_name(name):
    """Raise for a name that is not a valid axis identifier; warn as einops does for discouraged names."""
    if not name.isidentifier():
        raise ValueError(f"Invalid axis identifier: {name}\nnot a valid python identifier")
    if name[0] == "_" or name[-1] == "_":
        raise ValueError(f"Invalid axis identifier: {name}\naxis name should should not start or end with underscore")
    if keyword.iskeyword(name):
        warnings.warn(f"It is discouraged to use axes names that are keywords: {name}", RuntimeWarning)
    if name == "axis":
        warnings.warn("It is discouraged to use 'axis' as an axis name and will raise an error in future",
                      FutureWarning)


class Side:
    """One side of a pattern: ``groups`` (see the module docstring), ``names`` (every axis name, ``ELLIPSIS``
    included), and whether an ellipsis occurs, inside parentheses or not."""

    def __init__(self, expression):
        self.groups, self.names = [], set()
        self.has_ellipsis, self.ellipsis_in_group = False, False
        self.has_numbered_axis = False  # an anonymous axis longer than 1, which rearrange rejects
        if "." in expression:
            if "..." not in expression:
                raise ValueError("Expression may contain dots only inside ellipsis (...)")
            if expression.count("...") != 1 or expression.count(".") != 3:
                raise ValueError("Expression may contain dots only inside ellipsis (...); only one ellipsis for "
                                 "tensor ")
            expression = expression.replace("...", ELLIPSIS)
            self.has_ellipsis = True
        group, word = None, ""
        for char in expression:
            if char in "() ":
                group = self._add(word, group)
                word = ""
                if char == "(":
                    if group is not None:
                        raise ValueError("Axis composition is one-level (brackets inside brackets not allowed)")
                    group = []
                elif char == ")":
                    if group is None:
                        raise ValueError("Brackets are not balanced")
                    self.groups.append(group)
                    group = None
            elif char.isalnum() or char in ("_", ELLIPSIS):
                word += char
            else:
                raise ValueError(f"Unknown character '{char}'")
        if group is not None:
            raise ValueError(f"Imbalanced parentheses in expression: '{expression}'")
        self._add(word, None)

    def _add(self, word, group):
        """Record ``word`` in the open ``group`` (a list) or as a group of its own (``group`` None)."""
        if not word:
            return group
        if word in self.names:
            raise ValueError(f"Indexing expression contains duplicate dimension '{word}'")
        if word == ELLIPSIS:
            self.names.add(ELLIPSIS)
            self.ellipsis_in_group = group is not None
            (self.groups if group is None else group).append(ELLIPSIS)
        elif word.isdecimal() and int(word) == 1:
            if group is None:  # a 1 inside parentheses multiplies nothing
                self.groups.append([])
        elif word.isdecimal():
            if int(word) < 1:
                raise ValueError(f"Anonymous axis should have positive length, not {int(word)}")
            self.has_numbered_axis = True
        else:
            _check_name(word)
            self.names.add(word)
            (self.groups if group is None else group).append([word] if group is None else word)
        return group


def parse(pattern, axes_lengths):
    """Parse and validate ``pattern`` for rearrange; return its left and right :class:`Side`."""
    try:
        left_text, right_text = pattern.split("->")
    except ValueError:
        raise ValueError("Pattern must contain a single '->' separator") from None
    if ELLIPSIS in axes_lengths:
        raise ValueError(f"'{ELLIPSIS}' is not an allowed axis identifier")
    left, right = Side(left_text), Side(right_text)
    if right.has_ellipsis and not left.has_ellipsis:
        raise ValueError(f"Ellipsis found in right side, but not left side of a pattern {pattern}")
    if left.ellipsis_in_group:
        raise ValueError(f"Ellipsis is parenthesis in the left side is not allowed: {pattern}")
    for length in axes_lengths.values():
        if type(length) is not int:
            raise TypeError(f"rearrange axis lengths must be integers, got: {type(length)}")
    if left.has_numbered_axis or right.has_numbered_axis:
        raise ValueError("rearrange only supports unnamed axes of size 1")
    only_one_side = left.names ^ right.names
    if only_one_side:
        raise ValueError(f"Identifiers only on one side of rearrange expression (should be on both): {only_one_side}")
    unknown = axes_lengths.keys() - left.names
    if unknown:
        raise ValueError(f"Identifiers not found in rearrange expression: {unknown}")
    return left, right
