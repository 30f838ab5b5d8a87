"""Accumulating loops over the rows of an array become reductions.

`for r in a: s += f(r)` sums `f` over every row at once; conditions on the row become masks
(`tf.where` with the neutral element), running extrema become `tf.reduce_max`/`tf.reduce_min`.
"""
from __future__ import annotations

from dataclasses import dataclass

import gast

from . import facts as F
from .emit import substitute
from .facts import Fact, Kind
from .lower import Lowered
from .parse import Span
from .vectorize import lift


def lower_accumulating_loop(lw, node) -> bool:
    """`for r in a: s += f(r)` (and `*=`) becomes `s = s + tf.reduce_sum(f(a), axis=0)`;
    `s = np.maximum(s, f(r))` (or minimum) becomes a maximum with `tf.reduce_max` (both
    propagate NaN, as NumPy does).

    Sums and products may sit under `if c(r):` / `else:`, or follow `if c(r): continue`:
    rows the condition leaves out add the neutral element (0 or 1) through `tf.where`.
    Returns False when the loop is not of that shape (it is then lowered as a loop)."""
    if node.orelse or not isinstance(node.target, gast.Name) or not node.body:
        return False
    steps = _accumulations(lw, node.body, None)
    if not steps:
        return False
    accumulators = [step.name for step in steps]
    for name in set(accumulators):
        fact = lw.env.get(name)
        if fact is None or (fact.kind is Kind.ARRAY and (name in lw.aliased or not fact.fresh)):
            return False  # undefined, or an in-place update others would see
    if read_after_loop(lw, node):
        return False  # the loop variable is read after the loop (it would hold the last row)
    read = {n.id for step in steps for n in gast.walk(step.value) if isinstance(n, gast.Name)}
    read |= {n.id for step in steps if step.condition for n in gast.walk(step.condition[0]) if isinstance(n, gast.Name)}
    if len(set(accumulators)) != len(accumulators) or read & set(accumulators):
        return False
    rows = lw.expr(node.iter)
    fact = rows.fact
    if fact.kind is not Kind.ARRAY or not fact.rank or fact.dtype is None or fact.batched:
        return False
    element = {node.target.id: fact.with_(rank=fact.rank - 1, batched=True, fresh=False)}
    lines, results = [], {}
    indent = lw.source.indent_of_line(node.lineno)
    for step in steps:
        value = lift(lw, step.value, element)
        if value is not None and value.fact.kind is Kind.SCALAR and value.fact.known and not value.fact.tensor:
            # `count += 1`: the same number for every row.
            dtype = F.as_dtype(value.fact.pytype)
            value = Lowered(f"tf.fill(tf.shape({node.target.id})[:1], tf.constant({value.text}, {F.tf_name(dtype)}))",
                            Fact(Kind.ARRAY, dtype=dtype, rank=0, batched=True, fresh=True), True)
        if value is None or value.fact.kind is not Kind.ARRAY:
            return False
        name = step.name
        current = Lowered(name, lw.env[name])
        if step.op in ("max", "min"):
            total = _extremum(lw, step, current, value.with_unbatched())
        else:
            total = lw.binop(step.node, gast.Add() if step.op == "+" else gast.Mult(), current, value.with_unbatched())
        if total is None or (lw.env[name].kind is Kind.ARRAY and total.fact.dtype != lw.env[name].dtype):
            return False  # an in-place dtype change: leave it to the plain loop lowering
        if step.condition is not None:
            value = _masked(lw, step, step.condition, value, element)
            if value is None:
                return False
        reduction = {"+": "tf.reduce_sum", "*": "tf.reduce_prod", "max": "tf.reduce_max", "min": "tf.reduce_min"}[step.op]
        reduced = f"{reduction}({substitute(value.text, {node.target.id: rows.text})}, axis=0)"
        if step.op in ("max", "min"):
            combine = "tf.maximum" if step.op == "max" else "tf.minimum"
            lines.append(f"{indent}{name} = {combine}({name}, {reduced})\n")
        else:
            lines.append(f"{indent}{name} = {name} {step.op} {reduced}\n")
        results[name] = total.fact.with_(fresh=True)
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(lines)
    lw.env.update(results)
    return True


