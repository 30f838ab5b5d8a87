"""Loops that fill an output row by row become one batched expression."""
from __future__ import annotations

import gast

from .facts import Fact, Kind
from .parse import Span
from .vectorize import lift


_LIKE = frozenset({"numpy.empty_like", "numpy.zeros_like", "numpy.ones_like", "numpy.full_like"})


class RowIndex:
    """The loop counter of a fill loop over the rows of `rows` (an array name): `v[i]` means
    the batch of all rows of `v`, anything else done with `i` has no batching rule."""

    def __init__(self, rows: str):
        self.rows = rows


def lower_fill_loop(lw, node) -> bool:
    """`out = np.empty_like(a); for i in range(len(a)): out[i] = g(a[i], b[i])` becomes
    `out = g(a, b)` (cast to out's dtype). Returns False when the loop is not of that shape."""
    if node.orelse or not isinstance(node.target, gast.Name) or len(node.body) != 1:
        return False
    statement = node.body[0]
    if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], gast.Subscript)):
        return False
    target = statement.targets[0]
    counter = node.target.id
    if not (isinstance(target.value, gast.Name) and isinstance(target.slice, gast.Name)
            and target.slice.id == counter):
        return False
    rows = _range_over_rows(lw, node.iter)
    out = target.value.id
    fact = lw.env.get(out)
    if rows is None or fact is None or fact.kind is not Kind.ARRAY or fact.rank is None or fact.dtype is None:
        return False
    if out in lw.aliased or not fact.fresh or not _made_like(lw, target.value, rows):
        return False  # only an output shaped like the rows it is filled from
    reads = [n for n in gast.walk(statement.value) if isinstance(n, gast.Name)]
    if any(n.id == out for n in reads):
        return False  # the output feeds itself: a recurrence
    value = lift(lw, statement.value, {counter: Fact(Kind.OTHER, value=RowIndex(rows))})
    if value is None or value.fact.kind is not Kind.ARRAY or not value.fact.batched \
            or value.fact.rank != fact.rank - 1 or value.fact.dtype is None:
        return False
    text = value.text
    if value.fact.dtype != fact.dtype:
        from .facts import tf_name

        text = f"tf.cast({text}, {tf_name(fact.dtype)})"
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    indent = lw.source.indent_of_line(node.lineno)
    lw.out.edits[Span(start, end)] = f"{indent}{out} = {text}\n"
    lw.env[out] = fact.with_(fresh=True)
    return True


def _range_over_rows(lw, node):
    """`range(len(a))` or `range(a.shape[0])`: the name `a`, else None."""
    if not (isinstance(node, gast.Call) and lw.resolver.builtin(node.func) is range and len(node.args) == 1):
        return None
    bound = node.args[0]
    if isinstance(bound, gast.Call) and lw.resolver.builtin(bound.func) is len and len(bound.args) == 1:
        bound = bound.args[0]
    elif isinstance(bound, gast.Subscript) and isinstance(bound.value, gast.Attribute) \
            and bound.value.attr == "shape" and isinstance(bound.slice, gast.Constant) and bound.slice.value == 0:
        bound = bound.value.value
    else:
        return None
    if isinstance(bound, gast.Name) and lw.env.get(bound.id) is not None and lw.env[bound.id].kind is Kind.ARRAY:
        return bound.id
    return None


def _made_like(lw, name_node, rows: str) -> bool:
    """Whether the output was created by `np.*_like(rows)` (so it has exactly those rows)."""
    definitions = lw.resolver.definitions(name_node)
    if len(definitions) != 1:
        return False
    statement = lw.resolver.parents.get(definitions[0])
    value = getattr(statement, "value", None)
    return isinstance(statement, gast.Assign) and isinstance(value, gast.Call) \
        and lw.resolver.qualname(value.func) in _LIKE and value.args[:1] != [] \
        and isinstance(value.args[0], gast.Name) and value.args[0].id == rows

