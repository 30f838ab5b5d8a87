"""Loops over row indices whose steps each reduce a whole array against one row become one
computation over every (step, element) pair:

    for i in range(len(scores)):
        better = relevance > relevance[i]
        diffs = scores[better] - scores[i]
        total += float(np.maximum(0.0, MARGIN - diffs).sum())
        pairs += int(better.sum())

Each step's arrays are lifted to all steps at once (`relevance[i]` becomes a column, so
`better` is the [steps, n] matrix), and each accumulation is one `tf.reduce_sum` over the steps
of its per-step values. A boolean selection `scores[better]` has a different length at every
step, so it is never built: the elementwise work on it is done on all of `scores`, and the
reduction that ends it runs over `tf.where(better, value, identity)`, the selected elements and
the reduction's identity elsewhere: 0 for a sum; the lowest (highest) value for a max (min)
given `initial=` (without it, a max of an empty selection raises in NumPy). A mean is never
made one (it would need the count, and divides in another order). Only `+ - * / max min abs`
with a step's scalar lie between the selection and its reduction, so the gradient through an
element left out is 0, never 0 * inf.

Memory: the stacked steps hold one [steps, ...] copy of each step's arrays (n² elements for a
loop over the n rows of a vector), where the loop holds one step at a time. Float sums are
regrouped as in accumulate.py (within the verifier's reduction tolerance); integer sums are exact.
"""
from __future__ import annotations

import gast
import numpy as np

from . import facts as F
from .facts import Fact, Kind
from .handlers import registers
from .loops import read_after
from .lowered import Inconsistent, Lowered, Refusal
from .parse import Span
from .rows import RowIndex, range_bound, steps_of
from .vectorize import no_random_draw
from .walker import FunctionLowering

_ACCUMULATE = {gast.Add: "+", gast.Sub: "-"}
_REDUCTIONS = {"numpy.sum": "sum", "numpy.max": "max", "numpy.amax": "max", "numpy.min": "min", "numpy.amin": "min"}
"""The reductions that end a selection, each with an identity an element left out can take. A
max or min of an empty selection raises in NumPy, so those need `initial=` (the loop's value
then: the identity never wins against it)."""
_ELEMENTWISE_CALLS = frozenset({"numpy.maximum", "numpy.minimum", "numpy.abs", "numpy.absolute"})


@registers("pairwise")
def lower_pairwise_loop(lw, node) -> bool:
    """`for i in range(len(x)): t = f(x, x[i]); s += g(t)` becomes `t = f(x, x[:, None])`
    (one row per step) and `s = s + tf.reduce_sum(g(t), axis=0)`, with boolean selections made
    masked reductions (module docstring). False when the loop is not of that shape."""
    shape = _shape(lw, node)
    if shape is None:
        return False
    counter, (_, rows, count) = shape
    body = _Body(lw, {counter: Fact(Kind.OTHER, value=RowIndex(rows, count))}, count)
    lines, results = [], {}
    for statement in node.body:
        if isinstance(statement, gast.Assign):
            name = statement.targets[0].id
            value = body.temporary(name, statement.value)
            if value is None:
                return False
            body.element[name] = value.fact
            lines.append(f"{name} = {value.text}")
            continue
        line = body.accumulation(statement)
        if line is None:
            return False
        lines.append(line[0])
        results[statement.target.id] = line[1]
    indent = lw.source.indent_of_line(node.lineno)
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(f"{indent}{line}\n" for line in lines)
    lw.env.update(results)  # the temporaries are not read after the loop
    note = f"line {node.lineno}: loop computed for all steps at once: each step's arrays are stacked " \
           "([steps, n] elements for n-element rows, n² for a loop over the n rows of a vector)"
    if note not in lw.out.notes:
        lw.out.notes.append(note)
    return True


