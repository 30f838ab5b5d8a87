"""Why a loop stays a loop: the report's words for loops none of the vectorizer's forms took.

Such loops are still rewritten (their bodies become TF and AutoGraph compiles the loop); the
note tells the user what keeps them from being whole-array code, so they can restructure it.
"""
from __future__ import annotations

import gast


def read_after(lw, loop, name) -> bool:
    """Whether `name` is read after the loop (where a loop rewritten as whole-array code would
    leave it holding something else): later in the function, or anywhere in a loop around it
    (its next iteration reads it); a later `for` over the same name rebinds it first."""
    function = lw.resolver.enclosing(loop, (gast.FunctionDef,)) or lw.fn
    rebinding = [n for n in gast.walk(function) if isinstance(n, gast.For) and n is not loop
                 and name in {t.id for t in gast.walk(n.target) if isinstance(t, gast.Name)}
                 and n.lineno > loop.end_lineno]
    around = [n for n in gast.walk(function) if isinstance(n, (gast.For, gast.While)) and n is not loop
              and n.lineno <= loop.lineno and loop.end_lineno <= n.end_lineno]
    for node in gast.walk(function):
        if not (isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load)):
            continue
        if loop.lineno <= node.lineno <= loop.end_lineno:
            continue
        if any(outer.lineno <= node.lineno <= outer.end_lineno for outer in around):
            return True
        if node.lineno > loop.end_lineno and not any(r.lineno <= node.lineno <= r.end_lineno for r in rebinding):
            return True
    return False


def why_kept(loop, env: dict, in_python: bool) -> str:
    """One phrase on what keeps `loop` a loop."""
    prefix = "it runs in Python when traced (unrolled); " if in_python else ""
    return prefix + _cause(loop, env)


def _cause(loop, env) -> str:
    body = list(_own_statements(loop.body))
    if any(isinstance(s, (gast.Break, gast.Return)) for s in body):
        return "it leaves early (`break`/`return`) on a condition that changes per step"
    if isinstance(loop, gast.While):
        return "a `while` loop runs until its condition fails, which no whole-array op expresses"
    if any(isinstance(t, gast.Subscript) for s in body for t in _targets(s)):
        return "it writes into arrays at positions that change per step"
    assigned = {t.id for s in body for t in _targets(s) for t in gast.walk(t) if isinstance(t, gast.Name)}
    read = {n.id for s in body for n in gast.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    carried = sorted(name for name in assigned & read if name in env)
    if carried:
        names = ", ".join(f"`{name}`" for name in carried)
        return (f"{names} carr{'ies' if len(carried) == 1 else 'y'} from step to step in a way that is not a "
                "sum, product, extremum, any/all, running total or a recurrence of plain assignments")
    if any(isinstance(s, (gast.For, gast.While, gast.If, gast.With, gast.Try)) for s in loop.body):
        return "its body has branches or nested loops the vectorizer does not lift"
    return "its body has no batching rule for every operation in it"


def _own_statements(statements):
    """Statements of a loop body, descending into branches but not into nested loops or defs."""
    for statement in statements:
        yield statement
        if isinstance(statement, (gast.If, gast.With, gast.Try)):
            for field in ("body", "orelse", "finalbody"):
                yield from _own_statements(getattr(statement, field, []))
            for handler in getattr(statement, "handlers", []):
                yield from _own_statements(handler.body)


def _targets(statement):
    if isinstance(statement, gast.Assign):
        return statement.targets
    if isinstance(statement, (gast.AugAssign, gast.AnnAssign)):
        return [statement.target]
    if isinstance(statement, gast.For):
        return [statement.target]
    return []
