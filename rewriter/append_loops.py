"""Loops that append one value per row to a list, stacked after the loop, become one batched
computation:

    out = []
    for r in x:                  # range(len(x)), enumerate(x), zip(a, b), a fixed table
        m = h(r)
        out.append(g(r, m))
    y = np.stack(out, axis=-1)

becomes `m = h(x)` and `out = g(x, m)` on every row at once (the vectorizer's batching
rules), and the call that stacks the list puts the rows where NumPy puts them
(`stacking.py`). A list that anything else reads or changes keeps the loop a loop.
"""
from __future__ import annotations

import gast

from .batch_steps import loop_steps
from .edits import substitute
from .facts import Fact, Kind
from .handlers import registers
from .loops import read_after
from .lowered import Refusal
from .parse import Span
from .stacking import StackedRows, stacker
from .vectorize import lift


@registers("append")
def lower_append_loop(lw, node) -> bool:
    """`for r in x: out.append(g(r))` then `np.array(out)`: `out = g(x)`, stacked by the
    call. Returns False when the loop appends to no list made by `[]`, or does not run over
    rows; raises Refusal when it does but cannot be rewritten whole."""
    lists = _appended_lists(lw, node)
    if not lists:
        return False
    steps = loop_steps(lw, node)
    if steps is None:
        return False
    if node.orelse or lw.loop_depth:
        raise Refusal(node, "a loop that appends is vectorized only outside other loops and without `else`")
    temporaries = _temporaries(node, lists)
    if {n.id for n in gast.walk(node.iter) if isinstance(n, gast.Name)} & set(temporaries):
        raise Refusal(node, "the loop body rebinds a name the loop runs over: the loop stays a loop")
    for name in lists:
        _check_only_stacked(lw, node, name)
    for name in [*steps.element, *temporaries]:
        if read_after(lw, node, name):
            raise Refusal(node, f"`{name}` is read after the loop, where the rewrite would leave it holding "
                                "every row, not the last: the loop stays a loop")
    lines, results, extra = list(steps.prelude), {}, dict(steps.element)
    for statement in node.body:
        value_node = statement.value if isinstance(statement, gast.Assign) else statement.value.args[0]
        value = lift(lw, value_node, extra, strict=True)
        if value.fact.kind is not Kind.ARRAY or value.fact.dtype is None or value.fact.rank is None:
            raise Refusal(value_node, "the loop's values must be arrays of known dtype and rank to be stacked")
        if not value.fact.batched:
            raise Refusal(value_node, "this value does not depend on the loop's variable: it is the same "
                                      "array on every step, not one per row")
        text = substitute(value.text if value.changed else lw.source.segment(value_node), steps.over)
        stacked = value.fact.with_(rank=value.fact.rank + 1, batched=False, fresh=True)
        if isinstance(statement, gast.Assign):
            name = statement.targets[0].id
            extra[name] = value.fact
            results[name] = stacked
        else:
            name = statement.value.func.value.id
            results[name] = Fact(Kind.OTHER, value=StackedRows(stacked))
        lines.append(f"{name} = {text}")
    indent = lw.source.indent_of_line(node.lineno)
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(f"{indent}{line}\n" for line in lines)
    for made in lists.values():
        _delete_line(lw, made)
    lw.env.update(results)
    return True


def _appended_lists(lw, loop) -> dict:
    """{name: the `name = []` statement} for the lists the loop body appends to."""
    lists = {}
    for statement in loop.body:
        call = statement.value if isinstance(statement, gast.Expr) else None
        if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "append"
                and isinstance(call.func.value, gast.Name)):
            continue
        made = _made_empty(lw, call.func.value)
        if made is None:
            continue
        name = call.func.value.id
        if name in lists:
            raise Refusal(statement, f"`{name}` is appended to twice per step: its rows interleave, "
                                     "which is not vectorized yet")
        if len(call.args) != 1 or call.keywords:
            raise Refusal(statement, "`append` takes one value")
        if lw.resolver.parents.get(made) is not lw.resolver.parents.get(loop) or made.lineno > loop.lineno:
            raise Refusal(statement, f"`{name} = []` must come right before the loop, in the same block")
        lists[name] = made
    return lists


def _made_empty(lw, name):
    """The statement `name = []` when it is the only one that binds the name, else None."""
    definitions = lw.resolver.definitions(name)
    statement = lw.resolver.parents.get(definitions[0]) if len(definitions) == 1 else None
    if isinstance(statement, gast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.value, gast.List) and not statement.value.elts:
        return statement
    return None


def _temporaries(loop, lists) -> list:
    """The names the body assigns per step; every statement must assign one or append."""
    temporaries = []
    for statement in loop.body:
        if isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Call) \
                and isinstance(statement.value.func, gast.Attribute) \
                and getattr(statement.value.func.value, "id", None) in lists:
            continue
        if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], gast.Name)):
            raise Refusal(statement, "a loop that appends is vectorized when its body only assigns names and "
                                     "appends: this statement keeps it a loop")
        name = statement.targets[0].id
        if name in lists or name in temporaries:
            raise Refusal(statement, f"`{name}` is assigned twice per step: the loop stays a loop")
        temporaries.append(name)
    assigned = set()
    for statement in loop.body:  # read before the body assigns it: carried from the step before
        read = {n.id for n in gast.walk(statement.value) if isinstance(n, gast.Name)}
        carried = sorted(read & set(temporaries) - assigned)
        if carried:
            raise Refusal(statement, f"`{carried[0]}` carries from step to step: the loop stays a loop")
        if isinstance(statement, gast.Assign):
            assigned.add(statement.targets[0].id)
    return temporaries


def _check_only_stacked(lw, loop, name):
    """The list is read only by its `append` in the loop and by stacking calls after it."""
    function = lw.resolver.enclosing(loop, (gast.FunctionDef,)) or lw.fn
    stacked = 0
    for use in gast.walk(function):
        if not (isinstance(use, gast.Name) and use.id == name and isinstance(use.ctx, gast.Load)):
            continue
        parent = lw.resolver.parents.get(use)
        if isinstance(parent, gast.Attribute) and parent.attr == "append" \
                and lw.resolver.parents.get(lw.resolver.parents.get(parent)) in loop.body:
            continue
        if isinstance(parent, gast.Call) and parent.args and parent.args[0] is use and use.lineno > loop.end_lineno \
                and stacker(lw, parent) is not None:
            stacked += 1
            continue
        raise Refusal(use, f"`{name}` is read or changed other than by `{name}.append` in the loop and "
                           f"np.array/np.stack/np.concatenate after it: the loop stays a loop")
    if not stacked:
        raise Refusal(loop, f"`{name}` must be stacked after the loop (np.array, np.asarray, np.stack, "
                            "np.concatenate) for the loop to be vectorized")


def _delete_line(lw, statement):
    """Drop `name = []`: the rows tensor replaces the list (a line it shares stays)."""
    start = lw.source.line_starts[statement.lineno - 1]
    end = lw.source.line_starts[statement.end_lineno]
    if lw.source.text[start:end].strip() == lw.source.segment(statement).strip():
        lw.out.edits[Span(start, end)] = ""
