"""What an accumulating loop's body does, read from its syntax: the steps accumulate.py
turns into reductions over all rows (`s += v`, `s -= v`, `s = s + v`, `s = np.maximum(s, v)`,
`found = True` under a condition, `if v > best: best = v`), each under the conjunction of the
`if`/`elif`/`else` tests that lead to it, or None when the body is anything else.
"""
from __future__ import annotations

from dataclasses import dataclass

import gast

from .position_loops import rows_by_position


@dataclass
class Header:
    """A loop seen as a loop over the rows of an array: the row's name, `enumerate`'s counter
    (None without), the iterated array's node, the body to read (for a loop over positions,
    a copy that names the row `a[i]`), the loop's own names that must not be read after it, and
    for a loop over positions, how its rows are named (position_loops.Positions)."""

    row: str
    counter: str | None
    iterable: object
    body: list
    names: tuple
    positions: object = None


def loop_header(lw, node):
    """(row name, counter name or None, iterated node) of `for r in a` or
    `for i, r in enumerate(a)`; None for any other loop."""
    if node.orelse or not node.body:
        return None
    if isinstance(node.target, gast.Name):
        return node.target.id, None, node.iter
    call = node.iter
    if isinstance(node.target, gast.Tuple) and len(node.target.elts) == 2 \
            and all(isinstance(e, gast.Name) for e in node.target.elts) \
            and node.target.elts[0].id != node.target.elts[1].id \
            and isinstance(call, gast.Call) and lw.resolver.builtin(call.func) is enumerate \
            and len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], gast.Starred):
        counter, row = (e.id for e in node.target.elts)
        return row, counter, call.args[0]
    return None


def rows_header(lw, node) -> Header | None:
    """The header of `for r in a`, `for i, r in enumerate(a)`, or `for i in range(len(a))`
    whose body reads `a[i]` only (seen as a loop over the rows); None for any other loop."""
    header = loop_header(lw, node)
    if header is None:
        return None
    row, counter, iterable = header
    if counter is None:
        positions = rows_by_position(lw, node)
        if positions is not None:
            array, body, named = positions
            return Header(named.row, None, array, body, (row,), named)
    return Header(row, counter, iterable, node.body, (row, counter) if counter else (row,))


@dataclass
class Step:
    """One accumulation of a loop: `name op= value`, under `condition`: the (test, holds)
    pairs of the `if`/`elif`/`else` branches around it, all of which must hold."""

    name: str
    op: str          # "+", "-", "*", "|", "&", "max", "min" (np.maximum/minimum), "any", "all", "best"
    value: object    # the value expression's node (None for a flag)
    node: object     # the statement
    condition: tuple = ()
    stops: bool = False        # a flag followed by `break`
    largest: bool = True       # "best": a running maximum (else minimum)
    strict: bool = True        # "best": replaced only by a larger value (else also by an equal one)
    value_first: bool = False  # "best": `max(v, best)` rather than `max(best, v)`
    index: str | None = None   # "best": the name that keeps the loop counter of the best row
    index_value: object = None  # "best": the Name node assigned to it (the counter)


def counts_only_indexes(body, counter, steps) -> bool:
    """Whether `enumerate`'s counter is used only to remember the index of a best row."""
    kept = {id(step.index_value) for step in steps if step.index}
    return all(id(n) in kept for statement in body for n in gast.walk(statement)
               if isinstance(n, gast.Name) and n.id == counter)


_AUGMENTED = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.BitOr: "|", gast.BitAnd: "&"}


def accumulations(lw, statements, condition=()):
    """The accumulations of a loop body, under `if`/`elif`/`else` branches or after
    `if test: continue`; None for any other body."""
    out = []
    for index, statement in enumerate(statements):
        if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name) \
                and type(statement.op) in _AUGMENTED:
            op = _AUGMENTED[type(statement.op)]
            out.append(Step(statement.target.id, op, statement.value, statement, condition))
        elif (update := _rebinding_update(statement)) is not None:
            op, value = update
            out.append(Step(statement.targets[0].id, op, value, statement, condition))
        elif isinstance(statement, gast.Pass):
            continue
        elif condition and (flag := _flag_value(statement)) is not None:
            out.append(Step(statement.targets[0].id, "any" if flag else "all", None, statement, condition))
        elif isinstance(statement, gast.Break) and index == len(statements) - 1 and out \
                and out[-1].op in ("any", "all") and out[-1].condition is condition:
            out[-1].stops = True  # setting the flag again on later rows changes nothing
        elif _extremum_update(lw, statement):
            call = statement.value
            name = statement.targets[0].id
            other = call.args[1] if isinstance(call.args[0], gast.Name) and call.args[0].id == name else call.args[0]
            op = "max" if lw.resolver.qualname(call.func) == "numpy.maximum" else "min"
            out.append(Step(name, op, other, statement, condition))
        elif (best := _best_update(lw, statement)) is not None:
            best.condition = condition
            out.append(best)
        elif isinstance(statement, gast.If):
            if any(isinstance(n, gast.Continue) for n in gast.walk(statement)) and condition:
                return None  # a nested `continue` skips the statements after the branches around it too
            if len(statement.body) == 1 and isinstance(statement.body[0], gast.Continue) and not statement.orelse:
                rest = accumulations(lw, statements[index + 1:], ((statement.test, False),))
                return None if rest is None else out + rest
            body = accumulations(lw, statement.body, condition + ((statement.test, True),))
            orelse = accumulations(lw, statement.orelse, condition + ((statement.test, False),))
            if body is None or orelse is None:
                return None
            out += body + orelse
        else:
            return None
    return out


