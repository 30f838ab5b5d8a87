"""Loops whose steps carry state from one step to the next.

`for t in range(n): s += v(t); out[t] = s` is a running total: `tf.cumsum` over all steps at
once (`tf.math.cumprod` for integer products; its gradient is wrong at zeros, so float products
take the general path). Any other recurrence that only rebinds names and writes one row of
an output per step (`running = r[t] + gamma * running * (1 - done[t]); ret[t] = running`)
becomes `tf.scan` over the steps: one graph op instead of a Python loop, with gradients, and
the same arithmetic in the same order, so results are exact.
"""
from __future__ import annotations

import gast

from . import facts as F
from . import helper_source
from .edits import Edit, apply_edits, fresh_name, names_in
from .facts import Fact, Kind
from .handlers import registers
from .loops import read_after
from .lowered import Inconsistent, Lowered, Refusal
from .parse import Span
from .rows import RowIndex, range_bound, rows_key, steps_of
from .vectorize import lift
from .walker import FunctionLowering, merge


@registers("recurrence")
def lower_recurrence_loop(lw, node) -> bool:
    """Rewrite a loop over `range(n)` / `reversed(range(n))` whose body rebinds carried names
    and writes `out[t] = ...` rows; False when the loop is not of that shape."""
    if lw.loop_depth:
        return False  # inside another loop, the state flows on into its next iteration
    shape = _loop_shape(lw, node)
    if shape is None:
        return False
    bound, reverse, carried, temporaries, writes = shape
    if any(not _exact_start(lw.env[name]) for name in carried):
        return False
    if read_after(lw, node, node.target.id) or any(read_after(lw, node, name) for name in temporaries):
        return False  # a per-step name read after the loop would need its last value
    steps = steps_of(lw, bound)
    if writes and (steps is None or any(rows_key(lw, out) != steps[0] for out, _ in writes)):
        return False  # outputs must have exactly one row per step
    if steps is not None and _running_totals(lw, node, reverse, carried, writes, steps):
        return True
    if not writes:
        return False  # nothing to stack: AutoGraph's loop carries the state without a copy per step
    linear = _linear_update(lw, node, carried, writes, steps)
    return _scan(lw, node, bound, reverse, carried, writes, linear)


def _loop_shape(lw, node):
    """(bound, reverse, carried, temporaries, writes) of a loop made only of name bindings and
    row writes `out[t] = value` (writes: (out name node, statement)), else None."""
    if node.orelse or not isinstance(node.target, gast.Name) or not node.body:
        return None
    iterable, reverse = node.iter, False
    if isinstance(iterable, gast.Call) and lw.resolver.builtin(iterable.func) is reversed \
            and len(iterable.args) == 1 and not iterable.keywords:
        iterable, reverse = iterable.args[0], True
    bound = range_bound(lw, iterable)
    if bound is None:
        return None
    counter = node.target.id
    assigned, carried, writes = [], [], []
    for statement in node.body:
        read = {n.id for n in gast.walk(statement.value) if isinstance(n, gast.Name)} \
            if isinstance(statement, (gast.Assign, gast.AugAssign)) else set()
        carried += [name for name in read if name not in assigned and name not in carried]
        if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name):
            name = statement.target.id
            carried += [name] if name not in carried and name not in assigned else []
        elif isinstance(statement, gast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, gast.Name):
                name = target.id
            elif isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) \
                    and isinstance(target.slice, gast.Name) and target.slice.id == counter:
                writes.append((target.value, statement))
                continue
            else:
                return None
        else:
            return None
        if name == counter:
            return None
        assigned.append(name)
    carried = [name for name in carried if name in assigned]
    outputs = [out.id for out, _ in writes]
    if not carried or len(set(outputs)) != len(outputs) or set(outputs) & set(assigned):
        return None
    body_reads = {n.id for s in node.body for n in gast.walk(s) if isinstance(n, gast.Name)
                  and isinstance(n.ctx, gast.Load)}
    if set(outputs) & (body_reads - {out.id for out, _ in writes}) or any(
            isinstance(n, gast.Name) and n.id in outputs for _, s in writes for n in gast.walk(s.value)):
        return None  # an output read back: a recurrence through the array
    for name in carried:
        fact = lw.env.get(name)
        if fact is None or fact.kind not in (Kind.ARRAY, Kind.SCALAR):
            return None  # carried state must start as a number or an array before the loop
    for out, _ in writes:
        fact = lw.env.get(out.id)
        if fact is None or fact.kind is not Kind.ARRAY or fact.rank is None or fact.dtype is None \
                or out.id in lw.aliased or not fact.fresh:
            return None
    temporaries = [name for name in dict.fromkeys(assigned) if name not in carried]
    return bound, reverse, carried, temporaries, writes


