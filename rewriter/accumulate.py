"""Accumulating loops over the rows of an array become reductions.

`for r in a: s += f(r)` sums `f` over every row at once; `if`/`elif`/`else` tests on the row
select the rows each branch's `f` is computed on (`tf.boolean_mask`, or `tf.where` where that
is as safe: branch_values.py), running extrema become `tf.reduce_max`/`tf.reduce_min`,
flags set under a condition become `tf.reduce_any`/`tf.reduce_all`, and Python's
`if v > best: best = v` (or `best = max(best, v)`) keeps its own choice of row: the first of
the largest, never a NaN.

`accumulation_steps.py` reads what the body accumulates; this module lowers each step.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import gast
import numpy as np

from . import facts as F
from .accumulation_steps import (
    accumulations,
    conflicting,
    counts_only_indexes,
    order_dependent,
    rows_header,
)
from .branch_values import computable_on_any_element, selected_values
from .edits import fresh_name, names_in, substitute
from .facts import Fact, Kind
from .handlers import registers
from .loops import read_after
from .lowered import Inconsistent, Lowered, Refusal
from .parse import Span
from .pattern import logical_not, nan_keeping
from .vectorize import lift


@registers("accumulate")
def lower_accumulating_loop(lw, node) -> bool:
    """`for r in a: s += f(r)` (and `*=`) becomes `s = s + tf.reduce_sum(f(a), axis=0)`;
    `s = np.maximum(s, f(r))` (or minimum) becomes a maximum with `tf.reduce_max` (both
    propagate NaN, as NumPy does). On booleans, `found |= c(r)` and `ok &= c(r)` become
    `tf.reduce_any`/`tf.reduce_all`, as does a flag set under a condition
    (`if c(r): found = True`, with or without `break`). `if v(r) > best: best = v(r)` and
    `best = max(best, v(r))` pick the row Python would pick (`for i, r in enumerate(a)` may
    also keep its index).

    Steps may sit under `if`/`elif`/`else` branches, or follow `if c(r): continue`: each
    reduction runs over the rows its branch's tests select (`tf.boolean_mask`, or a double
    `tf.where` for values safe to compute anywhere, see branch_values.py). One accumulator may
    be updated in several branches when its steps commute (`s += f(r)` in one, `s -= g(r)` in
    another); `n += 1` on a Python number counts the rows taken, exactly. The loop may also
    be `for i in range(len(a))` reading `a[i]` only (position_loops.py).
    Returns False when the loop is not of that shape (it is then lowered as a loop)."""
    header = rows_header(lw, node)
    steps = accumulations(lw, header.body) if header else None
    if not steps:
        return False
    row, counter, iterable = header.row, header.counter, header.iterable
    if any(step.stops for step in steps) and len(steps) != 1:
        return False  # a `break` would end the other accumulations early too
    if conflicting(steps) is not None or any(lw.env.get(name) is None for name in _accumulators(steps)):
        return False
    if header.iterable is not node.iter and header.iterable.id in _accumulators(steps):
        return False  # `a[i]` reads the array as the loop has changed it so far
    for step in steps:
        fact = lw.env[step.name]
        if isinstance(step.node, gast.AugAssign) and fact.kind is Kind.ARRAY \
                and (step.name in lw.aliased or not fact.fresh):
            return False  # an in-place update others would see
    if any(read_after(lw, node, name) for name in header.names):
        return False  # the loop variable would hold the last row (or index) after the loop
    carried = order_dependent(steps)
    if carried:
        _note(lw, node, f"a condition or value reads {_names(carried)}, which the loop accumulates: each step "
                        "depends on the ones before, so the order of the steps matters and no reduction "
                        "over all rows gives the same")
        return False
    if counter and not counts_only_indexes(header.body, counter, steps):
        return False
    if any(_may_fail_on_other_rows(step) for step in steps):
        _note(lw, node, "an `elif` test divides: on the rows an earlier test takes, the loop never "
                        "evaluates it, and evaluated on every row it may divide by zero")
        return False
    rows = lw.expr(iterable)
    fact = rows.fact
    if fact.kind is not Kind.ARRAY or not fact.rank or fact.dtype is None or fact.batched:
        return False
    loop = _Rows(row, counter, rows.text, {row: fact.with_(rank=fact.rank - 1, batched=True, fresh=False)},
                 lw.source.indent_of_line(node.lineno), names_in(lw.resolver.module.tree), header.positions)
    lines, results = [], {}
    for step in steps:
        lowering = _best if step.op == "best" else _flag if step.op in ("any", "all") \
            else _count if _is_count(lw, step) else _reduction
        lowered = lowering(lw, step, loop)
        if lowered is None:
            return False
        lines += lowered[0]
        for name, fact in lowered[1].items():
            if results.setdefault(name, fact) != fact:
                return False  # the dtype would depend on which branches the rows take
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(f"{loop.indent}{line}\n" for line in lines)
    lw.env.update(results)
    return True


@dataclass
class _Rows:
    """The loop seen as a batch: its variable (and `enumerate`'s counter), the rows' array (as
    TF text), the facts in scope for one row, and what the replacement lines need (indentation,
    names already taken)."""

    name: str
    counter: str | None
    text: str
    element: dict
    indent: str
    taken: set
    positions: object = None  # for `for i in range(len(a))`: how `a[i]` is named (position_loops)

    def lift(self, lw, expression):
        """`expression` lowered for every row at once (None when it does not lift)."""
        value = lift(lw, expression, self.element)
        if value is not None and self.positions is not None:
            value = Lowered(self.positions.named_rows(value.text), value.fact, True)
        return value

    def over_rows(self, text: str) -> str:
        return substitute(text, {self.name: self.text})

    def fresh(self, wanted: str) -> str:
        return fresh_name(wanted, self.taken)


def _per_row(value):
    """A lifted value that is an array for every row at once (None when it did not lift, or
    when it does not depend on the row: then it is one value, not one per row)."""
    if value is None or value.fact.kind is not Kind.ARRAY or value.fact.dtype is None or value.fact.rank is None \
            or not value.fact.batched:
        return None
    return value


def _accumulators(steps) -> set:
    return {step.name for step in steps} | {step.index for step in steps if step.index}


def _names(names) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _note(lw, loop, why: str):
    """Say why an accumulating loop stays a loop (shown with the conversion's notes)."""
    note = f"line {loop.lineno}: loop kept: {why}"
    if note not in lw.out.notes:
        lw.out.notes.append(note)


def _may_fail_on_other_rows(step) -> bool:
    """Whether a test after the first of a step's conditions divides (or raises to a power).
    The loop evaluates an `elif` test (or a nested one) only on the rows the tests before it
    let through; the mask evaluates it on every row, where an integer division by zero raises
    in TF."""
    return any(isinstance(n, gast.BinOp) and isinstance(n.op, (gast.Div, gast.FloorDiv, gast.Mod, gast.Pow))
               for test, _ in step.condition[1:] for n in gast.walk(test))


_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "|": np.bitwise_or, "&": np.bitwise_and,
           "max": np.maximum, "min": np.minimum}
_REDUCTIONS = {"+": "tf.reduce_sum", "-": "tf.reduce_sum", "*": "tf.reduce_prod", "|": "tf.reduce_any",
               "&": "tf.reduce_all", "max": "tf.reduce_max", "min": "tf.reduce_min"}
_OPERATORS = {"+": gast.Add, "-": gast.Sub, "*": gast.Mult, "|": gast.BitOr, "&": gast.BitAnd}


def _reduction(lw, step, loop):
    """`s op= v(r)` (or `s = s op v(r)`) or `s = np.maximum(s, v(r))`: one reduction over the
    rows, combined with `s`; `s -= v(r)` subtracts the sum. Each row's value is first converted
    to the accumulator's result dtype, as NumPy does at every step (a bool counted into an
    int, ints summed into a float). Under a condition, the sum runs over the rows it selects
    (branch_values.py says when selecting computed values is as safe as gathering the rows)."""
    name = step.name
    current = Lowered(name, lw.env[name])
    value = loop.lift(lw, step.value)
    if value is None:
        return None
    try:
        result = lw._numpy_result(step.node, _UFUNCS[step.op], (current.fact, value.fact.with_(batched=False)), {})
    except (Refusal, Inconsistent):
        return None
    if result.kind is not Kind.ARRAY or result.dtype is None:
        return None
    if result.rank != (current.fact.rank if current.fact.kind is Kind.ARRAY else 0):
        return None  # `s = 0.0; s += row`: its shape would depend on whether there are rows
    if current.fact.kind is Kind.ARRAY and result.dtype != current.fact.dtype:
        return None  # an in-place dtype change: leave it to the plain loop lowering
    if (step.op in ("|", "&")) != (result.dtype.kind == "b"):
        return None  # bitwise on integers (no exact reduction in TF), or a sum of bools (a logical or)
    if value.fact.kind is Kind.SCALAR and value.fact.known and not value.fact.tensor:
        # `count += 1`: the same number for every row.
        value = Lowered(f"tf.fill(tf.shape({loop.name})[:1], tf.constant({value.text}, {F.tf_name(result.dtype)}))",
                        Fact(Kind.ARRAY, dtype=result.dtype, rank=0, batched=True, fresh=True), True)
    value = _per_row(value)
    if value is None:
        return None
    if value.fact.dtype != result.dtype:
        value = Lowered(f"tf.cast({value.text}, {F.tf_name(result.dtype)})", value.fact.with_(dtype=result.dtype), True)
    if step.op in _OPERATORS:
        total = lw.binop(step.node, _OPERATORS[step.op](), current, value.with_unbatched())
        if total.fact.dtype != result.dtype:
            return None
    values = substitute(value.text, {loop.name: loop.text})
    if step.condition and step.op in ("+", "-") and computable_on_any_element(lw, step.value, loop):
        mask = _condition_mask(lw, step.condition, loop)
        if mask is None:
            return None
        values = selected_values(step.value, value.text, loop, loop.over_rows(mask), result.dtype)
    elif step.condition:
        rows = _selected_rows(lw, step, loop)
        if rows is None:
            return None
        values = substitute(value.text, {loop.name: rows})
    reduced = f"{_REDUCTIONS[step.op]}({values}, axis=0)"
    if step.op in ("max", "min") and result.dtype.kind == "f":
        reduced = f"(lambda v: {nan_keeping(_REDUCTIONS[step.op], 'v', ', axis=0')})({values})"
    if step.op in ("max", "min"):
        # A Python start as a tensor of the result's dtype (traced, tf.maximum(0, x) makes the 0
        # an int32); convert_to_tensor, as a step in another branch may have made it one already.
        start = f"tf.convert_to_tensor({name}, {F.tf_name(result.dtype)})" if current.fact.kind is Kind.SCALAR \
            else name
        line = f"{name} = {'tf.maximum' if step.op == 'max' else 'tf.minimum'}({start}, {reduced})"
    else:
        line = f"{name} = {name} {step.op} {reduced}"
    return [line], {name: result.with_(fresh=True)}


def _is_count(lw, step) -> bool:
    """`n += k` (or `-=`) with `k` a Python int and `n` a Python number (or a count already)."""
    start = lw.env[step.name]
    return step.op in ("+", "-") and isinstance(step.value, gast.Constant) and type(step.value.value) is int \
        and start.kind is Kind.SCALAR and start.pytype in (int, float)


def _count(lw, step, loop):
    """`n += k`: `k` times the number of rows the conditions take, counted exactly in int64.
    `n` stays a Python number held as a tensor (int64 for an int, float64 for a float), so the
    code after the loop promotes it as NumPy promotes the number."""
    name, start, k = step.name, lw.env[step.name], step.value.value
    dtype = np.dtype("int64") if start.pytype is int else np.dtype("float64")
    if start.tensor and start.dtype != dtype:
        return None
    if start.known and not -2 ** 62 < start.value < 2 ** 62 or not -2 ** 31 < k < 2 ** 31:
        return None  # a Python int can outgrow int64
    if step.condition:
        mask = _condition_mask(lw, step.condition, loop)
        if mask is None:
            return None
        counted = f"tf.math.count_nonzero({loop.over_rows(mask)})"
    else:
        counted = f"tf.shape({loop.text}, out_type=tf.int64)[0]"
    if k != 1:
        counted = f"{k} * {counted}"
    if dtype.kind == "f":
        counted = f"tf.cast({counted}, tf.float64)"
    return [f"{name} = {name} {step.op} {counted}"], {name: Fact(Kind.SCALAR, pytype=start.pytype, tensor=True,
                                                                 dtype=dtype)}


def _flag(lw, step, loop):
    """`if c(r): found = True` leaves `found or any(c)`; `if c(r): ok = False` leaves
    `ok and all(not c)`. A `break` after it only stops early: the result is the same.
    It must start as a Python bool, so that it stays one in NumPy; here it becomes a 0-d bool
    array, which NumPy's arithmetic treats as it treats the bool (`found * 2.5` is 2.5)."""
    start = lw.env[step.name]
    if start.kind is not Kind.SCALAR or start.pytype is not bool:
        return None
    mask = _condition_mask(lw, step.condition, loop)
    if mask is None:
        return None
    rows = loop.over_rows(mask if step.op == "any" else logical_not(mask))
    name = step.name
    line = f"{name} = {name} | tf.reduce_any({rows})" if step.op == "any" \
        else f"{name} = {name} & tf.reduce_all({rows})"
    return [line], {name: F.array(bool, 0, fresh=True)}


def _best(lw, step, loop):
    """`if v(r) > best: best = v(r)` (or `best = max(best, v(r))`): Python keeps the first row
    whose value is the largest, and only if it beats the start; a NaN value is never taken and
    a NaN start is never replaced. The rows' values are reduced with NaN left out, and the row
    picked by position (`tf.gather`), so the sign of a zero and the index come out as Python's.
    With `>=` the last of the largest rows is kept instead."""
    value = _per_row(loop.lift(lw, step.value))
    if value is None or value.fact.rank != 0 or value.fact.dtype.kind not in "iuf":
        return None
    dtype = value.fact.dtype
    if step.value_first and dtype.kind == "f":
        which = "max" if step.largest else "min"
        raise Refusal(step.node, f"`{which}(v, {step.name})` lets a NaN `v` replace `{step.name}` and keeps `v` "
                                 f"on ties: only `{which}({step.name}, v)` becomes a reduction", "RW204")
    if isinstance(step.node, gast.If) and not _deterministic(lw, step.value, loop):
        return None  # `v` is evaluated twice (compared, then kept): it must give the same value
    name, start = step.name, lw.env[step.name]
    if not _holds_exactly(start, dtype):
        return None
    lines = [] if _as_tensor(name, start, dtype) == name else [f"{name} = {_as_tensor(name, start, dtype)}"]
    index = lw.env.get(step.index) if step.index else None
    if step.index and (step.index_value.id != loop.counter or index.kind is not Kind.SCALAR or index.pytype is not int
                       or step.condition):
        return None  # (under a condition, the position among the rows taken is not the row's)
    values = loop.over_rows(value.text)
    if step.condition:
        selected = _selected_rows(lw, step, loop)
        if selected is None:
            return None
        values = substitute(value.text, {loop.name: selected})
    reduce = "tf.reduce_max" if step.largest else "tf.reduce_min"
    results = {name: F.array(dtype, 0, fresh=True)}
    if dtype.kind in "iu" and not step.index:  # no NaN, and equal integers are the same value
        combine = "tf.maximum" if step.largest else "tf.minimum"
        return lines + [f"{name} = {combine}({name}, {reduce}({values}))"], results
    rows, top, at = (loop.fresh(f"{name}_{part}") for part in ("values", "top", "at"))
    candidates = rows
    if dtype.kind == "f":
        infinity = f"tf.constant(float('{'-' if step.largest else ''}inf'), {rows}.dtype)"  # a bare float is float32 in graphs
        candidates = f"tf.where(tf.math.is_nan({rows}), {infinity}, {rows})"
    compare = (">" if step.largest else "<") + ("" if step.strict else "=")
    taken = f"({rows} == {top}) & ({rows} {compare} {name})"
    size = f"tf.size({rows})"
    lines += [f"{rows} = {values}", f"{top} = {reduce}({candidates})"]
    if step.strict:  # the first row taken; the start, appended last, when none is
        lines += [f"{at} = tf.minimum(tf.reduce_min(tf.where({taken}, tf.range({size}), {size})), {size})",
                  f"{name} = tf.gather(tf.concat([{rows}, [{name}]], 0), {at})"]
        picked = f"{at} < {size}"
    else:  # the last row taken; the start, put first, when none is
        lines += [f"{at} = tf.maximum(tf.reduce_max(tf.where({taken}, tf.range({size}), -1)), -1)",
                  f"{name} = tf.gather(tf.concat([[{name}], {rows}], 0), {at} + 1)"]
        picked = f"{at} >= 0"
    if step.index:
        kept = _as_tensor(step.index, index, np.dtype("int64"))
        lines.append(f"{step.index} = tf.where({picked}, tf.cast({at}, tf.int64), {kept})")
        results[step.index] = Fact(Kind.SCALAR, pytype=int, tensor=True, dtype=np.dtype("int64"))
    return lines, results


def _holds_exactly(start: Fact, dtype) -> bool:
    """Whether the start of a running extremum is a `dtype` value, or a Python number that NumPy
    compares as that `dtype` (a weak scalar) and that `dtype` holds exactly, so the tensor
    standing for it has the same value whether or not a row replaces it."""
    if start.kind is Kind.ARRAY:
        return start.dtype == dtype and start.rank == 0 and not start.batched
    if start.kind is not Kind.SCALAR or start.pytype not in (int, float) \
            or (start.pytype is float and dtype.kind != "f"):
        return False
    if not start.known:
        return F.as_dtype(start.pytype) == dtype
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            held = np.array(start.value, dtype)
    except (OverflowError, ValueError, RuntimeWarning):
        return False
    return held.item() == start.value or (np.isnan(held) and start.value != start.value)


def _as_tensor(name, fact: Fact, dtype) -> str:
    """A scalar as a tensor of `dtype` (a Python number through tf.constant, which keeps a
    float64 exact where tf.cast would first make it a float32)."""
    if (fact.kind is Kind.ARRAY or fact.tensor) and fact.dtype == dtype:
        return name
    if fact.kind is Kind.SCALAR and not fact.tensor:
        return f"tf.constant({name}, {F.tf_name(dtype)})"
    return f"tf.cast({name}, {F.tf_name(dtype)})"


def _deterministic(lw, node, loop) -> bool:
    """Whether evaluating the expression twice gives the same value: NumPy functions other
    than random draws, and methods of the row or of arrays computed from it."""
    def array_valued(receiver) -> bool:
        if isinstance(receiver, gast.Name):
            fact = loop.element.get(receiver.id) or lw.env.get(receiver.id)
            return fact is not None and fact.kind is Kind.ARRAY
        if isinstance(receiver, (gast.Subscript, gast.Attribute)):
            return array_valued(receiver.value)
        return isinstance(receiver, (gast.Call, gast.BinOp, gast.UnaryOp))

    for call in (n for n in gast.walk(node) if isinstance(n, gast.Call)):
        qualname = lw.resolver.qualname(call.func)
        if qualname is not None:
            if not qualname.startswith("numpy.") or qualname.startswith("numpy.random."):
                return False
        elif isinstance(call.func, gast.Attribute):
            if not array_valued(call.func.value):
                return False
        elif lw.resolver.builtin(call.func) not in (abs, float, int, len, max, min):
            return False
    return True


def _selected(lw, test, loop):
    """The rows' truth values of an `if` test: a bool per row (NumPy's `if` on an array of
    more than one element raises, so only a scalar per row)."""
    mask = loop.lift(lw, test)
    if mask is None or mask.fact.kind is not Kind.ARRAY or mask.fact.dtype is None \
            or mask.fact.dtype.kind != "b" or mask.fact.rank != 0 or not mask.fact.batched:
        return None
    return mask


def _condition_mask(lw, condition, loop):
    """The truth value per row of all the tests leading to a step (`holds` False for an
    `else`/`elif` side), as text over the row's name; None when a test doesn't lift."""
    parts = []
    for test, holds in condition:
        mask = _selected(lw, test, loop)
        if mask is None:
            return None
        parts.append(mask.text if holds else logical_not(mask.text))
    mask = parts[0]
    for part in parts[1:]:
        mask = f"tf.logical_and({mask}, {part})"
    return mask


def _selected_rows(lw, step, loop):
    """The rows the conditions select (`tf.boolean_mask`), so the value is computed on those
    rows only: computed on every row and masked after, a value the loop never computes (a log
    of 0 on a skipped row) would turn the gradient NaN, and an inf or NaN there would have to
    be kept out of the sum."""
    mask = _condition_mask(lw, step.condition, loop)
    if mask is None:
        return None
    return f"tf.boolean_mask({loop.text}, {loop.over_rows(mask)})"
