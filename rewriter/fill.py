"""Loops that fill an output row by row become one batched expression."""
from __future__ import annotations

import gast

from .facts import Fact, Kind, tf_name
from .loops import read_after
from .parse import Span
from .vectorize import lift


_LIKE = frozenset({"numpy.empty_like", "numpy.zeros_like", "numpy.ones_like", "numpy.full_like"})
_MAKERS = frozenset({"numpy.empty", "numpy.zeros", "numpy.ones", "numpy.full"})


class RowIndex:
    """The loop counter of a fill loop: `v[i]` means the first `count` rows of `v` at once
    (all of `rows` when `v` is the array the loop runs over); anything else done with `i` has
    no batching rule."""

    def __init__(self, rows: str | None, count: str):
        self.rows, self.count = rows, count


def lower_fill_loop(lw, node) -> bool:
    """`out = np.empty_like(a); for i in range(len(a)): m = h(a[i]); out[i] = g(a[i], b[i], m)`
    becomes `m = h(a); out = g(a, b, m)` (cast to out's dtype).

    The outputs must have exactly as many rows as the loop has steps (made `*_like` the rows,
    or `np.zeros((len(a), k))`, `np.empty(a.shape)`, `np.zeros((n, k))` with `range(n)`), so
    every row is written once. Per-step temporaries must not be read after the loop (they would
    hold the whole batch, not the last row). Returns False when the loop is not of that shape."""
    if node.orelse or not isinstance(node.target, gast.Name) or not node.body:
        return False
    counter = node.target.id
    bound = range_bound(lw, node.iter)
    steps = steps_of(lw, bound) if bound is not None else None
    if steps is None:
        return False
    key, rows, count = steps
    writes, temporaries = [], []
    for statement in node.body:
        if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1):
            return False
        target = statement.targets[0]
        if isinstance(target, gast.Name) and target.id != counter:
            temporaries.append(target.id)
        elif isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) \
                and isinstance(target.slice, gast.Name) and target.slice.id == counter:
            writes.append(target.value.id)
        else:
            return False
    outputs = set(writes)
    if not writes or len(outputs) != len(writes) or outputs & set(temporaries) \
            or len(set(temporaries)) != len(temporaries):
        return False
    for statement in node.body:
        if isinstance(statement.targets[0], gast.Subscript):
            out = statement.targets[0].value
            fact = lw.env.get(out.id)
            if fact is None or fact.kind is not Kind.ARRAY or fact.rank is None or fact.dtype is None \
                    or out.id in lw.aliased or not fact.fresh or rows_key(lw, out) != key:
                return False  # only a fresh output with one row per step
    names = {n.id for s in node.body for n in gast.walk(s.value) if isinstance(n, gast.Name)}
    if names & outputs:
        return False  # an output feeds itself: a recurrence
    if _read_before_assigned(node.body, temporaries) or read_after(lw, node, counter) \
            or any(read_after(lw, node, t) for t in temporaries):
        return False
    extra = {counter: Fact(Kind.OTHER, value=RowIndex(rows, count))}
    lines, results = [], {}
    indent = lw.source.indent_of_line(node.lineno)
    for statement in node.body:
        target = statement.targets[0]
        value = lift(lw, statement.value, extra)
        if value is None or value.fact.kind is not Kind.ARRAY or not value.fact.batched or value.fact.dtype is None:
            return False
        text = value.text if value.changed else lw.source.segment(statement.value)
        if isinstance(target, gast.Name):
            extra[target.id] = value.fact
            results[target.id] = value.fact.with_(rank=value.fact.rank + 1, batched=False, fresh=True)
            lines.append(f"{indent}{target.id} = {text}\n")
            continue
        fact = lw.env[target.value.id]
        if value.fact.rank != fact.rank - 1:
            return False  # a row broadcast into the output: left to the loop
        if value.fact.dtype != fact.dtype:
            text = f"tf.cast({text}, {tf_name(fact.dtype)})"
        # NumPy broadcasts each row into the output's row (and raises where it cannot)
        lines.append(f"{indent}{target.value.id} = tf.broadcast_to({text}, tf.shape({target.value.id}))\n")
        results[target.value.id] = fact.with_(fresh=True)
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(lines)
    lw.env.update(results)
    return True


def _read_before_assigned(body, temporaries) -> bool:
    """Whether a temporary is read in the body before the body assigns it (it is carried)."""
    assigned = set()
    for statement in body:
        if {n.id for n in gast.walk(statement.value) if isinstance(n, gast.Name)} & (set(temporaries) - assigned):
            return True
        if isinstance(statement.targets[0], gast.Name):
            assigned.add(statement.targets[0].id)
    return False


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