# -- running totals ------------------------------------------------------------------------

def _running_totals(lw, node, reverse, carried, writes, steps) -> bool:
    """`s += v(t)` / `s *= v(t)` (v free of carried state), rows written `out[t] = s` before
    or after the update: `s + tf.cumsum(V)` with V every step's v at once."""
    _, rows, count = steps
    updates, order = {}, []
    for statement in node.body:
        update = _total_update(statement, carried)
        if update is not None:
            name, op, value = update
            if name in updates:
                return False
            updates[name] = (op, value, statement)
            order.append(("update", name))
        elif isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Subscript) \
                and isinstance(statement.value, gast.Name) and statement.value.id in carried:
            order.append(("write", statement))
        else:
            return False
    if set(updates) != set(carried):
        return False
    extra = {node.target.id: Fact(Kind.OTHER, value=RowIndex(rows, count))}
    lines = []
    indent = lw.source.indent_of_line(node.lineno)
    totals, results = {}, {}
    for name, (op, value_node, statement) in updates.items():
        if isinstance(statement, gast.AugAssign) and lw.env[name].kind is Kind.ARRAY \
                and (name in lw.aliased or not lw.env[name].fresh):
            return False  # `s += v` on a view also changes the array it views, which later steps read
        value = lift(lw, value_node, extra)
        if value is None or value.fact.kind is not Kind.ARRAY or not value.fact.batched:
            return False
        current = Lowered(name, lw.env[name])
        try:
            total = lw.binop(statement, gast.Add() if op == "+" else gast.Mult(), current, value.with_unbatched())
        except (Refusal, Inconsistent):
            return False
        start = lw.env[name]
        if total.fact.kind is not Kind.ARRAY or total.fact.dtype is None or total.fact.rank != (
                start.rank if start.kind is Kind.ARRAY else 0):
            return False  # the total grows from a number to a row: its shape would depend on the steps
        if start.kind is Kind.ARRAY and total.fact.dtype != start.dtype:
            return False  # a dtype change in place: leave it to the loop
        if op == "*" and total.fact.dtype.kind in "fc":
            return False  # tf.math.cumprod's gradient is wrong at zeros: the product goes to tf.scan
        text = value.text if value.changed else lw.source.segment(value_node)
        if value.fact.dtype != total.fact.dtype:
            text = f"tf.cast({text}, {F.tf_name(total.fact.dtype)})"
        totals[name] = (op, text)
        results[name] = total.fact.with_(fresh=True)
    seen = set()
    for kind, item in order:
        if kind == "update":
            seen.add(item)
            continue
        name = item.value.id
        out = item.targets[0].value.id
        op, text = totals[name]
        scan = "tf.cumsum" if op == "+" else "tf.math.cumprod"
        exclusive = ", exclusive=True" if name not in seen else ""  # written before the update
        flags = exclusive + (", reverse=True" if reverse else "")
        row = f"{name} {op} {scan}({text}, axis=0{flags})"
        fact = lw.env[out]
        if results[name].dtype != fact.dtype:
            row = f"tf.cast({row}, {F.tf_name(fact.dtype)})"
        lines.append(f"{indent}{out} = tf.broadcast_to({row}, tf.shape({out}))\n")  # rows broadcast, as NumPy's
        if results[name].rank != fact.rank - 1:
            return False
        lw.env[out] = fact.with_(fresh=True)
    for name, (op, text) in totals.items():
        if read_after(lw, node, name):
            reduce = "tf.reduce_sum" if op == "+" else "tf.reduce_prod"
            lines.append(f"{indent}{name} = {name} {op} {reduce}({text}, axis=0)\n")
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    lw.out.edits[Span(start, end)] = "".join(lines)
    lw.env.update(results)
    return True