@dataclass
class _Step:
    """One accumulation of a loop: `name op= value`, under `condition` (test, holds) if any."""

    name: str
    op: str          # "+", "*", "max", "min"
    value: object    # the value expression's node
    node: object     # the statement
    condition: tuple | None = None


def _extremum(lw, step, current, value):
    """NumPy's result of `np.maximum(s, v)` (the dtype the accumulator ends with)."""
    import numpy as np

    if current.fact.kind is not Kind.ARRAY and current.fact.kind is not Kind.SCALAR:
        return None
    fact = lw._numpy_result(step.node, np.maximum, (current.fact, value.fact), {})
    return Lowered("", fact, True) if fact.kind is Kind.ARRAY else None


def read_after_loop(lw, loop) -> bool:
    """Whether the loop variable is read after the loop before something rebinds it (a later
    `for` over the same name rebinds it first)."""
    name = loop.target.id
    function = lw.resolver.enclosing(loop, (gast.FunctionDef,)) or lw.fn
    rebinding = [n for n in gast.walk(function) if isinstance(n, gast.For) and n is not loop
                 and isinstance(n.target, gast.Name) and n.target.id == name and n.lineno > loop.end_lineno]
    for node in gast.walk(function):
        if isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load) \
                and node.lineno > loop.end_lineno \
                and not any(r.lineno <= node.lineno <= r.end_lineno for r in rebinding):
            return True
    return False


def _accumulations(lw, statements, condition):
    """The accumulations of a loop body, possibly under one level of `if`/`else` or after
    `if test: continue` (sums and products only); None for any other body."""
    out = []
    for index, statement in enumerate(statements):
        if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name) \
                and isinstance(statement.op, (gast.Add, gast.Mult)):
            op = "+" if isinstance(statement.op, gast.Add) else "*"
            out.append(_Step(statement.target.id, op, statement.value, statement, condition))
        elif condition is None and _extremum_update(lw, statement):
            call = statement.value
            name = statement.targets[0].id
            other = call.args[1] if isinstance(call.args[0], gast.Name) and call.args[0].id == name else call.args[0]
            op = "max" if lw.resolver.qualname(call.func) == "numpy.maximum" else "min"
            out.append(_Step(name, op, other, statement))
        elif isinstance(statement, gast.If) and condition is None:
            if len(statement.body) == 1 and isinstance(statement.body[0], gast.Continue) and not statement.orelse:
                rest = _accumulations(lw, statements[index + 1:], (statement.test, False))
                return None if rest is None else out + rest
            body = _accumulations(lw, statement.body, (statement.test, True))
            orelse = _accumulations(lw, statement.orelse, (statement.test, False))
            if body is None or orelse is None or any(s.op in ("max", "min") for s in body + orelse):
                return None
            out += body + orelse
        else:
            return None
    return out


def _extremum_update(lw, statement) -> bool:
    """`s = np.maximum(s, v)` or `s = np.minimum(v, s)`."""
    if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], gast.Name) and isinstance(statement.value, gast.Call)):
        return False
    call = statement.value
    if lw.resolver.qualname(call.func) not in ("numpy.maximum", "numpy.minimum") or call.keywords \
            or len(call.args) != 2:
        return False
    name = statement.targets[0].id
    return sum(isinstance(a, gast.Name) and a.id == name for a in call.args) == 1


def _masked(lw, step, condition, value, element):
    """The per-row contribution where the condition selects the row, the neutral element
    elsewhere: `tf.where(c, v, 0)` (or 1 for a product)."""
    test, holds = condition
    mask = lift(lw, test, element)
    if mask is None or mask.fact.kind is not Kind.ARRAY or mask.fact.dtype is None or mask.fact.dtype.kind != "b":
        return None
    mask, value = lw.align_batched(step.node, [mask, value])
    neutral = "tf.zeros_like" if step.op == "+" else "tf.ones_like"
    chosen, other = (value.text, f"{neutral}({value.text})") if holds else (f"{neutral}({value.text})", value.text)
    return Lowered(f"tf.where({mask.text}, {chosen}, {other})", value.fact, True)

