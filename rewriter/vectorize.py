"""The vectorizer: a source-level vmap for per-row and per-element NumPy functions.

`np.apply_along_axis(f, axis, a)` and `np.vectorize(f)(a)` call `f` once per row or element.
Here `f`'s body is lowered once with its parameter marked *batched* (the tensor carries extra
leading axes that NumPy's per-row code does not see); each pattern's batching rule lifts its
call (elementwise ops broadcast, reductions take negative axes). When some call has no rule,
the body is lowered per row instead and mapped with `tf.vectorized_map`, which vectorizes
what TF can and stays correct for the rest.
"""
from __future__ import annotations

import re

import gast

from . import facts as F
from .apply import bind_and_apply
from .edits import substitute
from .facts import Fact, Kind
from .lowered import Inconsistent, Lowered, Refusal
from .map_bodies import NoBatchingRule, batched_map_fn
from .nested import check_inlined, closure_facts, lower_applied, owner
from .rows import RowIndex, range_bound, steps_of
from .walker import FunctionLowering


def _function_of(call, name):
    """The lambda or def passed as `name` and what it returns (see `_lifted_expression`)."""
    node = call.lowering.resolver.function_def(_argument_node(call, name))
    if node is None:
        call.refuse("the function must be a lambda or a def of this file")
    if len(node.args.args) != 1 or node.args.vararg or node.args.kwarg or node.args.kwonlyargs:
        call.refuse("the function must take exactly one argument")
    return node, _lifted_expression(call.lowering, node, call.refuse)


def _lifted_expression(lw, function, refuse):
    """What a lambda or a def made of one `return` returns: its body is lifted and written
    where it is called. None for a nested def of several statements: it stays a def, called
    on all rows at once."""
    expression = _single_expression(function)
    if expression is None and owner(lw, function) is not lw.scope.fn:
        refuse("only a lambda, a def made of one `return` or a nested def is vectorized yet")
    return expression


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


def _lower_body(lw, node, function, expression, element: Fact):
    """The body's TF text with its parameter free, and the result's fact, for the call `node`
    of np.apply_along_axis or np.vectorize."""
    param = function.args.args[0].id
    if expression is not None:
        check_inlined(lw, node, function)
    env = {**closure_facts(lw, function), param: element}
    inner = FunctionLowering(function, lw.source, lw.resolver, lw.registry, env, context=lw.context, scope=lw.scope)
    value = inner.expr(expression) if expression is not None else lower_applied(inner, node, function, element)
    if inner.out.refusals:
        raise inner.out.refusals[0]
    no_random_draw(lw, inner, expression if expression is not None else function)
    lw.out.patterns.update(inner.out.patterns)  # the report lists them; --verify reads them
    return value, param


