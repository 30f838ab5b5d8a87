"""Loops over the rows of an array, counted: what `range(len(a))`, `range(a.shape[0])` or
`range(n)` runs over, and whether an output made by `np.zeros_like(a)` / `np.empty((n, k))`
has one row per step. The fill loop, the recurrence and the comprehension vectorizer all
ask these questions, so the answers live here, apart from each of them.
"""
from __future__ import annotations

import gast

from .facts import Kind

_LIKE = frozenset({"numpy.empty_like", "numpy.zeros_like", "numpy.ones_like", "numpy.full_like"})
_MAKERS = frozenset({"numpy.empty", "numpy.zeros", "numpy.ones", "numpy.full"})


class RowIndex:
    """The loop counter of a fill loop: `v[i]` means the first `count` rows of `v` at once
    (all of `rows` when `v` is the array the loop runs over); anything else done with `i` has
    no batching rule."""

    def __init__(self, rows: str | None, count: str):
        self.rows, self.count = rows, count


def range_bound(lw, node):
    """`n` of a `range(n)` call (the builtin, one argument), else None."""
    if isinstance(node, gast.Call) and lw.resolver.builtin(node.func) is range and len(node.args) == 1 \
            and not node.keywords:
        return node.args[0]
    return None


def steps_of(lw, bound):
    """For a loop over `range(bound)` with bound `len(a)`, `a.shape[0]` or a name `n`:
    (key, rows, count) — what fixes the number of steps, the array the loop runs over (or
    None) and the count's TF text. None for any other bound."""
    key = _count_key(lw, bound)
    if key is None:
        return None
    array = _rows_array(lw, bound)
    if array is not None:
        return key, array, f"tf.shape({array})[0]"
    if isinstance(bound, gast.Name):
        fact = lw.env.get(bound.id)
        if fact is not None and fact.kind is Kind.SCALAR and fact.pytype is int:
            return key, None, bound.id
    return None


def _rows_array(lw, node):
    """`len(a)` or `a.shape[0]` with `a` an array: the name `a`."""
    if isinstance(node, gast.Call) and lw.resolver.builtin(node.func) is len and len(node.args) == 1:
        node = node.args[0]
    elif isinstance(node, gast.Subscript) and isinstance(node.value, gast.Attribute) \
            and node.value.attr == "shape" and isinstance(node.slice, gast.Constant) and node.slice.value == 0:
        node = node.value.value
    else:
        return None
    if isinstance(node, gast.Name) and lw.env.get(node.id) is not None and lw.env[node.id].kind is Kind.ARRAY:
        return node.id
    return None


def _count_key(lw, node):
    """What a row count is, comparable across places: the reaching definitions of the array
    whose rows are counted, or of the name holding the count (followed through `n = len(a)`)."""
    if isinstance(node, gast.Call) and lw.resolver.builtin(node.func) is len and len(node.args) == 1:
        node, kind = node.args[0], "rows"
    elif isinstance(node, gast.Subscript) and isinstance(node.value, gast.Attribute) \
            and node.value.attr == "shape" and isinstance(node.slice, gast.Constant) and node.slice.value == 0:
        node, kind = node.value.value, "rows"
    elif isinstance(node, gast.Name):
        kind = "count"
        definitions = lw.resolver.definitions(node)
        statement = lw.resolver.parents.get(definitions[0]) if len(definitions) == 1 else None
        if isinstance(statement, gast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], gast.Name):
            followed = _count_key(lw, statement.value)
            if followed is not None:
                return followed
    else:
        return None
    return _definitions_key(lw, node, kind)


def own_rows_key(lw, name_node):
    """The row count of the array `name_node` names, as `_count_key` sees it (a loop over
    `range(len(a))` or `range(n)` with `n = a.shape[0]` has one step per row of `a`)."""
    return _definitions_key(lw, name_node, "rows")


def _definitions_key(lw, node, kind):
    if not isinstance(node, gast.Name):
        return None
    definitions = lw.resolver.definitions(node)
    return (kind, frozenset(map(id, definitions))) if definitions else None


def rows_key(lw, name_node):
    """The row count of an output, as `_count_key` sees it, from the single call that made it
    (`np.*_like(a)`, `np.zeros(a.shape)`, `np.zeros((len(a), k))`, `np.empty(n)`), else None."""
    definitions = lw.resolver.definitions(name_node)
    if len(definitions) != 1:
        return None
    statement = lw.resolver.parents.get(definitions[0])
    value = getattr(statement, "value", None)
    if not (isinstance(statement, gast.Assign) and isinstance(value, gast.Call) and value.args):
        return None
    maker, shape = lw.resolver.qualname(value.func), value.args[0]
    if maker in _LIKE:
        return _definitions_key(lw, shape, "rows")
    if maker not in _MAKERS:
        return None
    if isinstance(shape, gast.Attribute) and shape.attr == "shape":
        return _definitions_key(lw, shape.value, "rows")
    if isinstance(shape, (gast.Tuple, gast.List)) and shape.elts:
        shape = shape.elts[0]
    return _count_key(lw, shape)
