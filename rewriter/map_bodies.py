"""Batching rules for the bodies of `tf.map_fn`: the per-element function written once for
the whole batch.

`tf.map_fn(fn, x)` calls `fn` on `x[0]`, `x[1]`, ... in a while loop. When every operation
in `fn` has a batching rule, the body is rewritten to act on `x` itself: the element gains a
leading batch axis, so `e[k]` reads `x[:, k]`, `tf.stack(items)` stacks at axis 1, a
reduction's axis moves one to the right and elementwise ops stay as they are.
`tf.cond(p, f, g)` on a per-element predicate becomes a selection with `tf.where` that is
exact in values and gradients (see `_lower_cond`). An operation without a rule raises
`NoBatchingRule`, naming it; the caller then maps the function with `tf.vectorized_map`.

Shapes are tracked as *shape keys*: structural descriptions (`ELEMENT`, `("index", key)`,
`("stack", axis, count, key)`, ...) such that two values with equal keys have equal
per-element shapes. Two batched operands of one elementwise op must have equal keys: a batched
scalar against a batched vector broadcasts differently once the batch axis is in front.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

import gast

ELEMENT = "element"
SCALAR = "scalar"  # every rank-0 value has this key (all rank-0 shapes are equal)

_ELEMENTWISE_RAISING = frozenset(f"tensorflow.{name}" for name in (
    "math.floordiv math.floormod floordiv floormod math.truncatediv truncatediv math.truncatemod "
    "truncatemod").split())
"""Integer division raises on a zero divisor: a cond branch computed on masked elements (set
to zero, see `_lower_cond`) must not contain it."""

_REDUCTIONS = frozenset(f"tensorflow.{prefix}reduce_{op}" for prefix in ("", "math.")
                        for op in "sum mean max min prod any all logsumexp".split())

_MAX_DEPTH = 8


class NoBatchingRule(Exception):
    """Some operation of the body cannot be batched; `reason` says which."""

    def __init__(self, node, reason: str):
        super().__init__(reason)
        self.node, self.reason = node, reason


@dataclass(frozen=True)
class Batched:
    """A value with one entry per element: `text` computes all of them, `shape` is its key."""
    text: str
    shape: object


@dataclass(frozen=True)
class Same:
    """A rank-0 value that is the same for every element (a number, a module constant)."""
    text: str


@dataclass(frozen=True)
class Pair:
    """A Python tuple of values (a tuple return, unpacked by an assignment)."""
    items: tuple


def batch_map_body(function, param_text: str, element_rank, resolver, source, elementwise) -> tuple:
    """(text of the whole-batch result, number of outputs or None for one tensor, the module
    constants it reads by name) of the map `function` (a def or lambda of one parameter)
    applied to the batch `param_text`.

    `element_rank` is the rank of one element when the program declares it, else None;
    `elementwise` is the set of TF functions that act element by element.

    The function's own locals are bound by applied lambdas, `(lambda ymin: ...)(ymin's text)`,
    which the render stage writes as assignments named as the user named them. A local whose
    name the inlined text already reads (`tf`, the mapped tensor, a constant) would shadow it,
    so it is inlined instead: the first pass inlines everything and tells which names those are."""
    first = _Batcher(resolver, source, elementwise, element_rank)
    inlined, _ = first.result(function, param_text)
    read = {n.id for n in ast.walk(ast.parse(inlined, mode="eval")) if isinstance(n, ast.Name)}
    batcher = _Batcher(resolver, source, elementwise, element_rank, bindable_except=read)
    return (*batcher.result(function, param_text), first.constants_read)


def _atom(text: str) -> str:
    return text if text.replace("_", "a").replace(".", "a").isalnum() else f"({text})"


class _Batcher:
    def __init__(self, resolver, source, elementwise, element_rank, bindable_except=None):
        self.resolver, self.source, self.elementwise = resolver, source, elementwise
        self.element_rank = element_rank
        self.depth = 0
        self.bindable_except = bindable_except  # None: every local is inlined
        self.bindings = []  # (name, text) of the mapped function's locals, in order
        self.constants_read = set()  # module-level numbers the text reads by name

    def result(self, function, param_text):
        """(text, number of outputs or None) of the mapped function on the whole batch."""
        result = self.call(function, [Batched(_atom(param_text), ELEMENT)], function)
        items = result.items if isinstance(result, Pair) else (result,)
        for item in items:
            if not isinstance(item, Batched):
                raise NoBatchingRule(function, "the function returns a value that does not depend on the element")
        text = "(" + ", ".join(i.text for i in items) + ")" if isinstance(result, Pair) else result.text
        for name, value in reversed(self.bindings):
            text = f"(lambda {name}: {text})({value})"
        return text, len(items) if isinstance(result, Pair) else None

    # -- functions and statements ---------------------------------------------------------

    def call(self, function, arguments, node):
        """The value of `function` applied to `arguments` (a lambda, or a def of assignments
        and one final return)."""
        args = function.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or len(args.args) != len(arguments):
            raise NoBatchingRule(node, "a function with defaults or variable arguments has no batching rule")
        if self.depth >= _MAX_DEPTH:
            raise NoBatchingRule(node, "functions nested too deeply")
        env = {a.id: v for a, v in zip(args.args, arguments)}
        self.depth += 1
        try:
            if isinstance(function, gast.Lambda):
                return self.expr(function.body, env)
            return self.statements(function, env)
        finally:
            self.depth -= 1

    def statements(self, function, env):
        body = [s for s in function.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
        for statement in body[:-1]:
            if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name):
                # `total += v[1]`: tensors are immutable, so this is `total = total + v[1]`
                target = statement.target
                value = self.arithmetic(statement, statement.op, self._name(target, env),
                                        self.expr(statement.value, env))
            elif isinstance(statement, gast.Assign) and len(statement.targets) == 1:
                value = self.expr(statement.value, env)
                target = statement.targets[0]
            else:
                raise NoBatchingRule(statement, "only assignments and one final `return` are batched")
            if self.depth == 1 and self.bindable_except is not None and isinstance(value, Batched) \
                    and isinstance(target, gast.Name) and target.id not in self.bindable_except:
                self.bindings.append((target.id, value.text))
                value = Batched(target.id, value.shape)
            self.assign(target, value, env)
        if not body or not isinstance(body[-1], gast.Return) or body[-1].value is None:
            raise NoBatchingRule(function, "the function must end with `return value`")
        return self.expr(body[-1].value, env)

    def assign(self, target, value, env):
        if isinstance(target, gast.Name):
            env[target.id] = value
        elif isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, Pair) \
                and len(target.elts) == len(value.items):
            for t, v in zip(target.elts, value.items):
                self.assign(t, v, env)
        else:
            raise NoBatchingRule(target, "only names and tuples of values are assigned in a batched body")

    # -- expressions ----------------------------------------------------------------------

    def expr(self, node, env):
        method = getattr(self, f"_{type(node).__name__.lower()}", None)
        if method is None:
            raise NoBatchingRule(node, f"`{self.source.segment(node)}` has no batching rule")
        return method(node, env)

    def _name(self, node, env):
        if node.id in env:
            return env[node.id]
        if _module_number(node, self.resolver):
            self.constants_read.add(node.id)
            return Same(node.id)
        raise NoBatchingRule(node, f"`{node.id}` is not a number of this file (no batching rule)")

    def _constant(self, node, env):
        if isinstance(node.value, (bool, int, float)):
            return Same(repr(node.value))
        raise NoBatchingRule(node, f"the constant `{self.source.segment(node)}` has no batching rule")

    def _tuple(self, node, env):
        if not isinstance(node.ctx, gast.Load):
            raise NoBatchingRule(node, "tuple targets are batched only in assignments")
        return Pair(tuple(self.expr(e, env) for e in node.elts))

    _ARITHMETIC = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.FloorDiv: "//",
                   gast.Mod: "%", gast.Pow: "**"}
    _COMPARISONS = {gast.Lt: "<", gast.LtE: "<=", gast.Gt: ">", gast.GtE: ">=", gast.Eq: "==", gast.NotEq: "!="}

    def _binop(self, node, env):
        return self.arithmetic(node, node.op, self.expr(node.left, env), self.expr(node.right, env))

    def arithmetic(self, node, op, left, right):
        symbol = self._ARITHMETIC.get(type(op))
        if symbol is None:
            raise NoBatchingRule(node, f"`{self.source.segment(node)}` has no batching rule")
        if self.masked_depth and symbol in ("//", "%"):
            raise NoBatchingRule(node, "integer division inside a tf.cond branch has no batching rule")
        left, right = self.aligned(left, right)
        return self.combine(node, f"({left.text} {symbol} {right.text})", [left, right])

    def _compare(self, node, env):
        if len(node.ops) != 1 or type(node.ops[0]) not in self._COMPARISONS:
            raise NoBatchingRule(node, f"`{self.source.segment(node)}` has no batching rule")
        left, right = self.aligned(self.expr(node.left, env), self.expr(node.comparators[0], env))
        return self.combine(node, f"({left.text} {self._COMPARISONS[type(node.ops[0])]} {right.text})",
                            [left, right])

    def _unaryop(self, node, env):
        symbol = {gast.USub: "-", gast.UAdd: "+", gast.Invert: "~"}.get(type(node.op))
        if symbol is None:
            raise NoBatchingRule(node, f"`{self.source.segment(node)}` has no batching rule")
        operand = self.expr(node.operand, env)
        return self.combine(node, f"({symbol}{operand.text})", [operand])

    def _subscript(self, node, env):
        value = self.expr(node.value, env)
        index = node.slice
        if isinstance(index, gast.UnaryOp) and isinstance(index.op, gast.USub):
            number = index.operand.value if isinstance(index.operand, gast.Constant) else None
            number = -number if type(number) is int else None
        else:
            number = index.value if isinstance(index, gast.Constant) else None
        if not isinstance(value, Batched) or type(number) is not int:
            raise NoBatchingRule(node, f"`{self.source.segment(node)}`: only an element read at an integer "
                                       "index has a batching rule")
        return Batched(f"{value.text}[:, {number}]", self.indexed(value.shape))

    def _call(self, node, env):
        name = self.resolver.qualname(node.func)
        if name in self.elementwise:
            return self.elementwise_call(node, name, env)
        if name in ("tensorflow.stack",):
            return self.stack(node, env)
        if name in _REDUCTIONS:
            return self.reduction(node, env)
        if name in ("tensorflow.norm", "tensorflow.linalg.norm"):
            return self.norm(node, env)
        if name == "tensorflow.cond":
            return self.cond(node, env)
        function = self.resolver.function_def(node.func)
        if function is not None and not node.keywords and not any(isinstance(a, gast.Starred) for a in node.args):
            return self.call(function, [self.expr(a, env) for a in node.args], node)
        called = name.replace("tensorflow.", "tf.", 1) if name else self.source.segment(node.func)
        raise NoBatchingRule(node, f"`{called}` has no batching rule")

    # -- calls ----------------------------------------------------------------------------

    def elementwise_call(self, node, name, env):
        if self.masked_depth and name in _ELEMENTWISE_RAISING:
            raise NoBatchingRule(node, f"`{name}` inside a tf.cond branch has no batching rule")
        if name.endswith("where") and len(node.args) + len(node.keywords) != 3:
            raise NoBatchingRule(node, "one-argument tf.where returns indices: no batching rule")
        is_cast = name in ("tensorflow.cast", "tensorflow.dtypes.cast")
        values, texts = [], []
        for position, argument in enumerate(node.args):
            if isinstance(argument, gast.Starred):
                raise NoBatchingRule(node, "unpacked arguments have no batching rule")
            if is_cast and position == 1:
                texts.append(self.dtype_text(argument))
                continue
            value = self.expr(argument, env)
            values.append(value)
            texts.append(value.text)
        for keyword in node.keywords:
            if keyword.arg is None:
                raise NoBatchingRule(node, "unpacked arguments have no batching rule")
            if keyword.arg in ("dtype", "name"):
                texts.append(f"{keyword.arg}={self.source.segment(keyword.value)}")
                continue
            value = self.expr(keyword.value, env)
            values.append(value)
            texts.append(f"{keyword.arg}={value.text}")
        return self.combine(node, f"{self.source.segment(node.func)}({', '.join(texts)})", values)

    def dtype_text(self, node):
        if not (self.resolver.qualname(node) or "").startswith("tensorflow."):
            raise NoBatchingRule(node, "the dtype of tf.cast must be a TF dtype")
        return self.source.segment(node)

    def combine(self, node, text, values):
        """An elementwise result: batched if any operand is, all batched operands alike."""
        shapes = {self.normal(v.shape) for v in values if isinstance(v, Batched)}
        if any(isinstance(v, Pair) for v in values):
            raise NoBatchingRule(node, "a tuple used as a tensor has no batching rule")
        if not shapes:
            return Same(text)
        if len(shapes) > 1:
            raise NoBatchingRule(node, f"`{self.source.segment(node)}` combines values of different shapes per "
                                       "element (broadcasting changes once the batch axis is in front)")
        return Batched(text, shapes.pop())

    def aligned(self, left, right):
        """Two operands of a binary operator, a batched scalar given trailing unit axes against
        a batched value of higher known rank (per element, the scalar broadcasts to it)."""
        if isinstance(left, Batched) and isinstance(right, Batched):
            ranks = self.rank(left.shape), self.rank(right.shape)
            if ranks[0] == 0 and ranks[1]:
                left = Batched(f"tf.reshape({left.text}, [-1{', 1' * ranks[1]}])", right.shape)
            elif ranks[1] == 0 and ranks[0]:
                right = Batched(f"tf.reshape({right.text}, [-1{', 1' * ranks[0]}])", left.shape)
        return left, right

    def stack(self, node, env):
        """`tf.stack(items, axis)` of per-element values: stacked one axis further right."""
        keywords = {k.arg: k.value for k in node.keywords}
        if len(node.args) > 2 or set(keywords) - {"axis", "name"} or (len(node.args) == 2 and "axis" in keywords) \
                or not node.args or not isinstance(node.args[0], (gast.List, gast.Tuple)):
            raise NoBatchingRule(node, "tf.stack is batched only for a list written out")
        items = [self.expr(e, env) for e in node.args[0].elts]
        shapes = {self.normal(i.shape) if isinstance(i, Batched) else None for i in items}
        if len(shapes) != 1 or None in shapes:
            raise NoBatchingRule(node, "tf.stack of values not all batched alike has no batching rule")
        shape = shapes.pop()
        axis = self.int_constant(node.args[1] if len(node.args) == 2 else keywords.get("axis"), 0)
        axis = self.batched_axis(node, axis, self.rank(shape) + 1 if self.rank(shape) is not None else None)
        text = f"tf.stack([{', '.join(i.text for i in items)}], axis={axis})"
        return Batched(text, self.normal(("stack", axis, len(items), shape)))

    def reduction(self, node, env):
        """`tf.reduce_*(v, axis)` with a constant axis: the axis moves right by one; without an
        axis every axis of the element is reduced (its rank must be known)."""
        keywords = {k.arg: k.value for k in node.keywords}
        names = ("input_tensor", "axis", "keepdims", "name")
        if len(node.args) > 3 or set(keywords) - set(names) or any(n in keywords for n in names[:len(node.args)]):
            raise NoBatchingRule(node, "this reduction's arguments have no batching rule")
        bound = dict(zip(names, node.args)) | keywords
        return self.reduced(node, self.expr(bound["input_tensor"], env), bound.get("axis"), bound.get("keepdims"))

    def norm(self, node, env):
        """`tf.norm(v)` or `tf.norm(v, axis=a)`, the Euclidean norm: a square root of a sum
        over the same axes; over the whole element only for rank 1 or 2 (tf.norm reduces one
        axis or two, and with two it computes the same sum)."""
        keywords = {k.arg: k.value for k in node.keywords}
        if len(node.args) != 1 or set(keywords) - {"axis", "keepdims", "name"}:
            raise NoBatchingRule(node, "tf.norm is batched only for the Euclidean norm (no `ord`)")
        value = self.expr(node.args[0], env)
        if _absent(keywords.get("axis")) and isinstance(value, Batched) and self.rank(value.shape) not in (1, 2):
            raise NoBatchingRule(node, "tf.norm over the whole element is batched for elements of rank 1 or 2")
        return self.reduced(node, value, keywords.get("axis"), keywords.get("keepdims"))

    def reduced(self, node, value, axis_node, keepdims):
        if not isinstance(value, Batched):
            raise NoBatchingRule(node, "a reduction of a value that does not depend on the element")
        if keepdims is not None and not (isinstance(keepdims, gast.Constant) and isinstance(keepdims.value, bool)):
            raise NoBatchingRule(node, "keepdims must be True or False")
        keep = bool(keepdims.value) if keepdims is not None else False
        rank = self.rank(value.shape)
        if _absent(axis_node):
            if rank is None:
                raise NoBatchingRule(node, "a reduction over the whole element needs the element's rank")
            axis = list(range(1, rank + 1))
            axis = axis[0] if len(axis) == 1 else axis  # tf.norm takes one axis as an int
        else:
            axis = self.batched_axis(node, self.int_constant(axis_node, None), rank)
        func = self.source.segment(node.func)
        keep_text = ", keepdims=True" if keep else ""
        text = f"{func}({value.text}, axis={axis}{keep_text})"
        if axis == 1 and not keep:  # drops the element's first axis, as indexing does
            return Batched(text, self.indexed(value.shape))
        removed = len(axis) if isinstance(axis, list) else 1
        return Batched(text, self.normal(("reduce", str(axis), 0 if keep else removed, value.shape)))

    def int_constant(self, node, default):
        if node is None:
            if default is None:
                raise NoBatchingRule(node, "an axis is needed")
            return default
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
                and isinstance(node.operand, gast.Constant):
            value = node.operand.value
            if type(value) is int:
                return -value
        if isinstance(node, gast.Constant) and type(node.value) is int:
            return node.value
        raise NoBatchingRule(node, "the axis must be an integer written out")

    def batched_axis(self, node, axis, rank):
        """A per-element axis as an axis of the batch: non-negative ones move right by one;
        negative ones count from the end, the same, when they are in range for the element."""
        if axis >= 0:
            return axis + 1
        if rank is None or axis < -rank:
            raise NoBatchingRule(node, "a negative axis needs the element's rank (and must be in range)")
        return axis

    # -- tf.cond --------------------------------------------------------------------------

    masked_depth = 0

    def cond(self, node, env):
        """`tf.cond(p, true_fn, false_fn)` with `p` one boolean per element.

        Both branches run on every element, and `tf.where(p, t, f)` picks. A branch's batched
        inputs are first replaced by zeros on the elements the branch is not selected for
        (`tf.where(p, zeros, v)`), so what it computes there is discarded twice over: the
        outer `tf.where` drops the value, and in the gradient the inner `tf.where` drops
        whatever 0 * (derivative at zero) gave, even inf or NaN. Values and gradients are
        the ones of the selected branch, as with tf.cond per element."""
        keywords = {k.arg: k.value for k in node.keywords}
        names = ("pred", "true_fn", "false_fn", "name")
        if len(node.args) > 4 or set(keywords) - set(names) or any(n in keywords for n in names[:len(node.args)]):
            raise NoBatchingRule(node, "this tf.cond's arguments have no batching rule")
        bound = dict(zip(names, node.args)) | keywords
        if not {"pred", "true_fn", "false_fn"} <= bound.keys():
            raise NoBatchingRule(node, "tf.cond needs a predicate and two branches")
        pred = self.expr(bound["pred"], env)
        if not isinstance(pred, Batched):
            raise NoBatchingRule(node, "a tf.cond whose predicate is the same for every element has no batching rule")
        self.fix_scalar(node, pred.shape)
        selected = self.branch(bound["true_fn"], env, pred.text, selected=True)
        other = self.branch(bound["false_fn"], env, pred.text, selected=False)
        values = [selected, other]
        if any(isinstance(v, Pair) for v in values):
            raise NoBatchingRule(node, "a tf.cond returning a tuple has no batching rule")
        shapes = {self.normal(v.shape) for v in values if isinstance(v, Batched)}
        if len(shapes) > 1 or (len(shapes) == 1 and any(isinstance(v, Same) for v in values)
                               and next(iter(shapes)) != SCALAR):
            raise NoBatchingRule(node, "the branches of tf.cond give different shapes per element")
        shape = shapes.pop() if shapes else SCALAR
        return Batched(f"tf.where({self.expanded(node, pred.text, shape)}, {selected.text}, {other.text})", shape)

    def branch(self, node, env, pred, selected):
        """A branch's value on all elements, its batched inputs zeroed where it is not selected."""
        function = self.resolver.function_def(node)
        if function is None or function.args.args:
            raise NoBatchingRule(node, "a tf.cond branch must be a lambda or def of no arguments")
        if isinstance(function, gast.Lambda) and isinstance(function.body, gast.Name) \
                and function.body.id in env:
            return env[function.body.id]  # read as it is: no computation to mask
        masked = {}
        for name, value in env.items():
            if isinstance(value, Batched):
                p = self.expanded(node, pred, value.shape)
                zeros = f"tf.zeros_like({value.text})"
                masked[name] = Batched(f"tf.where({p}, {value.text}, {zeros})" if selected
                                       else f"tf.where({p}, {zeros}, {value.text})", value.shape)
            else:
                masked[name] = value
        self.masked_depth += 1
        try:
            if isinstance(function, gast.Lambda):
                return self.expr(function.body, masked)
            if _free_names(function) & set(env):
                raise NoBatchingRule(node, "a tf.cond branch def reading the body's locals has no batching rule")
            return self.call(function, [], node)
        finally:
            self.masked_depth -= 1

    def expanded(self, node, pred, shape):
        """The per-element predicate shaped to broadcast against values of `shape`."""
        rank = self.rank(shape)
        if rank is None:
            raise NoBatchingRule(node, "tf.cond on an element of unknown rank has no batching rule")
        return pred if rank == 0 else f"tf.reshape({pred}, [-1{', 1' * rank}])"

    # -- shape keys -----------------------------------------------------------------------

    def rank(self, shape):
        """The per-element rank of values of this key, when known."""
        if shape == SCALAR:
            return 0
        if shape == ELEMENT:
            return self.element_rank
        kind = shape[0]
        inner = self.rank(shape[-1])
        if inner is None:
            return None
        if kind == "index":
            return inner - 1
        if kind == "stack":
            return inner + 1
        if kind == "reduce":
            return inner - shape[2]  # the number of axes removed
        raise AssertionError(shape)

    def normal(self, shape):
        return SCALAR if self.rank(shape) == 0 else shape

    def indexed(self, shape):
        if isinstance(shape, tuple) and shape[0] == "stack" and shape[1] == 1:
            return shape[3]  # stacked at the element's first axis: one of the stacked values
        return self.normal(("index", shape))

    def fix_scalar(self, node, shape):
        """A tf.cond predicate is a scalar: when the element's rank is unknown, this fixes it."""
        if self.rank(shape) == 0:
            return
        if self.element_rank is None:
            depth, inner = 0, shape
            while isinstance(inner, tuple) and inner[0] == "index":
                depth, inner = depth + 1, inner[1]
            if inner == ELEMENT:
                self.element_rank = depth
                return
        raise NoBatchingRule(node, "the tf.cond predicate must be one boolean per element")


def _module_number(node, resolver) -> bool:
    """Whether a name reads a number assigned once at module level (`ALPHA = 1.7`,
    `IMG_H, IMG_W = 600.0, 800.0`)."""
    definitions = resolver.definitions(node)
    if len(definitions) != 1 or not isinstance(definitions[0], gast.Name):
        return False
    target = definitions[0]
    parent = resolver.parents.get(target)
    value = None
    if isinstance(parent, gast.Assign) and parent.targets == [target]:
        value = parent.value
    elif isinstance(parent, gast.Tuple):
        statement = resolver.parents.get(parent)
        if isinstance(statement, gast.Assign) and statement.targets == [parent] \
                and isinstance(statement.value, gast.Tuple) and len(statement.value.elts) == len(parent.elts):
            value, parent = statement.value.elts[parent.elts.index(target)], statement
    if value is None or resolver.parents.get(parent) is not resolver.module.tree or any(
            isinstance(n, gast.Global) and node.id in n.names for n in gast.walk(resolver.module.tree)):
        return False
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, (gast.USub, gast.UAdd)):
        value = value.operand
    return isinstance(value, gast.Constant) and type(value.value) in (int, float)


def _absent(axis) -> bool:
    """An axis argument left out or given as None."""
    return axis is None or (isinstance(axis, gast.Constant) and axis.value is None)


def _free_names(function) -> set:
    return {n.id for n in gast.walk(function) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def batched_map_fn(site, function, elems_text: str, resolver, source, elementwise) -> str:
    """The whole-batch text of a `tf.map_fn` site whose function is `function`, or
    NoBatchingRule. The element's rank comes from the program's declaration of the mapped
    tensor (a `tf.function` input signature, a placeholder) when there is one."""
    from .declarations import bind_arguments
    from .sites import MAP_FN_PARAMS, is_tensor

    arguments = bind_arguments(site.call, MAP_FN_PARAMS) or {}
    if "back_prop" in arguments:
        raise NoBatchingRule(site.call, "`back_prop=` (no gradient through the map) has no batching rule")
    declared = site.elems_declared
    element_rank = declared.rank - 1 if declared is not None and declared.rank else None
    if declared is None and not is_tensor(site.elems, resolver):
        # map_fn converts a NumPy array or a list first: the body must see a tensor too
        elems_text = f"tf.convert_to_tensor({elems_text})"
    text, outputs, constants = batch_map_body(function, elems_text, element_rank, resolver, source, elementwise)
    shadowed = constants & _bound_around(site.call, resolver)
    if shadowed:
        raise NoBatchingRule(site.call, f"`{sorted(shadowed)[0]}` names a local where the map is called, "
                                        "not the module's number the function reads")
    signature = arguments.get("fn_output_signature", arguments.get("dtype"))
    declared_outputs = len(signature.elts) if isinstance(signature, (gast.Tuple, gast.List)) else None
    if outputs != declared_outputs:
        # map_fn raises on a structure other than fn_output_signature's (elems' by default)
        raise NoBatchingRule(function, "the function's outputs do not match the map's output signature")
    return ast.unparse(ast.parse(text, mode="eval"))  # only the parentheses that are needed


def _bound_around(node, resolver) -> set:
    """Names bound by the functions around `node`: the rewrite's text is read there."""
    names = set()
    function = resolver.enclosing(node, (gast.FunctionDef, gast.Lambda))
    while function is not None:
        names.update(a.id for a in function.args.args + function.args.kwonlyargs)
        names.update(n.id for n in gast.walk(function) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))
        function = resolver.enclosing(function, (gast.FunctionDef, gast.Lambda))
    return names