def _exact_start(fact) -> bool:
    """A Python number starting a state becomes a tensor of the state's dtype before the first
    step, where NumPy computes that step with the Python number itself: only a known value of
    a plain kind is taken (tf.scan also needs it to be zero)."""
    if fact.kind is not Kind.SCALAR or fact.tensor:
        return True
    return fact.known and type(fact.value) in (int, float, bool)


def _total_update(statement, carried):
    """(name, "+" or "*", value node) for `s += v`, `s = s + v`, `s = v + s` (and `*`)."""
    ops = {gast.Add: "+", gast.Mult: "*"}
    if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name) \
            and type(statement.op) in ops:
        name, op, value = statement.target.id, ops[type(statement.op)], statement.value
    elif isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name) \
            and isinstance(statement.value, gast.BinOp) and type(statement.value.op) in ops:
        name, op = statement.targets[0].id, ops[type(statement.value.op)]
        left, right = statement.value.left, statement.value.right
        if isinstance(left, gast.Name) and left.id == name:
            value = right
        elif isinstance(right, gast.Name) and right.id == name:
            value = left
        else:
            return None
    else:
        return None
    if any(isinstance(n, gast.Name) and n.id in carried for n in gast.walk(value)):
        return None
    return name, op, value


# -- general recurrences: tf.scan ----------------------------------------------------------

def _scan(lw, node, bound, reverse, carried, writes, linear=None) -> bool:
    """The loop body as a step function of (carried state, t), run by `tf.scan` over
    `tf.range(n)`; rows written each step are extra slots of the carry."""
    counter = node.target.id
    facts = {name: lw.env[name] for name in carried}
    for _ in range(3):
        inner = FunctionLowering(lw.fn, lw.source, lw.resolver, lw.registry,
                                 {**lw.env, **facts, counter: F.shape_value()}, context=lw.context, scope=lw.scope)
        rows = {}  # each write's lowered value, with the facts at its place in the body
        try:
            for statement in node.body:
                if isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Subscript):
                    rows[id(statement)] = inner.expr(statement.value)
                else:
                    inner.statement(statement)
            if inner.out.refusals:
                return False
        except (Refusal, Inconsistent):
            return False
        if any(inner.env[name].kind is Kind.SCALAR and not inner.env[name].tensor for name in carried):
            return False  # a Python number all along (a counter): as a tensor it would promote differently
        after = {name: _as_tensor_fact(inner.env[name]) for name in carried}
        if None in after.values():
            return False
        if after == facts:
            break
        facts = {name: _as_tensor_fact(fact) for name, fact in merge(facts, after).items()}
        if None in facts.values():
            return False
    else:
        return False
    for name in carried:
        start = lw.env[name]
        if start.kind is Kind.ARRAY and (start.dtype != facts[name].dtype or start.rank != facts[name].rank):
            return False  # the state changes dtype or rank on the first step
        if start.kind is Kind.SCALAR and facts[name].rank != 0:
            return False
        if start.kind is Kind.SCALAR and not start.tensor and start.value != 0 \
                and not _meets_an_array_first(lw, node, name):
            # NumPy runs the first step's arithmetic on the Python number (unbounded ints,
            # double floats) until it meets an array; from a zero that changes nothing
            return False
    return _emit_scan(lw, node, inner, rows, bound, reverse, carried, facts, writes, linear)


