"""Scalar loops over `tf.range` inside TF code become whole-range vector ops."""
from __future__ import annotations

import gast

from .emit import substitute
from .lower import Refusal
from .vectorize import tf_elementwise


def vectorize_range_loop(site, module, resolver):
    """`for i in tf.range(...)` whose body only accumulates (`r += e`, `r -= e`, possibly under
    `if/else` on `i`) expressions of `i` and numbers: every iteration at once.

    `r += e(i)` becomes `r = r + tf.reduce_sum(e(tf.range(...)))`; a branch becomes `tf.where`
    over the steps. Returns the replacement lines."""
    loop = site.call
    counter = loop.target.id
    function = resolver.enclosing(loop, (gast.FunctionDef,))
    after = [n for n in gast.walk(function or module.tree) if isinstance(n, gast.Name) and n.id == counter
             and n.lineno > loop.end_lineno]
    if after:
        raise Refusal(loop, f"`{counter}` is used after the loop (it would hold the last step)", "RW314")
    contributions: dict = {}
    steps = module.source.segment(loop.iter)
    _collect(loop.body, counter, resolver, contributions, None, module, steps)
    if not contributions:
        raise Refusal(loop, "the loop does not accumulate anything", "RW311")
    indent = module.source.indent_of_line(loop.lineno)
    lines = []
    for name, parts in contributions.items():
        total = " + ".join(parts)
        lines.append(f"{indent}{name} = {name} + tf.reduce_sum({total})\n")
    return "".join(lines)


def _collect(statements, counter, resolver, out, condition, module, steps):
    for statement in statements:
        if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name) \
                and isinstance(statement.op, (gast.Add, gast.Sub)):
            if not tf_elementwise(statement.value, counter, resolver):
                raise Refusal(statement, "an accumulated value depends on more than the loop counter", "RW312")
            if statement.target.id == counter:
                raise Refusal(statement, "the loop updates its own counter", "RW312")
            value = _over_steps(statement.value, counter, steps, module)
            if isinstance(statement.op, gast.Sub):
                value = f"-{value}"
            if condition is not None:
                test, branch = condition
                chosen = (value, f"tf.zeros_like({value})") if branch else (f"tf.zeros_like({value})", value)
                value = f"tf.where({test}, {chosen[0]}, {chosen[1]})"
            out.setdefault(statement.target.id, []).append(value)
        elif isinstance(statement, gast.If) and condition is None:
            if not tf_elementwise(statement.test, counter, resolver):
                raise Refusal(statement, "the branch depends on more than the loop counter", "RW312")
            test = _over_steps(statement.test, counter, steps, module)
            _collect(statement.body, counter, resolver, out, (test, True), module, steps)
            _collect(statement.orelse, counter, resolver, out, (test, False), module, steps)
        else:
            raise Refusal(statement, "the loop body does more than accumulate: it stays a loop", "RW313")


def _over_steps(node, counter, steps, module) -> str:
    """An expression of the counter, evaluated for every step at once (constants broadcast)."""
    text = substitute(module.source.segment(node), {counter: steps})
    if not any(isinstance(n, gast.Name) and n.id == counter for n in gast.walk(node)):
        text = f"tf.broadcast_to({text}, tf.shape({steps}))"
    return f"({text})" if not text.startswith(("tf.", "(")) else text