def _shape(lw, node):
    """(counter, steps) for `for i in range(n)` over the rows of an array whose body
    binds temporaries (`t = ...`) and accumulates into names bound before it (`s += ...`,
    `s -= ...`), neither read in the body outside its own statement before it is bound, nor
    read after the loop; else None."""
    if node.orelse or not isinstance(node.target, gast.Name) or not node.body:
        return None
    bound = range_bound(lw, node.iter)
    steps = steps_of(lw, bound) if bound is not None else None
    if steps is None:
        return None
    counter = node.target.id
    temporaries, accumulators = [], []
    for statement in node.body:
        if isinstance(statement, gast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], gast.Name):
            temporaries.append(statement.targets[0].id)
        elif isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name) \
                and type(statement.op) in _ACCUMULATE:
            accumulators.append(statement.target.id)
        else:
            return None
    if not accumulators or len(set(temporaries + accumulators)) != len(temporaries) + len(accumulators) \
            or counter in temporaries + accumulators:
        return None
    if any(lw.env.get(name) is None or name in lw.aliased for name in accumulators):
        return None
    if any(lw.env[name].kind is Kind.ARRAY and not lw.env[name].fresh for name in accumulators):
        return None  # `+=` updates an array in place, which its caller would see
    bound_so_far = set()
    for statement in node.body:
        value = statement.value
        read = {n.id for n in gast.walk(value) if isinstance(n, gast.Name)}
        if read & set(accumulators) or read & (set(temporaries) - bound_so_far):
            return None  # a value carried from the step before: a recurrence
        if isinstance(statement, gast.Assign):
            bound_so_far.add(statement.targets[0].id)
    if any(read_after(lw, node, name) for name in [counter, *temporaries]):
        return None  # after the loop they would hold every step, not the last
    return counter, steps