def _meets_an_array_first(lw, node, name) -> bool:
    """Whether the step's first use of `name` combines it with an array right away
    (`s *= x[t]`, `s = s * x[t] + ...`): NumPy then converts the Python number to the array's
    dtype first, as the rewrite does before the first step."""
    for statement in node.body:
        if not any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)
                   for n in gast.walk(statement.value)) and not (
                isinstance(statement, gast.AugAssign) and statement.target.id == name):
            continue
        if isinstance(statement, gast.AugAssign):
            other = statement.value
        else:
            other = _other_operand(statement.value, name)
            if other is None:
                return False
        counter = {node.target.id: F.shape_value()}
        try:
            fact = FunctionLowering(lw.fn, lw.source, lw.resolver, lw.registry, {**lw.env, **counter},
                                    context=lw.context, scope=lw.scope).expr(other).fact
        except (Refusal, Inconsistent):
            return False
        return fact.kind is Kind.ARRAY
    return False


def _other_operand(expression, name):
    """In `name op x`, `x op name`, or such a pair at the left end of a chain (`name * x + y`),
    the operand `name` meets first; None when it meets nothing but itself first."""
    while isinstance(expression, gast.BinOp):
        if isinstance(expression.left, gast.Name) and expression.left.id == name:
            return expression.right
        if isinstance(expression.right, gast.Name) and expression.right.id == name:
            return expression.left
        expression = expression.left
    return None


def _as_tensor_fact(fact):
    """The fact of a state inside tf.scan (always a tensor), None when it cannot be carried."""
    if fact.kind is Kind.ARRAY and fact.dtype is not None and fact.rank is not None and not fact.batched:
        return fact.with_(fresh=True)
    if fact.kind is Kind.SCALAR and fact.pytype in (int, float, bool):
        dtype = fact.dtype if fact.tensor and fact.dtype is not None else F.as_dtype(fact.pytype)
        return Fact(Kind.ARRAY, dtype=dtype, rank=0, fresh=True)
    return None


