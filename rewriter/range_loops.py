"""Scalar loops over `tf.range` inside TF code become whole-range vector ops.

Once the values a loop carries are recognised, its steps no longer depend on each other, so
every step is computed at once, one row per step:

* accumulations `r += e(i)` / `r -= e(i)`, maybe under `if`/`else` on `i`: one `tf.reduce_sum`;
* `loss += tf.reduce_mean(tf.square(pred[i] - y[i]))`: the reduction of every row at once
  (over all axes but the first), then one `tf.reduce_sum` over the steps. The float sum is
  regrouped, so it agrees with the loop's one-step-at-a-time adds to rounding: the tolerance
  is the verifier's for reductions (verification.py, "Tolerances": rtol 16 eps sqrt(N),
  clipped to 1e-5..1e-4 for float32, 1e-10..1e-7 for float64); integer sums are exact;
  gradients are the loop's, to the same tolerance. Rows of several tensors (`pred[i]`, `y[i]`)
  are aligned by `rows_side_by_side` (tf_helpers) so they broadcast as each step's rows do;
* TensorArray writes at the counter, `ta = ta.write(t, e(t))` or `f(x[t])`: `ta.unstack` of all
  the rows;
* folds with an associative op, `r = op(r, e)` for `+ -`, max, min and xor/and/or: the final
  value from `tf.reduce_sum` or an exact pairwise tree fold, and, when `r` is written each
  step, its running values from `tf.cumsum` or an exact log-step doubling scan.

The replacement evaluates the loop's `tf.range(...)` again for every value it stacks, with the
limit clamped to the start: traced, AutoGraph counts the steps without running the Range op,
so `tf.range(-1)` is zero steps there, not the Range op's error.

A fold whose steps each compute on whole tensors (`parity ^= (codes >> i) & 1`) keeps the
loop (RW318): stacking its steps costs one copy of those tensors per step and measured slower
than the loop. So does a product (RW313): the loop multiplies in order, from the carried value,
and any regrouping (`r * tf.reduce_prod`, `tf.math.cumprod` of the factors, a doubling scan)
overflows to inf or underflows to 0 at other steps. A body that rebinds a name the range reads
keeps the loop (RW312): the loop counts its steps once, before the first. Anything else carried
from one step to the next keeps the loop (RW311-RW317).

This module is the entry point, the clamped range and the plain accumulations; the general
form is analysed in range_loop_steps and written out in range_loop_emit.
"""
from __future__ import annotations

import gast

from .edits import substitute
from .lower import Refusal
from .range_loop_steps import Steps
from .range_loop_syntax import read_outside, rows_of, stored_names
from .sites import bind_arguments
from .vectorize import tf_elementwise

_RANGE = ("start", "limit", "delta", "dtype", "name")


def vectorize_range_loop(site, module, resolver):
    """The lines replacing a `for i in tf.range(...)` loop whose steps are independent once
    its accumulations, folds and TensorArray writes are recognised (see the module docstring)."""
    loop = site.call
    counter = loop.target.id
    scope = resolver.enclosing(loop, (gast.FunctionDef,)) or module.tree
    if read_outside(loop, counter, scope):
        raise Refusal(loop, f"`{counter}` is used after the loop (it would hold the last step)", "RW314")
    rebound = sorted({n.id for n in gast.walk(loop.iter) if isinstance(n, gast.Name)} & stored_names(loop.body))
    if rebound:
        names = ", ".join(f"`{name}`" for name in rebound)
        raise Refusal(loop, f"the loop body rebinds {names}, which the range reads: the loop counts its steps "
                            "once, before the first, and the rewrite would count them again after the update",
                      "RW312")
    steps, count = _step_range(loop.iter, module, resolver)
    try:
        return _accumulation(loop, counter, module, resolver, steps)
    except Refusal:
        if any(isinstance(s, gast.If) for s in loop.body):
            raise
    return Steps(loop, counter, scope, module, resolver, steps, count).rewrite()


def _step_range(call, module, resolver):
    """(the loop's `tf.range(...)` with its limit clamped to the start, the number of steps when it
    is `tf.range(n)`, else None). The clamp makes a range that runs zero times empty: traced,
    AutoGraph counts the steps itself and never runs the Range op, which raises for
    `tf.range(-1)`. (Run eagerly, the loop raises there and the rewrite runs zero steps.)"""
    segment = module.source.segment
    args = None if any(isinstance(a, gast.Starred) for a in call.args) else bind_arguments(call, _RANGE)
    if args is None or not args.keys() <= set(_RANGE) or "start" not in args:
        raise Refusal(call, "the range's arguments are not written out (start, limit, delta)", "RW312")
    start, limit, delta = args["start"], args.get("limit"), args.get("delta")
    if limit is None:
        start, limit = None, start
    sign = 1 if delta is None else _literal_sign(delta)
    if sign is None:
        raise Refusal(delta, f"the range's step `{segment(delta)}` is not a nonzero number written out: whether "
                             "it counts up or down (and so when it runs zero times) is not known", "RW312")
    lowest = "0" if start is None else segment(start)
    clamped = segment(limit) if start is None and sign > 0 and _never_negative(limit, resolver) \
        else f"tf.{'maximum' if sign > 0 else 'minimum'}({segment(limit)}, {lowest})"
    parts = ([] if start is None else [segment(start)]) + [clamped] + [
        f"{name}={segment(args[name])}" for name in ("delta", "dtype", "name") if name in args]
    counts = start is None and delta is None and len(call.args) == 1
    return f"{segment(call.func)}({', '.join(parts)})", clamped if counts else None


def _literal_sign(node):
    """1 or -1 for a nonzero number written out (`2`, `-1`, `0.5`), None for anything else."""
    signed = isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd))
    number = node.operand if signed else node
    if not (isinstance(number, gast.Constant) and type(number.value) in (int, float) and number.value):
        return None
    return -1 if signed and isinstance(node.op, gast.USub) else 1


def _never_negative(limit, resolver) -> bool:
    """A count that cannot be negative: a number written out, or the rows of a tensor."""
    if isinstance(limit, gast.Constant):
        return type(limit.value) is int and limit.value >= 0
    return rows_of(limit, resolver) is not None


# -- accumulations, maybe under if/else on the counter ---------------------------------------

def _accumulation(loop, counter, module, resolver, steps):
    """`r += e(i)` becomes `r = r + tf.reduce_sum(e(tf.range(...)))`; a branch becomes `tf.where`
    over the steps."""
    contributions: dict = {}
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
    """An expression of the counter, evaluated for every step at once. A value without the
    counter (`count += 1`) stays a loop: stacked, the number would take TF's default dtype,
    not the accumulator's, where the loop adds it in the accumulator's dtype."""
    if not any(isinstance(n, gast.Name) and n.id == counter for n in gast.walk(node)):
        raise Refusal(node, f"`{module.source.segment(node)}` does not depend on the loop counter: its dtype "
                            "comes from the accumulator at each step, so it stays a loop", "RW312")
    text = substitute(module.source.segment(node), {counter: steps})
    return f"({text})" if not text.startswith(("tf.", "(")) else text