class _Body:
    """The loop body lifted to every step: facts of the per-step names (the counter, the
    temporaries), and which temporaries stand for a boolean selection (its mask and array)."""

    def __init__(self, lw, element: dict, count: str):
        self.lw = lw
        self.element = element
        self.count = count  # the number of steps (TF text)
        self.masks: dict = {}  # temporary name -> (TF text of the [steps, n] mask, of the array selected)

    def temporary(self, name, expression):
        """A temporary's value for every step: a lifted value, or (for a selection) the
        values on all elements, its mask remembered."""
        mask = self._masked(expression)
        if mask is _INVALID:
            return None
        value = self._lift(expression, selecting=mask is not None)
        if value is None or value.fact.kind is not Kind.ARRAY or value.fact.dtype is None \
                or value.fact.rank is None or not value.fact.batched:
            return None
        if mask is not None:
            self.masks[name] = mask
        return value

    def accumulation(self, statement):
        """`s += v` as `s = s + tf.reduce_sum(v for every step)`: (line, fact of s after the loop)."""
        lw, name = self.lw, statement.target.id
        if self._masked(statement.value) is not None:
            return None  # a selection added as it is, or used other than by a masked reduction
        number = self._python_number(statement.value)
        value = self._lift(number[0] if number else statement.value)
        if value is None or value.fact.kind is not Kind.ARRAY or value.fact.rank != 0 \
                or value.fact.dtype is None or value.fact.dtype.kind not in "biuf" or not value.fact.batched:
            return None
        current = lw.env[name]
        result = self._python_sum(current, number[1]) if number else self._numpy_sum(statement, current, value)
        if result is None:
            return None
        values = value.text
        if value.fact.dtype != result.dtype:
            values = f"tf.cast({values}, {F.tf_name(result.dtype)})"
        op = _ACCUMULATE[type(statement.op)]
        return f"{name} = {name} {op} tf.reduce_sum({values}, axis=0)", result

    def _python_number(self, node):
        """(argument, int or float) of `float(v)` / `int(v)`, else None."""
        if isinstance(node, gast.Call) and self.lw.resolver.builtin(node.func) in (int, float) \
                and len(node.args) == 1 and not node.keywords and not isinstance(node.args[0], gast.Starred):
            return node.args[0], self.lw.resolver.builtin(node.func)
        return None

    @staticmethod
    def _python_sum(current, pytype):
        """A Python int or float `s` plus each step's `float(v)` or `int(v)`: a Python number,
        held as a float64 or int64 tensor (as `float()` of a NumPy scalar is)."""
        if current.kind is not Kind.SCALAR or current.pytype not in (int, float):
            return None
        pytype = float if float in (current.pytype, pytype) else int
        return Fact(Kind.SCALAR, pytype=pytype, tensor=True, dtype=F.as_dtype(pytype))

    def _numpy_sum(self, statement, current, value):
        """`s` plus each step's NumPy scalar: the dtype NumPy's add gives (a Python float plus
        a float32 is a float32), for an `s` that is a Python number or a 0-d array of that dtype."""
        ufunc = np.add if isinstance(statement.op, gast.Add) else np.subtract
        try:
            result = self.lw._numpy_result(statement, ufunc, (current, value.fact.with_(batched=False)), {})
        except (Refusal, Inconsistent):
            return None
        if result.kind is not Kind.ARRAY or result.dtype is None or result.rank != 0 \
                or result.dtype.kind not in "iuf":
            return None
        if current.kind is Kind.ARRAY and (current.dtype != result.dtype or current.rank != 0):
            return None  # an in-place dtype change, or an accumulator that is not one number
        if current.kind is Kind.SCALAR and current.pytype not in (int, float):
            return None
        return result.with_(fresh=True)

    def _lift(self, expression, selecting=False):
        """The expression lowered for every step at once, selections inside sums made masked
        sums (and, when `selecting`, the expression's own selections all of their arrays);
        None where some part has no batching rule."""
        lw = self.lw
        inner = _Spliced(lw.fn, lw.source, lw.resolver, lw.registry, {**lw.env, **self.element},
                         context=lw.context, scope=lw.scope)
        inner.body, inner.given = self, {}
        inner.selections = {id(n) for n in gast.walk(expression)} if selecting else set()
        try:
            value = inner.expr(expression)
            if inner.out.refusals:
                raise inner.out.refusals[0]
            no_random_draw(lw, inner, expression)
        except (Refusal, Inconsistent):
            return None
        lw.out.patterns.update(inner.out.patterns)
        return value

    def _masked(self, node):
        """(mask, array) texts when `node` is made of one boolean selection (or temporaries holding
        one) by elementwise steps that keep a left-out element's gradient 0; None when it holds
        no selection; _INVALID when it uses one otherwise (several masks, other operations)."""
        if isinstance(node, gast.Name):
            return self.masks.get(node.id)
        if isinstance(node, gast.Subscript):
            selected = self._selection(node)
            if selected is not None:
                return selected[1]
        if isinstance(node, gast.BinOp) and type(node.op) in (gast.Add, gast.Sub, gast.Mult, gast.Div):
            left, right = self._masked(node.left), self._masked(node.right)
            if _INVALID in (left, right):
                return _INVALID
            if isinstance(node.op, (gast.Mult, gast.Div)):
                divides = isinstance(node.op, gast.Div)
                if left is not None and right is None and self._constant(node.right, nonzero=divides):
                    return left
                if right is None:
                    return left if left is None else _INVALID
                return right if left is None and isinstance(node.op, gast.Mult) and self._constant(node.left) \
                    else _INVALID
            return self._combined(node, left, right, (node.left, node.right))
        if isinstance(node, gast.UnaryOp) and type(node.op) in (gast.USub, gast.UAdd):
            return self._masked(node.operand)
        if isinstance(node, gast.Call) and self.lw.resolver.qualname(node.func) in _ELEMENTWISE_CALLS \
                and not node.keywords and not any(isinstance(a, gast.Starred) for a in node.args):
            masks = [self._masked(a) for a in node.args]
            if _INVALID in masks:
                return _INVALID
            if len(node.args) == 1:
                return masks[0]
            if len(node.args) == 2:
                return self._combined(node, *masks, node.args)
            return _INVALID if any(masks) else None
        if isinstance(node, gast.Call) and self._reduction(node) is not None:
            return None if self._masked(self._reduction(node)[0]) is not _INVALID else _INVALID
        children = [self._masked(child) for child in gast.iter_child_nodes(node)]
        return _INVALID if any(mask is not None for mask in children) else None

    def _combined(self, node, left, right, operands):
        """Two operands of an elementwise step: one selection and one number per step (or the
        same selection twice)."""
        if left is None and right is None:
            return None
        if left is not None and right is not None:
            return left if left == right else _INVALID
        other = operands[1] if left is not None else operands[0]
        value = self._lift(other)
        if value is None or value.fact.kind not in (Kind.ARRAY, Kind.SCALAR) \
                or (value.fact.kind is Kind.ARRAY and value.fact.rank != 0):
            return _INVALID  # an array against a selection: NumPy pairs elements by position
        return left if left is not None else right

    def _constant(self, node, nonzero=False) -> bool:
        """A finite number written out or a module constant (nonzero to divide by): multiplying
        by it keeps a zero gradient zero."""
        value = self._lift(node)
        return value is not None and value.fact.kind is Kind.SCALAR and value.fact.known \
            and value.fact.pytype in (int, float) and np.isfinite(value.fact.value) \
            and not (nonzero and value.fact.value == 0)

    def _selection(self, node):
        """(the array's lowering, (the mask's text, the array's)) for `x[m]` with `x` a vector,
        the same at every step, and `m` a boolean vector per step; None for any other subscript."""
        if isinstance(node.slice, (gast.Tuple, gast.Slice)):
            return None
        array = self._lift(node.value)
        mask = self._lift(node.slice)
        if array is None or mask is None or array.fact.kind is not Kind.ARRAY or array.fact.batched \
                or array.fact.rank != 1 or array.fact.dtype is None or array.fact.eager is not False:
            # (a TF tensor's own `x[m]` follows TF's indexing rules, not NumPy's)
            return None
        if mask.fact.kind is not Kind.ARRAY or not mask.fact.batched or mask.fact.dtype != np.dtype(bool) \
                or mask.fact.rank != array.fact.rank:
            return None
        return array, (mask.text, array.text)

    def _reduction(self, call):
        """(reduced array, "sum"/"max"/"min") of `a.sum()` or `np.sum(a)` (max, min: with
        `initial=` only; no other argument), else None."""
        if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg != "initial" for k in call.keywords):
            return None
        qualname = self.lw.resolver.qualname(call.func)
        if isinstance(call.func, gast.Attribute) and qualname is None and not call.args:
            operand, op = call.func.value, {"sum": "sum", "max": "max", "min": "min"}.get(call.func.attr)
        elif qualname in _REDUCTIONS and len(call.args) == 1:
            operand, op = call.args[0], _REDUCTIONS[qualname]
        else:
            return None
        if op is None or (op != "sum" and not call.keywords):
            return None
        return operand, op


