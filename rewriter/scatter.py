"""Loops that write into an array at positions read from data (`counts[label] += 1`,
`out[idx[i]] += v[i]`, `grid[i, j] += w`, `onehot[i, labels[i]] = 1`) become one scatter.

Each step writes one element (or one block of trailing axes) at integer positions the step
computes, so the positions and values of every step are computed at once and written with
one `tf.tensor_scatter_nd_*`, instead of a copy of the whole array per step. It is exact:

- `+=` / `-=`: steps hitting the same position all count, as NumPy adds them one by one;
  `tensor_scatter_nd_add`/`sub` sum duplicates too (floats may round in another order, as
  any TF sum does). Only where the sum keeps the array's dtype: NumPy casts each step's sum
  back into it, and truncating once is not truncating at every step.
- `=`: the last step writing a position wins in NumPy, while tensor_scatter_nd_update leaves
  duplicates unspecified; so only a value that is the same at every step is written (then
  which duplicate wins does not matter).
- Negative positions count from the end, as in NumPy; out-of-range ones raise, as NumPy does
  (on CPU; TF on GPU skips them).

The output must be an unaliased array of the function's own, the positions and values must
not read any output, and the loop's variables must not be read after the loop (it no longer
runs). Anything else returns False, and the walker keeps the loop (and refuses its writes).
"""
from __future__ import annotations

from dataclasses import dataclass

import gast

from .accumulation_steps import loop_header
from .edits import fresh_name, names_in, substitute
from .facts import Fact, Kind
from .handlers import registers
from .inplace import cast_into
from .loops import read_after
from .lowered import Inconsistent, Lowered, Refusal
from .parse import Span
from .rows import RowIndex, range_bound, steps_of
from .vectorize import lift

_OPS = {gast.Add: "add", gast.Sub: "sub"}
_POSITION_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"})
"""Position dtypes int64 holds exactly (positions are cast to it: one body for all of them)."""


@registers("scatter")
def lower_scatter_loop(lw, node) -> bool:
    """Rewrite `node` as one scatter per array it writes into; False when it is not that loop."""
    if node.orelse or lw.loop_depth or not node.body:
        return False
    loop = _loop_steps(lw, node)
    writes = [_write(statement) for statement in node.body]
    if loop is None or None in writes:
        return False
    outputs = [out for out, _ in writes]
    if len(set(outputs)) != len(outputs):
        return False  # two writes into one array: their order would matter
    read = {n.id for part in [node.iter] + [p for _, s in writes for p in _read_parts(s)]
            for n in gast.walk(part) if isinstance(n, gast.Name)}
    if read & set(outputs) or any(read_after(lw, node, name) for name in loop.names):
        return False  # an output read back (a recurrence), or a loop variable used after the loop
    indent = lw.source.indent_of_line(node.lineno)
    lines = list(loop.lines)
    for out, statement in writes:
        scatter = _scatter(lw, statement, out, loop)
        if scatter is None:
            return False
        lines += scatter
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(f"{indent}{line}\n" for line in lines)
    lw.out.patterns.add("ndarray.__setitem__")
    for out in outputs:
        lw.env[out] = lw.env[out].with_(fresh=True)
    return True


@dataclass
class _Steps:
    """The loop seen as all its steps at once: the facts of its variables for one step (lifted:
    batched), names to replace in lifted text (a row variable by the rows' array), lines that
    bind variables before the scatter, the count of steps (TF text), the variables, and the
    names the file already uses."""

    element: dict
    substitutions: dict
    lines: list
    count: str
    names: list
    taken: set


def _loop_steps(lw, node):
    """`for i in range(n)`, `for r in a`, `for i, r in enumerate(a)`, or `for i, j in pairs`
    (rows of a 2-d array unpacked): its _Steps, or None."""
    bound = range_bound(lw, node.iter)
    taken = names_in(lw.resolver.module.tree)
    if bound is not None:
        steps = steps_of(lw, bound) if isinstance(node.target, gast.Name) else None
        if steps is None:
            return None
        _, rows, count = steps
        if rows is None:
            count = f"tf.maximum({count}, 0)"  # range(n) runs no step for a negative n
        return _Steps({node.target.id: Fact(Kind.OTHER, value=RowIndex(rows, count))}, {}, [], count,
                      [node.target.id], taken)
    header = loop_header(lw, node)
    if header is not None:
        row, counter, iterable = header
    elif isinstance(node.target, gast.Tuple) and all(isinstance(e, gast.Name) for e in node.target.elts):
        row, counter, iterable = None, None, node.iter
    else:
        return None
    try:
        rows = lw.expr(iterable)
    except (Refusal, Inconsistent):
        return None
    fact = rows.fact
    if fact.kind is not Kind.ARRAY or not fact.rank or fact.dtype is None or fact.batched:
        return None
    count = f"tf.shape({rows.text})[0]"
    if row is None:  # `for i, j in pairs`: NumPy raises unless each row holds as many values
        names = [e.id for e in node.target.elts]
        if fact.rank != 2 or len(set(names)) != len(names):
            return None
        element = {name: fact.with_(rank=0, batched=True, fresh=False) for name in names}
        line = f"{', '.join(names)} = tf.unstack({rows.text}, num={len(names)}, axis=1)"
        return _Steps(element, {}, [line], count, names, taken)
    element = {row: fact.with_(rank=fact.rank - 1, batched=True, fresh=False)}
    if counter:
        element[counter] = Fact(Kind.OTHER, value=RowIndex(rows.text, count))
    return _Steps(element, {row: rows.text}, [], count, [row] + ([counter] if counter else []), taken)