def _per_row(param: str, body: str) -> str:
    """The function tf.vectorized_map runs on each row: `lambda row: body`, or the def itself
    when the body only calls it on the row (`energy`, not `lambda row: energy(row)`)."""
    called = re.fullmatch(rf"([A-Za-z_]\w*)\({re.escape(param)}\)", body)
    return called.group(1) if called and called.group(1) != param else f"lambda {param}: {body}"


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
        value, param = _lower_body(call.lowering, call.node, function, expression, arr.with_(batched=False))
        return Lowered(substitute(_body_text(call, value, expression), {param: source}), value.fact, True)
    perm = [d for d in range(rank) if d != axis] + [axis]
    rows = source if axis == rank - 1 else f"tf.transpose({source}, {perm})"
    element = arr.with_(rank=1, batched=True, fresh=False)
    try:
        value, param = _lower_body(call.lowering, call.node, function, expression, element)
        if value.fact.kind is not Kind.ARRAY or value.fact.rank not in (0, 1):
            raise Refusal(call.node, "f must return a scalar or a vector")
        text = substitute(_body_text(call, value, expression), {param: rows})
        out_rank = value.fact.rank
    except Refusal:
        # No batching rule for some call: map the per-row rewrite, flattening the batch axes.
        value, param = _lower_body(call.lowering, call.node, function, expression, arr.with_(rank=1, fresh=False))
        if value.fact.kind is not Kind.ARRAY or value.fact.rank not in (0, 1):
            call.refuse("f must return a scalar or a vector")
        out_rank = value.fact.rank
        body = _body_text(call, value, expression)
        flat = f"tf.reshape({rows}, [-1, tf.shape({source})[{axis}]])"
        mapped = f"tf.vectorized_map({_per_row(param, body)}, {flat})"
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
    if len(function.args.args) != 1 or vectorized.keywords or len(vectorized.args) != 1:
        raise Refusal(node, "np.vectorize options and multi-argument functions are not rewritten yet")

    def refuse(reason):
        raise Refusal(node, reason)

    expression = _lifted_expression(lw, function, refuse)
    element = fact.with_(rank=0, batched=True, fresh=False)
    value, param = _lower_body(lw, node, function, expression, element)
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
    when every op in it is elementwise on the element alone, else the body written for the
    whole batch by the batching rules of `map_bodies.py`, else `tf.vectorized_map` (`how`
    names the call without a rule). `elems` replaces the source of the mapped tensor (to
    verify the rewrite on its own)."""
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
    if expression is not None and uses_element and tf_elementwise(expression, param, resolver):
        body = module.source.segment(expression)
        return substitute(body, {param: elems}), "elementwise body applied to the whole tensor"
    for reached in _reached_functions(function, resolver):
        for node in gast.walk(reached):
            name = resolver.qualname(node.func) if isinstance(node, gast.Call) else None
            if name and name.startswith(_PER_ELEMENT):
                raise Refusal(node, f"`{name}` decodes or converts one element at a time: the map stays", "RW305")
            if isinstance(node, _PYTHON_CONTROL_FLOW) and node is not reached:
                raise Refusal(node, "the mapped function branches or loops in Python: tf.vectorized_map traces it "
                                    "without AutoGraph, where that raises on tensors (map_fn runs it eagerly): "
                                    "the map stays", "RW306")
    try:
        return batched_map_fn(site, function, elems, resolver, module.source, _TF_ELEMENTWISE), \
            "body written for the whole batch"
    except NoBatchingRule as missing:
        fn = module.source.segment(site.func)
        return f"tf.vectorized_map({fn}, {elems})", f"mapped with tf.vectorized_map: {missing.reason}"


_PYTHON_CONTROL_FLOW = (gast.For, gast.While, gast.If, gast.IfExp, gast.BoolOp, gast.Assert, gast.ListComp,
                        gast.GeneratorExp, gast.SetComp, gast.DictComp)
"""What `tf.vectorized_map` cannot trace when it depends on a tensor (it runs the function
without AutoGraph). `tf.cond` and `tf.while_loop` are ops: they stay allowed."""


def _reached_functions(function, resolver, limit: int = 8) -> list:
    """The mapped function and the functions of this file it calls, directly or not: an op
    that decodes one element in a helper keeps the map as surely as one in the body."""
    reached, todo = [], [function]
    while todo and len(reached) < limit:
        current = todo.pop()
        if current in reached:
            continue
        reached.append(current)
        for node in gast.walk(current):
            if isinstance(node, gast.Call):
                callee = resolver.function_def(node.func)
                if callee is not None and callee not in reached:
                    todo.append(callee)
    if todo:
        raise Refusal(function, "the mapped function calls too many functions of this file to check", "RW305")
    return reached


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


def tf_elementwise(node, param, resolver) -> bool:
    """Whether an expression is built only from elementwise TF ops on `param` and numbers."""
    if isinstance(node, gast.Name):
        return node.id == param
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (int, float, bool)) and not isinstance(node.value, complex)
    if isinstance(node, gast.BinOp):
        return not isinstance(node.op, gast.MatMult) and all(tf_elementwise(n, param, resolver) for n in (node.left, node.right))
    if isinstance(node, gast.UnaryOp):
        return not isinstance(node.op, gast.Not) and tf_elementwise(node.operand, param, resolver)
    if isinstance(node, gast.Compare):
        return len(node.ops) == 1 and all(tf_elementwise(n, param, resolver) for n in (node.left, node.comparators[0]))
    if isinstance(node, gast.Call):
        name = resolver.qualname(node.func)
        if name not in _TF_ELEMENTWISE:
            return False
        if name.endswith("where") and len(node.args) + len(node.keywords) != 3:
            return False  # one-argument tf.where returns indices
        for keyword in node.keywords:
            if keyword.arg in ("dtype", "name"):
                continue  # tf.cast(x, dtype=...) / name= do not involve the element
            if not tf_elementwise(keyword.value, param, resolver):
                return False
        args = node.args
        if name in ("tensorflow.cast", "tensorflow.dtypes.cast") and len(args) == 2:
            args = args[:1]  # the dtype argument
        return all(tf_elementwise(a, param, resolver) for a in args)
    return False


# -- comprehensions over the rows of an array --------------- -----------------------

# NumPy functions that turn their first argument into one array before anything else, so a
# list built by a comprehension means the stacked rows there.
_ARRAY_LIKE_FIRST = frozenset(f"numpy.{name}" for name in (
    "sum mean max min amax amin prod std var median any all argmax argmin average ptp "
    "nansum nanmean nanmax nanmin nanstd nanvar nanprod cumsum cumprod").split())


def reduced_comprehension(lw, call) -> bool:
    """Whether a call reduces a comprehension: `np.mean([f(r) for r in a])`, `sum(f(r) for r in a)`."""
    if not call.args or not isinstance(call.args[0], (gast.ListComp, gast.GeneratorExp)):
        return False
    if lw.resolver.builtin(call.func) is sum:
        return len(call.args) == 1 and not call.keywords
    return isinstance(call.args[0], gast.ListComp) and lw.resolver.qualname(call.func) in _ARRAY_LIKE_FIRST


def lower_reduced_comprehension(lw, call) -> Lowered:
    stacked = lower_list_comprehension(lw, call.args[0])
    if lw.resolver.builtin(call.func) is not sum:
        qualname = lw.resolver.qualname(call.func)
        lw.out.patterns.add(qualname)
        return bind_and_apply(lw, call, lw.registry.get(qualname), receiver=None,
                              positional=[stacked, *call.args[1:]])
    # Python's sum: 0 + e0 + e1 + ... in order; the sum of the stacked rows (a Python 0 is
    # weak in NumPy's promotion, so the rows' dtype stays).
    dtype = stacked.fact.dtype
    if dtype is None or dtype.kind not in "iufc":
        raise Refusal(call, "builtin `sum` of booleans or of values of unknown dtype is not rewritten", "RW204")
    lw.out.patterns.add("numpy.sum")
    return Lowered(f"tf.reduce_sum({stacked.text}, axis=0)", stacked.fact.with_(rank=stacked.fact.rank - 1), True)


def lower_list_comprehension(lw, node) -> Lowered:
    """`np.array([g(r) for r in a])` or `[g(a[i]) for i in range(len(a))]`: g lifted to all
    rows at once (or mapped with tf.vectorized_map); `if c(r)` filters select the rows g is
    computed on (`g(tf.boolean_mask(a, c(a)))`: a row the loop skips is never computed, so it
    cannot turn the gradient NaN).

    Only where the list is stacked right away: a Python list of tensors is not a tensor."""
    if len(node.generators) != 1:
        raise Refusal(node, "comprehensions over several loops are not vectorized yet")
    generator = node.generators[0]
    if generator.is_async or not isinstance(generator.target, gast.Name):
        raise Refusal(node, "comprehensions with unpacking are not vectorized yet")
    name = generator.target.id
    batched, single, over = _comprehension_element(lw, node, generator)
    if generator.ifs and batched.kind is not Kind.ARRAY:  # the range form reads rows through the counter
        raise Refusal(node, "a filtered comprehension over row indices is not vectorized yet")
    for test in generator.ifs:
        mask = lift(lw, test, {name: batched})
        if mask is None or mask.fact.kind is not Kind.ARRAY or mask.fact.rank != 0 or mask.fact.dtype is None \
                or mask.fact.dtype.kind != "b" or not mask.fact.batched:
            raise Refusal(test, "a comprehension's filter must be one boolean per row")
        mask_text = substitute(mask.text if mask.changed else lw.source.segment(test), {name: over})
        over = f"tf.boolean_mask({over}, {mask_text})"
    value = lift(lw, node.elt, {name: batched})
    if value is not None:
        if value.fact.kind is Kind.ARRAY and not value.fact.batched:
            raise Refusal(node, "the comprehension's element does not depend on its variable: "
                                "it is the same array for every row")
        text = substitute(value.text if value.changed else lw.source.segment(node.elt), {name: over})
    elif generator.ifs:
        raise Refusal(node, "a filtered comprehension is vectorized only when its element lifts to all rows")
    else:
        value = lift(lw, node.elt, {name: single}, strict=True)
        body = value.text if value.changed else lw.source.segment(node.elt)
        text = f"tf.vectorized_map({_per_row(name, body)}, {over})"
    if value.fact.kind is not Kind.ARRAY or value.fact.rank is None:
        raise Refusal(node, "the comprehension's elements must be arrays of known rank")
    return Lowered(text, value.fact.with_(rank=value.fact.rank + 1, batched=False, fresh=True), True)


def _comprehension_element(lw, node, generator):
    """(batched fact, one-row fact, what the loop runs over) for the comprehension's variable:
    rows of an array, or the counter of `range(len(a))` indexing rows."""
    iterable = generator.iter
    bound = range_bound(lw, iterable)
    if bound is not None:
        steps = steps_of(lw, bound)
        if steps is None:
            raise Refusal(node, "the comprehension's range must count the rows of an array")
        _, rows, count = steps
        counter = Fact(Kind.OTHER, value=RowIndex(rows, count))
        return counter, F.shape_value(), f"tf.range({count})"
    rows = lw.expr(iterable)
    fact = rows.fact
    if fact.kind is not Kind.ARRAY or not fact.rank or fact.dtype is None or fact.batched:
        raise Refusal(node, "the comprehension must iterate over an array of known rank")
    return fact.with_(rank=fact.rank - 1, batched=True, fresh=False), fact.with_(rank=fact.rank - 1, fresh=False), \
        rows.text


def no_random_draw(lw, inner, node):
    """A body NumPy runs once per row or element draws once each time: lifted, it would draw
    once for all of them."""
    if any(getattr(lw.registry.get(name), "random", False) for name in inner.out.patterns):
        raise Refusal(node, "a random draw in a per-row or per-element body is not vectorized")


def lift(lw, expression, extra: dict, strict=False):
    """Lower `expression` with extra facts in scope; None if some call can't be lifted."""
    inner = FunctionLowering(lw.fn, lw.source, lw.resolver, lw.registry, {**lw.env, **extra}, context=lw.context,
                             scope=lw.scope)
    try:
        value = inner.expr(expression)
        if inner.out.refusals:
            raise inner.out.refusals[0]
        no_random_draw(lw, inner, expression)
    except (Refusal, Inconsistent):  # not liftable: the caller lowers it another way
        if strict:
            raise
        return None
    lw.out.patterns.update(inner.out.patterns)
    return value