def _emit_scan(lw, node, inner, lowered_rows, bound, reverse, carried, facts, writes, linear) -> bool:
    counter = node.target.id
    taken = names_in(lw.fn)
    step, stacked = fresh_name("_step", taken), fresh_name("_stacked", taken)
    carry = fresh_name("_carry", taken)
    rows = {out.id: fresh_name(f"_{out.id}_row", taken) for out, _ in writes}
    indent = lw.source.indent_of_line(node.lineno)
    inner_indent = lw.source.indent_of_line(node.body[0].lineno)
    if any(lw.source.indent_of_line(s.lineno) != inner_indent or s.lineno == node.lineno for s in node.body):
        return False
    body_start = lw.source.line_starts[node.body[0].lineno - 1]
    body_end = lw.source.line_starts[node.end_lineno]
    edits = {span: text for span, text in inner.out.edits.items() if body_start <= span.start and span.end <= body_end}
    slots = list(carried)
    outputs = {}  # output name -> its slot in the scan's result
    for out, statement in writes:
        value = lowered_rows[id(statement)]
        fact = lw.env[out.id]
        if value.fact.kind is not Kind.ARRAY or value.fact.rank != fact.rank - 1 or value.fact.dtype is None:
            return False  # a row broadcast into the output: left to the loop
        span = lw.source.span(statement)
        edits = {s: t for s, t in edits.items() if not (span.start <= s.start and s.end <= span.end)}
        if _final_state(statement, node.body, carried) and value.fact.dtype == fact.dtype:
            outputs[out.id] = carried.index(statement.value.id)  # the state itself is the row
            edits[_line_span(lw.source, statement)] = ""
            continue
        text = value.text if value.changed else lw.source.segment(statement.value)
        if value.fact.dtype != fact.dtype:
            text = f"tf.cast({text}, {F.tf_name(fact.dtype)})"
        edits[span] = f"{rows[out.id]} = tf.broadcast_to({text}, tf.shape({out.id})[1:])"
        outputs[out.id] = len(slots)
        slots.append(rows[out.id])
    try:
        n = lw.expr(bound)
    except (Refusal, Inconsistent):
        return False
    if n.fact.kind is Kind.ARRAY or (n.fact.kind is Kind.SCALAR and n.fact.pytype is not int):
        return False
    text = apply_edits(lw.source.text[body_start:body_end],
                       [Edit(s.start - body_start, s.end - body_start, t) for s, t in edits.items()])
    lines = []
    for name in carried:
        if lw.env[name].kind is Kind.SCALAR:  # a Python number starts as a tensor of the state's dtype
            convert = "tf.cast" if lw.env[name].tensor else "tf.constant"
            lines.append(f"{indent}{name} = {convert}({name}, {F.tf_name(facts[name].dtype)})\n")
    lines.append(f"{indent}def {step}({carry}, {counter}):\n")
    lines.append(f"{inner_indent}{', '.join(carried)}, *_ = {carry}\n")
    lines.append(text if text.endswith("\n") else text + "\n")
    start = fresh_name("_start", taken)
    # Each step's values keep the start values' static shapes (tf.scan requires it; a step may
    # compute a shape the graph only knows at run time, which ensure_shape checks there).
    lines.append(f"{inner_indent}return tf.nest.map_structure(lambda value, first: tf.ensure_shape(value, "
                 f"first.shape), ({', '.join(slots)},), {start})\n")
    initial = list(carried) + [f"tf.zeros(tf.shape({out.id})[1:], {F.tf_name(lw.env[out.id].dtype)})"
                               for out, _ in writes if outputs[out.id] >= len(carried)]
    flags = ", reverse=True" if reverse else ""
    # With no steps, tf.scan cannot stack rows whose shape is only known at run time: the
    # results are then empty stacks of the start values.
    in_order = ["tf.cond(\n",
                f"{inner_indent}{n.text} > 0,\n",
                f"{inner_indent}lambda: tf.scan({step}, tf.range({n.text}), initializer={start}{flags}),\n",
                f"{inner_indent}lambda: tf.nest.map_structure(lambda v: tf.zeros(tf.concat([[0], tf.shape(v)], 0), v.dtype), "
                f"{start}))"]
    lines.append(f"{indent}{start} = ({', '.join(initial)},)\n")
    if linear is None or len(slots) != 1:
        lines += [f"{indent}{stacked} = ", *in_order, "\n"]
    else:  # the same steps by doubling where that is safe and faster; else in order
        factors, addends = linear
        steps_in_order = fresh_name("_steps_in_order", taken)
        lines += [f"{indent}def {steps_in_order}():\n", f"{inner_indent}return ", *in_order, "[0]\n"]
        call = helper_source.call("linear_recurrence", factors, addends, carried[0], n.text, steps_in_order,
                                  *(["reverse=True"] if reverse else []))
        lines.append(f"{indent}{stacked} = ({call},)\n")
    for out, _ in writes:
        lines.append(f"{indent}{out.id} = tf.broadcast_to({stacked}[{outputs[out.id]}], tf.shape({out.id}))\n")
        lw.env[out.id] = lw.env[out.id].with_(fresh=True)
    for index, name in enumerate(carried):
        if read_after(lw, node, name):
            # the state after the last step (the start value when there are no steps)
            parts = f"{stacked}[{index}], {name}[None]" if reverse else f"{name}[None], {stacked}[{index}]"
            lines.append(f"{indent}{name} = tf.concat([{parts}], 0)[{0 if reverse else -1}]\n")
        lw.env[name] = facts[name]
    lw.out.edits[Span(lw.source.line_starts[node.lineno - 1], body_end)] = "".join(lines)
    lw.out.patterns.update(inner.out.patterns)
    return True


# -- linear recurrences: log-depth doubling ------------------------------------------------

