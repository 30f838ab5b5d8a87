"""Loops that fill an output row by row become one batched expression."""
from __future__ import annotations

import gast

from .facts import Fact, Kind, tf_name
from .handlers import registers
from .loops import read_after
from .parse import Span
from .rows import RowIndex, range_bound, rows_key, steps_of
from .vectorize import lift


@registers("fill")
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
