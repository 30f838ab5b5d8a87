"""The vectorizer: a source-level vmap for per-row and per-element NumPy functions.

`np.apply_along_axis(f, axis, a)` and `np.vectorize(f)(a)` call `f` once per row or element.
Here `f`'s body is lowered once with its parameter marked *batched* (the tensor carries extra
leading axes that NumPy's per-row code does not see); each pattern's batching rule lifts its
call (elementwise ops broadcast, reductions take negative axes). When some call has no rule,
the body is lowered per row instead and mapped with `tf.vectorized_map`, which vectorizes
what TF can and stays correct for the rest.
"""
from __future__ import annotations

from dataclasses import dataclass

import gast

from . import facts as F
from .emit import substitute
from .facts import Fact, Kind
from .lower import FunctionLowering, Inconsistent, Lowered, Refusal
from .parse import Span


def _function_of(call, name):
    """The lambda or single-`return` def passed as `name`, or a refusal."""
    node = call.lowering.resolver.function_def(_argument_node(call, name))
    if node is None:
        call.refuse("the function must be a lambda or a def of this file")
    if isinstance(node, gast.FunctionDef):
        body = [s for s in node.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
        if len(body) != 1 or not isinstance(body[0], gast.Return) or body[0].value is None:
            call.refuse("only a lambda or a def made of one `return` is vectorized yet")
        if node.args.vararg or node.args.kwarg or node.args.kwonlyargs or len(node.args.args) != 1:
            call.refuse("the function must take exactly one argument")
        return node, body[0].value
    if len(node.args.args) != 1 or node.args.vararg or node.args.kwarg:
        call.refuse("the function must take exactly one argument")
    return node, node.body


def _argument_node(call, name):
    """The source node of an argument (lowered arguments keep only text)."""
    node = call.node
    names = list(call.args)
    for index, argument in enumerate(node.args):
        if index < len(names) and names[index] == name:
            return argument
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    call.refuse(f"`{name}` is missing")


def _lower_body(call, function, expression, element: Fact):
    """The body's TF text with its parameter free, and the result's fact."""
    lw = call.lowering
    param = function.args.args[0].id
    inner = FunctionLowering(function, lw.source, lw.resolver, lw.registry, {param: element}, context=lw.context)
    value = inner.expr(expression)
    if inner.out.refusals:
        raise inner.out.refusals[0]
    return value, param


def _body_text(call, value: Lowered, expression) -> str:
    return value.text if value.changed else call.lowering.source.segment(expression)


def lower_apply_along_axis(call):
    """np.apply_along_axis(f, axis, a): f lifted to all rows at once (rows moved last)."""
    arr = call.fact("arr")
    if arr.kind is not Kind.ARRAY or arr.rank is None or arr.dtype is None:
        call.refuse("the rank of the array must be known")
    if (call.given("args") and call.args["args"].items) or call.given("kwargs"):
        call.refuse("extra arguments to the function are not vectorized")
    axis = call.const("axis")
    if type(axis) is not int:
        call.refuse("axis must be an integer")
    rank = arr.rank
    if not -rank <= axis < rank:
        call.refuse("axis out of range")
    axis %= rank
    function, expression = _function_of(call, "func1d")
    source = call.text("arr")
    if rank == 1:  # NumPy calls f once, on the whole array
        value, param = _lower_body(call, function, expression, arr.with_(batched=False))
        return Lowered(substitute(_body_text(call, value, expression), {param: source}), value.fact, True)
    perm = [d for d in range(rank) if d != axis] + [axis]
    rows = source if axis == rank - 1 else f"tf.transpose({source}, {perm})"
    element = arr.with_(rank=1, batched=True, fresh=False)
    try:
        value, param = _lower_body(call, function, expression, element)
        if value.fact.kind is not Kind.ARRAY or value.fact.rank not in (0, 1):
            raise Refusal(call.node, "f must return a scalar or a vector")
        text = substitute(_body_text(call, value, expression), {param: rows})
        out_rank = value.fact.rank
    except Refusal:
        # No batching rule for some call: map the per-row rewrite, flattening the batch axes.
        value, param = _lower_body(call, function, expression, arr.with_(rank=1, fresh=False))
        if value.fact.kind is not Kind.ARRAY or value.fact.rank not in (0, 1):
            call.refuse("f must return a scalar or a vector")
        out_rank = value.fact.rank
        body = _body_text(call, value, expression)
        flat = f"tf.reshape({rows}, [-1, tf.shape({source})[{axis}]])"
        mapped = f"tf.vectorized_map(lambda {param}: {body}, {flat})"
        batch_shape = f"tf.shape({rows})[:-1]"
        shape = batch_shape if out_rank == 0 else f"tf.concat([{batch_shape}, [-1]], 0)"
        text = f"tf.reshape({mapped}, {shape})"
    if out_rank == 1 and axis != rank - 1:
        inverse = [perm.index(d) for d in range(rank)]
        text = f"tf.transpose({text}, {inverse})"
    return Lowered(text, value.fact.with_(rank=rank - 1 + out_rank, batched=arr.batched, fresh=True), True)


def lower_vectorize_call(lw, node, vectorized, arguments) -> Lowered:
    """np.vectorize(f)(a): f's body applied to whole arrays when every op in it lifts."""
    if len(arguments) != 1:
        raise Refusal(node, "np.vectorize of several arguments is not rewritten yet")
    (argument,) = arguments
    fact = argument.fact
    if fact.kind is not Kind.ARRAY or fact.dtype is None:
        raise Refusal(node, "np.vectorize needs an array argument of known dtype")
    function = lw.resolver.function_def(vectorized.args[0]) if vectorized.args else None
    if function is None:
        raise Refusal(node, "np.vectorize of something other than a lambda or def of this file")
    if isinstance(function, gast.FunctionDef):
        body = [s for s in function.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
        if len(body) != 1 or not isinstance(body[0], gast.Return):
            raise Refusal(node, "only a lambda or a def made of one `return` is vectorized yet")
        expression = body[0].value
    else:
        expression = function.body
    if len(function.args.args) != 1 or vectorized.keywords or len(vectorized.args) != 1:
        raise Refusal(node, "np.vectorize options and multi-argument functions are not rewritten yet")
    param = function.args.args[0].id
    inner = FunctionLowering(function, lw.source, lw.resolver, lw.registry,
                             {param: fact.with_(rank=0, batched=True, fresh=False)}, context=lw.context)
    value = inner.expr(expression)
    if inner.out.refusals:
        raise inner.out.refusals[0]
    if value.fact.kind is not Kind.ARRAY or value.fact.rank != 0:
        raise Refusal(node, "the vectorized function must return one scalar")
    body = value.text if value.changed else lw.source.segment(expression)
    return Lowered(substitute(body, {param: argument.text}),
                   value.fact.with_(rank=fact.rank, batched=fact.batched, fresh=True), True)



# -- tf.map_fn ------------------------------------------------------------------------------

_TF_ELEMENTWISE = frozenset(f"tensorflow.{name}" for name in (
    "exp math.exp log math.log math.log1p math.expm1 sqrt math.sqrt math.rsqrt square math.square "
    "abs math.abs sin math.sin cos math.cos tan math.tan tanh math.tanh sigmoid math.sigmoid "
    "nn.sigmoid nn.relu nn.relu6 nn.elu nn.selu nn.softplus nn.softsign nn.leaky_relu nn.silu nn.gelu "
    "math.sign sign round math.round floor math.floor math.ceil math.erf math.erfc negative math.negative "
    "math.reciprocal reciprocal math.is_nan math.is_finite math.is_inf logical_not math.logical_not "
    "maximum math.maximum minimum math.minimum pow math.pow add math.add subtract math.subtract "
    "multiply math.multiply divide math.divide math.truediv math.floordiv math.floormod math.divide_no_nan "
    "math.squared_difference clip_by_value cast dtypes.cast identity where math.atan2 atan2 "
    "math.xlogy math.xdivy math.softplus").split())


def vectorize_map_fn(site, module, resolver, elems=None):
    """(replacement text, how) for a `tf.map_fn` site: the body applied to the whole tensor
    when every op in it is elementwise on the element alone, else `tf.vectorized_map`.
    `elems` replaces the source of the mapped tensor (to verify the rewrite on its own)."""
    function = resolver.function_def(site.func)
    qualname = resolver.qualname(site.func) or ""
    if function is None and qualname.startswith("tensorflow.") and not qualname.startswith(_PER_ELEMENT):
        # A TF function mapped directly (`tf.map_fn(tf.image.per_image_standardization, x)`).
        elems = elems or module.source.segment(site.elems)
        fn = module.source.segment(site.func)
        if qualname in _TF_ELEMENTWISE:
            return f"{fn}({elems})", "elementwise function applied to the whole tensor"
        return f"tf.vectorized_map({fn}, {elems})", "mapped with tf.vectorized_map"
    if function is None:
        raise Refusal(site.call, "the mapped function is not a lambda or def of this file", "RW301")
    if len(function.args.args) != 1 or function.args.vararg or function.args.kwarg or function.args.kwonlyargs:
        raise Refusal(site.call, "the mapped function must take one element", "RW302")
    elems = elems or module.source.segment(site.elems)
    param = function.args.args[0].id
    expression = _single_expression(function)
    uses_element = expression is not None and any(
        isinstance(n, gast.Name) and n.id == param for n in gast.walk(expression))
    if expression is not None and uses_element and _elementwise(expression, param, resolver):
        body = module.source.segment(expression)
        return substitute(body, {param: elems}), "elementwise body applied to the whole tensor"
    for node in gast.walk(function):
        name = resolver.qualname(node.func) if isinstance(node, gast.Call) else None
        if name and name.startswith(_PER_ELEMENT):
            raise Refusal(node, f"`{name}` decodes or converts one element at a time: the map stays", "RW305")
    fn = module.source.segment(site.func)
    return f"tf.vectorized_map({fn}, {elems})", "mapped with tf.vectorized_map"


_PER_ELEMENT = ("tensorflow.strings.", "tensorflow.io.", "tensorflow.image.decode", "tensorflow.py_function",
                "tensorflow.numpy_function", "tensorflow.compat.v1.py_func", "tensorflow.print",
                # shapes that depend on the data: tf.vectorized_map would fall back to a loop
                "tensorflow.boolean_mask", "tensorflow.unique", "tensorflow.math.bincount", "tensorflow.bincount",
                "tensorflow.sparse.", "tensorflow.ragged.")


def _single_expression(function):
    if isinstance(function, gast.Lambda):
        return function.body
    body = [s for s in function.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
    if len(body) == 1 and isinstance(body[0], gast.Return) and body[0].value is not None:
        return body[0].value
    return None


def _elementwise(node, param, resolver) -> bool:
    """Whether an expression is built only from elementwise TF ops on `param` and numbers."""
    if isinstance(node, gast.Name):
        return node.id == param
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (int, float, bool)) and not isinstance(node.value, complex)
    if isinstance(node, gast.BinOp):
        return not isinstance(node.op, gast.MatMult) and all(_elementwise(n, param, resolver) for n in (node.left, node.right))
    if isinstance(node, gast.UnaryOp):
        return not isinstance(node.op, gast.Not) and _elementwise(node.operand, param, resolver)
    if isinstance(node, gast.Compare):
        return len(node.ops) == 1 and all(_elementwise(n, param, resolver) for n in (node.left, node.comparators[0]))
    if isinstance(node, gast.Call):
        name = resolver.qualname(node.func)
        if name not in _TF_ELEMENTWISE:
            return False
        if name.endswith("where") and len(node.args) + len(node.keywords) != 3:
            return False  # one-argument tf.where returns indices
        for keyword in node.keywords:
            if keyword.arg in ("dtype", "name"):
                continue  # tf.cast(x, dtype=...) / name= do not involve the element
            if not _elementwise(keyword.value, param, resolver):
                return False
        args = node.args
        if name in ("tensorflow.cast", "tensorflow.dtypes.cast") and len(args) == 2:
            args = args[:1]  # the dtype argument
        return all(_elementwise(a, param, resolver) for a in args)
    return False


# -- comprehensions and accumulating loops over the rows of an array -----------------------

_STACKERS = frozenset({"numpy.array", "numpy.asarray", "numpy.stack"})


def stacked_comprehension(lw, call) -> bool:
    """Whether a call stacks a list comprehension right away (`np.array([... for r in a])`)."""
    return (bool(call.args) and isinstance(call.args[0], gast.ListComp) and len(call.args) == 1
            and lw.resolver.qualname(call.func) in _STACKERS and not call.keywords)


def lower_list_comprehension(lw, node) -> Lowered:
    """`np.array([g(r) for r in a])`: g lifted to all rows of `a` at once (or vectorized_map).

    Only where the list is stacked right away: a Python list of tensors is not a tensor."""
    if len(node.generators) != 1:
        raise Refusal(node, "comprehensions over several loops are not vectorized yet")
    generator = node.generators[0]
    if generator.ifs or generator.is_async or not isinstance(generator.target, gast.Name):
        raise Refusal(node, "comprehensions with filters or unpacking are not vectorized yet")
    rows = lw.expr(generator.iter)
    fact = rows.fact
    if fact.kind is not Kind.ARRAY or not fact.rank or fact.dtype is None or fact.batched:
        raise Refusal(node, "the comprehension must iterate over an array of known rank")
    name = generator.target.id
    value = _lift(lw, node.elt, {name: fact.with_(rank=fact.rank - 1, batched=True, fresh=False)})
    if value is not None:
        text = substitute(value.text if value.changed else lw.source.segment(node.elt), {name: rows.text})
    else:
        value = _lift(lw, node.elt, {name: fact.with_(rank=fact.rank - 1, fresh=False)}, strict=True)
        body = value.text if value.changed else lw.source.segment(node.elt)
        text = f"tf.vectorized_map(lambda {name}: {body}, {rows.text})"
    if value.fact.kind is not Kind.ARRAY or value.fact.rank is None:
        raise Refusal(node, "the comprehension's elements must be arrays of known rank")
    return Lowered(text, value.fact.with_(rank=value.fact.rank + 1, batched=False, fresh=True), True)


def _lift(lw, expression, extra: dict, strict=False):
    """Lower `expression` with extra facts in scope; None if some call can't be lifted."""
    inner = FunctionLowering(lw.fn, lw.source, lw.resolver, lw.registry, {**lw.env, **extra}, context=lw.context)
    try:
        value = inner.expr(expression)
        if inner.out.refusals:
            raise inner.out.refusals[0]
    except (Refusal, Inconsistent):  # not liftable: the caller lowers it another way
        if strict:
            raise
        return None
    lw.out.patterns.update(inner.out.patterns)
    return value


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
        value = _lift(lw, step.value, element)
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
    mask = _lift(lw, test, element)
    if mask is None or mask.fact.kind is not Kind.ARRAY or mask.fact.dtype is None or mask.fact.dtype.kind != "b":
        return None
    mask, value = lw.align_batched(step.node, [mask, value])
    neutral = "tf.zeros_like" if step.op == "+" else "tf.ones_like"
    chosen, other = (value.text, f"{neutral}({value.text})") if holds else (f"{neutral}({value.text})", value.text)
    return Lowered(f"tf.where({mask.text}, {chosen}, {other})", value.fact, True)


# -- scalar loops over tf.range --------------------------------------------------------------

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
            if not _elementwise(statement.value, counter, resolver):
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
            if not _elementwise(statement.test, counter, resolver):
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


# -- loops that fill an output row by row ------------------------------------------------------

_LIKE = frozenset({"numpy.empty_like", "numpy.zeros_like", "numpy.ones_like", "numpy.full_like"})


class RowIndex:
    """The loop counter of a fill loop over the rows of `rows` (an array name): `v[i]` means
    the batch of all rows of `v`, anything else done with `i` has no batching rule."""

    def __init__(self, rows: str):
        self.rows = rows


def lower_fill_loop(lw, node) -> bool:
    """`out = np.empty_like(a); for i in range(len(a)): out[i] = g(a[i], b[i])` becomes
    `out = g(a, b)` (cast to out's dtype). Returns False when the loop is not of that shape."""
    if node.orelse or not isinstance(node.target, gast.Name) or len(node.body) != 1:
        return False
    statement = node.body[0]
    if not (isinstance(statement, gast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], gast.Subscript)):
        return False
    target = statement.targets[0]
    counter = node.target.id
    if not (isinstance(target.value, gast.Name) and isinstance(target.slice, gast.Name)
            and target.slice.id == counter):
        return False
    rows = _range_over_rows(lw, node.iter)
    out = target.value.id
    fact = lw.env.get(out)
    if rows is None or fact is None or fact.kind is not Kind.ARRAY or fact.rank is None or fact.dtype is None:
        return False
    if out in lw.aliased or not fact.fresh or not _made_like(lw, target.value, rows):
        return False  # only an output shaped like the rows it is filled from
    reads = [n for n in gast.walk(statement.value) if isinstance(n, gast.Name)]
    if any(n.id == out for n in reads):
        return False  # the output feeds itself: a recurrence
    value = _lift(lw, statement.value, {counter: Fact(Kind.OTHER, value=RowIndex(rows))})
    if value is None or value.fact.kind is not Kind.ARRAY or not value.fact.batched \
            or value.fact.rank != fact.rank - 1 or value.fact.dtype is None:
        return False
    text = value.text
    if value.fact.dtype != fact.dtype:
        from .facts import tf_name

        text = f"tf.cast({text}, {tf_name(fact.dtype)})"
    start, end = lw.source.line_starts[node.lineno - 1], lw.source.line_starts[node.end_lineno]
    indent = lw.source.indent_of_line(node.lineno)
    lw.out.edits[Span(start, end)] = f"{indent}{out} = {text}\n"
    lw.env[out] = fact.with_(fresh=True)
    return True


def _range_over_rows(lw, node):
    """`range(len(a))` or `range(a.shape[0])`: the name `a`, else None."""
    if not (isinstance(node, gast.Call) and lw.resolver.builtin(node.func) is range and len(node.args) == 1):
        return None
    bound = node.args[0]
    if isinstance(bound, gast.Call) and lw.resolver.builtin(bound.func) is len and len(bound.args) == 1:
        bound = bound.args[0]
    elif isinstance(bound, gast.Subscript) and isinstance(bound.value, gast.Attribute) \
            and bound.value.attr == "shape" and isinstance(bound.slice, gast.Constant) and bound.slice.value == 0:
        bound = bound.value.value
    else:
        return None
    if isinstance(bound, gast.Name) and lw.env.get(bound.id) is not None and lw.env[bound.id].kind is Kind.ARRAY:
        return bound.id
    return None


def _made_like(lw, name_node, rows: str) -> bool:
    """Whether the output was created by `np.*_like(rows)` (so it has exactly those rows)."""
    definitions = lw.resolver.definitions(name_node)
    if len(definitions) != 1:
        return False
    statement = lw.resolver.parents.get(definitions[0])
    value = getattr(statement, "value", None)
    return isinstance(statement, gast.Assign) and isinstance(value, gast.Call) \
        and lw.resolver.qualname(value.func) in _LIKE and value.args[:1] != [] \
        and isinstance(value.args[0], gast.Name) and value.args[0].id == rows