def _linear_update(lw, node, carried, writes, steps):
    """(factors, addends): the TF texts of every step's a and b at once, for a loop whose one
    float state takes `s = b + a * s` (a a product of terms, either side of the `+`) and whose
    rows are that state; None for anything else. `tf.scan` needs one small op per step; the
    `linear_recurrence` helper combines the steps pairwise instead."""
    if len(carried) != 1 or steps is None:
        return None
    name = carried[0]
    state = lw.env[name]
    if state.kind is not Kind.ARRAY or state.dtype is None or state.dtype.name not in ("float32", "float64"):
        return None
    update, rest = node.body[0], node.body[1:]
    if not (isinstance(update, gast.Assign) and isinstance(update.targets[0], gast.Name)
            and update.targets[0].id == name and isinstance(update.value, gast.BinOp)
            and isinstance(update.value.op, gast.Add)):
        return None
    if [statement for _, statement in writes] != rest or any(
            not (isinstance(s.value, gast.Name) and s.value.id == name) or lw.env[out.id].dtype != state.dtype
            for out, s in writes):
        return None  # the rows must be the state itself, written after the update
    left, right = update.value.left, update.value.right
    for product, addend in ((right, left), (left, right)):
        factors = _factors_of(product, name)
        if factors and not _reads(addend, name):
            break
    else:
        return None
    extra = {node.target.id: Fact(Kind.OTHER, value=RowIndex(steps[1], steps[2]))}
    texts = [_every_step(lw, term, extra, state) for term in factors + [addend]]
    if None in texts:
        return None
    return " * ".join(texts[:-1]), texts[-1]


def _factors_of(product, name):
    """The terms other than `name` of a product `x * name * y` (any grouping), [] when the
    expression is not such a product or reads `name` elsewhere."""
    terms, pending = [], [product]
    while pending:
        term = pending.pop()
        if isinstance(term, gast.BinOp) and isinstance(term.op, gast.Mult):
            pending += [term.right, term.left]
        else:
            terms.append(term)
    own = [t for t in terms if isinstance(t, gast.Name) and t.id == name]
    others = [t for t in terms if t not in own]
    if len(own) != 1 or not others or any(_reads(t, name) for t in others):
        return []
    return others


def _reads(expression, name) -> bool:
    return any(isinstance(n, gast.Name) and n.id == name for n in gast.walk(expression))


def _every_step(lw, term, extra, state):
    """The TF text of a term of `a` or `b` over all steps: a Python number (the helper makes it
    a tensor of the state's dtype, as NumPy does), an array of the state's dtype the same for
    every step (given a leading axis of one), or one row per step of the state's rank; None for
    anything else (another dtype would be computed in that dtype before it meets the state)."""
    value = lift(lw, term, extra)
    if value is None:
        return None
    fact = value.fact
    text = value.text if value.changed else lw.source.segment(term)
    if not isinstance(term, (gast.Name, gast.Constant, gast.Call, gast.Subscript, gast.Attribute)):
        text = f"({text})"  # an operator's text, multiplied with the other terms
    if fact.kind is Kind.SCALAR and not fact.tensor and fact.pytype in (int, float):
        return text
    if fact.kind is not Kind.ARRAY or fact.dtype != state.dtype:
        return None
    if fact.batched and fact.rank == state.rank:
        return text
    if not fact.batched and fact.rank in (0, state.rank):
        return f"{text}[None]" if fact.rank else text
    return None


def _final_state(write, body, carried) -> bool:
    """Whether `out[t] = s` writes a carried name that no later statement of the step rebinds
    (so the row is the state the step ends with)."""
    if not (isinstance(write.value, gast.Name) and write.value.id in carried):
        return False
    later = body[body.index(write) + 1:]
    return not any(isinstance(n, gast.Name) and n.id == write.value.id and isinstance(n.ctx, gast.Store)
                   for statement in later for n in gast.walk(statement))


def _line_span(source, statement) -> Span:
    return Span(source.line_starts[statement.lineno - 1], source.line_starts[statement.end_lineno])