_INVALID = object()
"""A selection used where no masked reduction stands for it."""


class _Spliced(FunctionLowering):
    """Lowers a step's expression for every step: `x[m]` is all of `x`, and the reduction of
    an expression of it reduces `tf.where(m, value, identity)`."""

    body: _Body
    given: dict  # node id -> its lowering, for the operand of the masked reduction being lowered
    selections: set  # ids of the nodes where `x[m]` stands for all of `x`

    def expr(self, node) -> Lowered:
        if id(node) in self.given:
            return self.given[id(node)]
        if isinstance(node, gast.Subscript) and id(node) in self.selections:
            selected = self.body._selection(node)
            if selected is not None:
                return Lowered(selected[0].text, selected[0].fact, True)
        if isinstance(node, gast.Call):
            reduction = self.body._reduction(node)
            mask = self.body._masked(reduction[0]) if reduction is not None else None
            if mask is not None and mask is not _INVALID:
                return self._masked_reduction(node, *reduction, mask)
        return super().expr(node)

    def _masked_reduction(self, node, operand, op, mask) -> Lowered:
        """The reduction lowered as the rewriter lowers it (its dtype, NaN rules), of the
        selected values and the reduction's identity in place of the others."""
        inside = {id(n) for n in gast.walk(operand)} - self.selections
        self.selections |= inside
        try:
            value = self.expr(operand)
        finally:
            self.selections -= inside
        fact = value.fact
        if fact.kind is not Kind.ARRAY or fact.dtype is None or not fact.rank:
            raise Refusal(node, "a masked reduction of a value of unknown dtype or rank")
        identity = _identity(op, fact.dtype)
        if identity is None:
            raise Refusal(node, f"no identity for a {op} of {fact.dtype.name}")
        mask, array = mask
        # Made the array's length, as NumPy's `x[m]` checks it, where there are steps: with none,
        # the loop never selects, and the empty mask takes any length.
        mask = f"tf.reshape({mask}, [{self.body.count}, tf.shape({array})[0]])"
        self.given[id(operand)] = Lowered(f"tf.where({mask}, {value.text}, {identity})",
                                          fact.with_(batched=True), True)
        try:
            return super().expr(node)
        finally:
            del self.given[id(operand)]


def _identity(op, dtype):
    """The TF value a left-out element takes so that it never changes the reduction."""
    name = F.tf_name(dtype)
    if op == "sum":
        return f"tf.zeros([], {name})"
    if dtype.kind == "f":
        return f"tf.constant(float('{'-' if op == 'max' else ''}inf'), {name})"
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return f"tf.constant({info.min if op == 'max' else info.max}, {name})"
    return None