def order_dependent(steps) -> list:
    """The accumulators a step's value or condition reads (`if s > 10: s -= v`): each step
    then depends on the ones before it, which reductions over all rows can't reproduce."""
    names = {step.name for step in steps} | {step.index for step in steps if step.index}
    read = {n.id for step in steps for part in (step.value, *(test for test, _ in step.condition)) if part
            for n in gast.walk(part) if isinstance(n, gast.Name)}
    return sorted(names & read)


def conflicting(steps) -> str | None:
    """The first accumulator whose steps can't be combined, else None. Several steps on one
    name combine when they commute: sums and differences (`+`, `-`), or all products, all
    np.maximum, all np.minimum, all flags set the same way; a running best (which keeps one
    row, the first it meets) and a best row's index stand alone."""
    kinds: dict = {}
    for step in steps:
        kinds.setdefault(step.name, []).append("+" if step.op == "-" else step.op)
    indexes = [step.index for step in steps if step.index]
    for name, ops in kinds.items():
        if len(set(ops)) != 1 or (len(ops) > 1 and ops[0] == "best") or name in indexes:
            return name
    return next((name for name in indexes if indexes.count(name) > 1), None)


def _rebinding_update(statement):
    """(op, value) of `s = s + v`, `s = s - v`, `s = s * v`, `s = v + s` or `s = v * s`; else None."""
    if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], gast.Name) and isinstance(statement.value, gast.BinOp)
            and type(statement.value.op) in (gast.Add, gast.Sub, gast.Mult)):
        return None
    name, value = statement.targets[0].id, statement.value
    op = _AUGMENTED[type(value.op)]
    if isinstance(value.left, gast.Name) and value.left.id == name:
        return op, value.right
    if op != "-" and isinstance(value.right, gast.Name) and value.right.id == name:
        return op, value.left
    return None


def _flag_value(statement):
    """`name = True` or `name = False`: the constant, else None."""
    if isinstance(statement, gast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], gast.Name) and isinstance(statement.value, gast.Constant) \
            and isinstance(statement.value.value, bool):
        return statement.value.value
    return None


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


# `v OP best`: (keeps the largest, replaced only by a strictly better value)
_ORDER = {gast.Gt: (True, True), gast.GtE: (True, False), gast.Lt: (False, True), gast.LtE: (False, False)}
_MIRRORED = {gast.Gt: gast.Lt, gast.GtE: gast.LtE, gast.Lt: gast.Gt, gast.LtE: gast.GtE}


def _best_update(lw, statement):
    """`if v > best: best = v` (`>=`, `<`, `<=`, either side; optionally also `best_i = i`)
    or `best = max(best, v)` / `min`: a "best" step, else None."""
    if isinstance(statement, gast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], gast.Name) and isinstance(statement.value, gast.Call):
        call, name = statement.value, statement.targets[0].id
        builtin = lw.resolver.builtin(call.func)
        if builtin not in (max, min) or call.keywords or len(call.args) != 2 \
                or any(isinstance(a, gast.Starred) for a in call.args):
            return None
        mine = [isinstance(a, gast.Name) and a.id == name for a in call.args]
        if sum(mine) != 1:
            return None
        value = call.args[1] if mine[0] else call.args[0]
        return Step(name, "best", value, statement, largest=builtin is max, value_first=mine[1])
    if not (isinstance(statement, gast.If) and not statement.orelse and isinstance(statement.test, gast.Compare)
            and len(statement.test.ops) == 1 and type(statement.test.ops[0]) in _ORDER
            and 1 <= len(statement.body) <= 2
            and all(isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name)
                    for s in statement.body)):
        return None
    test = statement.test
    left, right, op = test.left, test.comparators[0], type(test.ops[0])
    assigned = {s.targets[0].id: s.value for s in statement.body}
    if len(assigned) != len(statement.body):
        return None
    for name, value in assigned.items():
        for mine, other, order in ((right, left, op), (left, right, _MIRRORED[op])):
            if isinstance(mine, gast.Name) and mine.id == name and gast.dump(other) == gast.dump(value):
                largest, strict = _ORDER[order]
                step = Step(name, "best", value, statement, largest=largest, strict=strict)
                rest = [(n, v) for n, v in assigned.items() if n != name]
                if rest:
                    step.index, step.index_value = rest[0]
                    if not isinstance(step.index_value, gast.Name):
                        return None
                return step
    return None