def _write(statement):
    """(output name, statement) of `out[...] = v`, `out[...] += v` or `out[...] -= v`, or None."""
    if isinstance(statement, gast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
    elif isinstance(statement, gast.AugAssign) and type(statement.op) in _OPS:
        target = statement.target
    else:
        return None
    if not (isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name)):
        return None
    return target.value.id, statement


def _target(statement):
    return statement.targets[0] if isinstance(statement, gast.Assign) else statement.target


def _read_parts(statement):
    return [statement.value, _target(statement).slice]


def _scatter(lw, statement, out, loop):
    """The lines writing every step's value of `statement` into `out` at once, or None."""
    fact = lw.env.get(out)
    if fact is None or fact.kind is not Kind.ARRAY or fact.rank is None or fact.dtype is None \
            or out in lw.aliased or not fact.fresh:
        return None
    index = _target(statement).slice
    components = index.elts if isinstance(index, gast.Tuple) else [index]
    if len(components) > fact.rank:
        return None
    positions = [_position(lw, component, loop) for component in components]
    if None in positions:
        return None
    updates = _updates(lw, statement, out, len(components), loop)
    if updates is None:
        return None
    lines, at = _indices(out, positions, loop)
    op = _OPS.get(type(statement.op), "") if isinstance(statement, gast.AugAssign) else "update"
    return lines + [f"{out} = tf.tensor_scatter_nd_{op}({out}, {at}, {updates})"]


def _position(lw, node, loop):
    """TF text of one step's integer position on one axis, for all steps at once and as int64;
    None for anything else (a slice, a float, a bool, the same position at every step)."""
    if isinstance(node, gast.Name) and isinstance(getattr(loop.element.get(node.id), "value", None), RowIndex):
        return f"tf.range({loop.element[node.id].value.count}, dtype=tf.int64)"
    if isinstance(node, gast.Slice) or isinstance(node, gast.Constant) and node.value in (None, Ellipsis):
        return None
    value = lift(lw, node, loop.element)
    if value is None or value.fact.kind is not Kind.ARRAY or not value.fact.batched or value.fact.rank != 0 \
            or value.fact.dtype is None or value.fact.dtype.name not in _POSITION_DTYPES:
        return None
    return f"tf.cast({substitute(value.text if value.changed else lw.source.segment(node), loop.substitutions)}, " \
           "tf.int64)"


def _indices(out, positions, loop):
    """(lines, name) binding the positions as scatter indices, negative ones counted from the
    end."""
    at = fresh_name(f"{out}_at", loop.taken)
    stacked = f"tf.expand_dims({positions[0]}, 1)" if len(positions) == 1 else \
        f"tf.stack([{', '.join(positions)}], axis=1)"
    return [f"{at} = {stacked}",
            f"{at} = tf.where({at} < 0, {at} + tf.shape({out}, tf.int64)[:{len(positions)}], {at})"], at


def _updates(lw, statement, out, depth, loop):
    """Every step's value written at its position (shaped [steps, *the output's trailing
    axes]), in the output's dtype; None when it cannot be exact."""
    fact = lw.env[out]
    value = lift(lw, statement.value, loop.element)
    if value is None or value.fact.kind not in (Kind.ARRAY, Kind.SCALAR):
        return None
    per_step = value.fact.batched
    rank = value.fact.rank if value.fact.kind is Kind.ARRAY else 0
    trailing = fact.rank - depth
    if rank is None or rank > trailing or per_step and rank != trailing:
        return None
    if isinstance(statement, gast.AugAssign):
        if not _keeps_dtype(lw, statement, fact.with_(rank=trailing, fresh=False), value):
            return None
    elif per_step:
        return None  # the last write of a position wins: not what tensor_scatter_nd_update promises
    text = substitute(value.text if value.changed else lw.source.segment(statement.value), loop.substitutions)
    text = cast_into(value, fact.dtype, text)
    if per_step and not trailing:
        return text
    rows = f"[{loop.count}]" if not trailing else \
        f"tf.concat([[{loop.count}], tf.shape({out})[{depth}:]], axis=0)"
    return f"tf.broadcast_to({text}, {rows})"


def _keeps_dtype(lw, statement, element: Fact, value) -> bool:
    """Whether `out[p] op= v` keeps the output's dtype at every step (NumPy casts each step's
    result back into it, which one sum at the end would not repeat); never on bools."""
    if element.dtype.kind == "b":
        return False
    try:
        result = lw.binop(statement, statement.op, Lowered("element", element), value.with_unbatched())
    except (Refusal, Inconsistent):
        return False
    return result.fact.kind is Kind.ARRAY and result.fact.dtype == element.dtype and result.fact.rank == element.rank
