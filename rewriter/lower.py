"""Stage 4 — lower: the body of a NumPy function, rewritten expression by expression to TF.

The lowering walks statements in order with an environment of facts (dtype, rank, constant
value, aliasing) and produces span edits: only expressions whose meaning changes are
re-rendered, from the pattern's template over the *original text* of their arguments, so
comments and formatting around them survive. Anything it cannot lower faithfully raises
`Refusal` with the node and the reason; the caller leaves the site unchanged and reports it.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import gast
import numpy as np

from . import facts as F
from .facts import Fact, Kind
from .parse import SourceMap, Span
from .pattern import OMIT, Pattern, logical_not, parenthesize
from .registry import Registry
from .resolve import Resolver


class Refusal(Exception):
    """This code has no faithful lowering; `node` is where, `reason` says why."""

    def __init__(self, node, reason: str, code: str = "RW200"):
        super().__init__(reason)
        self.node, self.reason, self.code = node, reason, code


class Inconsistent(Exception):
    """NumPy itself rejects the code under the assumed input dtypes: the assumption is wrong."""


@dataclass
class Lowered:
    text: str
    fact: Fact
    changed: bool = False
    items: list | None = None
    """For list and tuple literals: the lowered elements, so each can be cast on its own."""
    spliced: bool = False
    """The text is the node's own source with parts replaced: same top-level structure, so it
    needs no extra parentheses where the original needed none."""

    def with_unbatched(self) -> "Lowered":
        """The same value seen as one element (for dtype rules of what it reduces into)."""
        return Lowered(self.text, self.fact.with_(batched=False), self.changed)


@dataclass
class LoweredFunction:
    edits: dict = field(default_factory=dict)  # Span -> replacement text
    returns: list = field(default_factory=list)  # (value node, Lowered) of each return
    patterns: set = field(default_factory=set)  # qualified NumPy names lowered
    notes: list = field(default_factory=list)
    """Loops kept as loops (AutoGraph compiles them), each "line N: why" for the report."""
    refusals: list = field(default_factory=list)
    """Refusals whose result dtype was still known, so lowering could go on: the caller
    decides whether they matter (they don't when the input dtypes are inconsistent anyway)."""


_BINOPS = {
    gast.Add: "add", gast.Sub: "subtract", gast.Mult: "multiply", gast.Div: "true_divide",
    gast.FloorDiv: "floor_divide", gast.Mod: "remainder", gast.Pow: "power",
    gast.MatMult: "matmul", gast.BitAnd: "bitwise_and", gast.BitOr: "bitwise_or",
    gast.BitXor: "bitwise_xor", gast.LShift: "left_shift", gast.RShift: "right_shift",
}
_COMPARES = {
    gast.Lt: "less", gast.LtE: "less_equal", gast.Gt: "greater", gast.GtE: "greater_equal",
    gast.Eq: "equal", gast.NotEq: "not_equal",
}
_NUMPY_CONSTANTS = {"pi": np.pi, "e": np.e, "inf": np.inf, "nan": np.nan, "euler_gamma": np.euler_gamma}
_TF_CONSTANT_TEXT = {"inf": "float('inf')", "nan": "float('nan')"}


class FunctionLowering:
    """Lowers one function body under one assignment of facts to its parameters."""

    def __init__(self, fn, source: SourceMap, resolver: Resolver, registry: Registry,
                 params: dict, context=None):
        self.fn = fn
        self.source = source
        self.resolver = resolver
        self.registry = registry
        self.env: dict = dict(params)
        self.aliased: set = set()
        self.context = context
        self.loop_depth = 0
        """What the caller knows beyond the source (the decorator knows live values): an
        object with `free_fact(name_node) -> Fact | None` and `convert_call(lowering, node) ->
        Lowered | None` for calls of user functions."""
        self.out = LoweredFunction()

    # -- statements --------------------------------------------------------------------

    def run(self) -> LoweredFunction:
        if isinstance(self.fn, gast.Lambda):
            value = self.expr(self.fn.body)
            self._edit(self.fn.body, value)
            self.out.returns.append((self.fn.body, value))
        else:
            self.block(self.fn.body)
        return self.out

    def block(self, statements):
        for statement in statements:
            self.statement(statement)
            if self._is_self_assignment(statement) and len(statements) > 1:
                self._delete_line(statement)

    def _is_self_assignment(self, node) -> bool:
        """`x = x.numpy()` lowers to `x = x`: a line the rewrite can drop."""
        if not (isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name)):
            return False
        span = self.source.span(node.value)
        return self.out.edits.get(span, "").strip() == node.targets[0].id

    def _delete_line(self, node):
        start = self.source.line_starts[node.lineno - 1]
        end = self.source.line_starts[node.end_lineno]
        line = self.source.text[start:end]
        if line.strip() != self.source.segment(node).strip():
            return  # shares its line with other code: keep the harmless `x = x`
        self.out.edits.pop(self.source.span(node.value), None)
        self.out.edits[Span(start, end)] = ""

    def statement(self, node):
        handler = getattr(self, "stmt_" + type(node).__name__, None)
        if handler is None:
            raise Refusal(node, f"`{type(node).__name__.lower()}` statements are not rewritten")
        handler(node)

    def stmt_Expr(self, node):
        if isinstance(node.value, gast.Constant) and isinstance(node.value.value, str):
            return  # docstring
        self._edit(node.value, self.expr(node.value))

    def stmt_Pass(self, node):
        pass

    def stmt_Return(self, node):
        if node.value is None:
            raise Refusal(node, "a bare `return` gives no output")
        value = self.expr(node.value)
        self._edit(node.value, value)
        self.out.returns.append((node.value, value))

    def stmt_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Subscript):
            return self._setitem(node, node.targets[0], self.expr(node.value))
        value = self._unpacked(node, self.expr(node.value))
        self._edit(node.value, value)
        for target in node.targets:
            self.bind(target, value.fact)
        self._note_aliases(node, value)

    def _note_aliases(self, node, value):
        """Names that may now share an array. A view (`y = x.reshape(...)`, `y = x[1:]`) shares
        with every array name in its expression; `b = c = a`, `b, c = a, a` and
        `b = a if k else c` share their bare names. An in-place update of any of them is refused,
        since the others would not see it in TF."""
        targets = {n.id for t in node.targets for n in gast.walk(t) if isinstance(n, gast.Name)}
        arrays = {name for name, fact in self.env.items() if fact is not None and fact.kind is Kind.ARRAY}
        shared = set(_bare_names(node.value)) & arrays
        if value.fact.kind is Kind.ARRAY and not value.fact.fresh:
            shared |= {n.id for n in gast.walk(node.value) if isinstance(n, gast.Name)} & arrays
        if len(node.targets) > 1 and value.fact.kind in (Kind.ARRAY, Kind.TUPLE):
            shared |= targets
        if shared:
            self.aliased.update(shared | targets)

    def stmt_AnnAssign(self, node):
        if node.value is None:
            return
        value = self.expr(node.value)
        self._edit(node.value, value)
        self.bind(node.target, value.fact)

    def _unpacked(self, node, value: Lowered) -> Lowered:
        """`h, w = img.shape[:2]` and `dy, dx = deltas.T`: unpacking a tensor iterates over it,
        which graph mode forbids; `tf.unstack` with the count of names does it instead."""
        targets = node.targets[0] if len(node.targets) == 1 else None
        if not isinstance(targets, (gast.Tuple, gast.List)) or value.fact.kind not in (Kind.SHAPE, Kind.ARRAY):
            return value
        count = len(targets.elts)
        if value.fact.kind is Kind.SHAPE:
            item = F.shape_value()
        elif value.fact.rank:
            item = value.fact.with_(rank=value.fact.rank - 1, fresh=False)
        else:
            raise Refusal(node, "unpacking an array of unknown rank is not rewritten")
        return Lowered(f"tf.unstack({value.text}, num={count})", F.constant(tuple([item] * count)), True)

    def _setitem(self, node, target, value, op=None):
        from .inplace import lower_setitem

        text = lower_setitem(self, node, target, value, op)
        self.out.edits[self.source.span(node)] = text
        name = target.value.id
        self.env[name] = self.env[name].with_(fresh=True)

    def stmt_AugAssign(self, node):
        if isinstance(node.target, gast.Subscript):
            return self._setitem(node, node.target, self.expr(node.value), node.op)
        if not isinstance(node.target, gast.Name):
            raise Refusal(node, "in-place update of an attribute is not rewritten")
        name = node.target.id
        old = self.env.get(name)
        if old is None:
            raise Refusal(node, f"`{name}` is not defined before `{name} {_op_text(node.op)}=`")
        if old.kind is Kind.ARRAY and (name in self.aliased or not old.fresh):
            raise Refusal(node, f"`{name}` may be shared with other names; its in-place update "
                                "would not be seen by them in TF")
        target = Lowered(name, old)
        value = self.binop(node, node.op, target, self.expr(node.value))
        if old.kind is Kind.ARRAY and value.fact.dtype != old.dtype:
            # NumPy's in-place ops keep the array's dtype (same-kind casting only).
            if not np.can_cast(value.fact.dtype, old.dtype, casting="same_kind"):
                raise Inconsistent(f"NumPy refuses to cast {value.fact.dtype} into {old.dtype} in place")
            value = Lowered(f"tf.cast({value.text}, {F.tf_name(old.dtype)})", old, True)
        if value.changed:
            self.out.edits[self.source.span(node)] = f"{name} = {value.text}"
        self.env[name] = value.fact.with_(fresh=True) if value.fact.kind is Kind.ARRAY else value.fact

    def stmt_If(self, node):
        test = self.expr(node.test)
        self._edit(node.test, test)
        before = dict(self.env)
        self.block(node.body)
        after_body = self.env
        self.env = dict(before)
        self.block(node.orelse)
        self.env = _merge(after_body, self.env)

    def stmt_For(self, node):
        from .accumulate import lower_accumulating_loop
        from .fill import lower_fill_loop
        from .recurrence import lower_recurrence_loop

        if lower_accumulating_loop(self, node) or lower_fill_loop(self, node) or lower_recurrence_loop(self, node):
            return
        iterable = self.expr(node.iter)
        self._edit(node.iter, iterable)
        if node.orelse:
            raise Refusal(node, "`for ... else` is not rewritten")
        self._note_kept_loop(node, in_python=not (iterable.fact.tensor or iterable.fact.kind is Kind.ARRAY))
        before = dict(self.env)
        self._loop(node.body, lambda: self.bind(node.target, _element_of(iterable.fact)))
        if iterable.fact.tensor or iterable.fact.kind is Kind.ARRAY:
            self._carried_as_tensors(node, before)

    def _note_kept_loop(self, loop, in_python):
        """Say why a loop stays a loop (the vectorizer's forms did not apply)."""
        from .loops import why_kept

        note = f"line {loop.lineno}: loop kept: {why_kept(loop, self.env, in_python)}"
        if note not in self.out.notes:
            self.out.notes.append(note)

    def _carried_as_tensors(self, loop, before):
        """AutoGraph turns a loop over a tensor into a while loop, whose carried values must
        keep one dtype: a Python number the body turns into a tensor starts as that tensor."""
        lines = []
        indent = self.source.indent_of_line(loop.lineno)
        for name, old in before.items():
            new = self.env.get(name)
            if old.kind is not Kind.SCALAR or old.tensor or new is None or new == old:
                continue
            dtype = new.dtype if new.kind in (Kind.ARRAY, Kind.SCALAR) else None
            if dtype is None or (new.kind is Kind.ARRAY and new.rank != 0):
                raise Refusal(loop, f"`{name}` changes from a Python number to a tensor of unknown dtype or "
                                    "shape in a loop that AutoGraph compiles", "RW208")
            lines.append(f"{indent}{name} = tf.constant({name}, {F.tf_name(dtype)})\n")
        if lines:
            start = self.source.line_starts[loop.lineno - 1]
            self.out.edits[Span(start, start)] = "".join(lines)

    def stmt_While(self, node):
        if node.orelse:
            raise Refusal(node, "`while ... else` is not rewritten")
        self._note_kept_loop(node, in_python=False)
        self._loop(node.body, lambda: self._edit(node.test, self.expr(node.test)))

    def _loop(self, body, start_iteration):
        """Lower a loop body until the facts of the names it rebinds stop changing."""
        self.loop_depth += 1
        try:
            self._loop_to_fixpoint(body, start_iteration)
        finally:
            self.loop_depth -= 1

    def _loop_to_fixpoint(self, body, start_iteration):
        for _ in range(3):
            before = dict(self.env)
            start_iteration()
            self.block(body)
            merged = _merge(before, self.env)
            if merged == before:
                self.env = merged
                return
            self.env = merged
        raise Refusal(body[0], "the loop changes the dtype of a value on every iteration")

    def stmt_Break(self, node):
        pass

    def stmt_Continue(self, node):
        pass

    def bind(self, target, fact: Fact):
        if isinstance(target, gast.Name):
            self.env[target.id] = fact
        elif isinstance(target, (gast.Tuple, gast.List)):
            if fact.kind is not Kind.TUPLE or len(fact.items) != len(target.elts):
                raise Refusal(target, "cannot tell how many values are unpacked here")
            for element, item in zip(target.elts, fact.items):
                self.bind(element, item)
        else:
            raise Refusal(target, "assignment into an element or attribute is not rewritten yet")

    # -- expressions -------------------------------------------------------------------

    def expr(self, node) -> Lowered:
        handler = getattr(self, "expr_" + type(node).__name__, None)
        if handler is None:
            raise Refusal(node, f"`{self.source.segment(node)}` is not rewritten")
        return handler(node)

    def _same(self, node, fact) -> Lowered:
        return Lowered(self.source.segment(node), fact)

    def expr_Constant(self, node):
        return self._same(node, F.constant(node.value))

    def expr_Name(self, node):
        if node.id in self.env:
            return self._same(node, self.env[node.id])
        qualname = self.resolver.qualname(node)
        if qualname:
            return self.numpy_name(node, qualname)
        if self.resolver.builtin(node) in (int, float, bool, complex):
            # `a.astype(int)`: Python's types name NumPy dtypes (int is int64).
            dtype = F.as_dtype(self.resolver.builtin(node))
            return Lowered(F.tf_name(dtype), Fact(Kind.DTYPE, value=dtype), True)
        fact = self.context.free_fact(node) if self.context is not None else None
        return self._same(node, fact or F.OTHER)

    def numpy_name(self, node, qualname) -> Lowered:
        """A NumPy constant or dtype used as a value (`np.pi`, `np.float32`, `np.newaxis`)."""
        if not qualname.startswith("numpy."):
            return self._same(node, F.OTHER)
        attr = qualname[len("numpy."):]
        if attr in _NUMPY_CONSTANTS:
            text = _TF_CONSTANT_TEXT.get(attr, self.source.segment(node))
            value = _NUMPY_CONSTANTS[attr]
            return Lowered(text, F.constant(value), text != self.source.segment(node)) if attr in _TF_CONSTANT_TEXT \
                else self._same(node, F.constant(value))
        if attr == "newaxis":
            return Lowered("tf.newaxis", F.constant(None), True)
        dtype = F.as_dtype(getattr(np, attr, None)) if "." not in attr else None
        if dtype is not None and isinstance(getattr(np, attr), type):
            return Lowered(F.tf_name(dtype), Fact(Kind.DTYPE, value=dtype), True)
        return self._same(node, Fact(Kind.OTHER, value=qualname))

    def expr_Attribute(self, node):
        declared = self.env.get(self.source.segment(node))  # `self.threshold:float32[]` declared at the site
        if declared is not None:
            return self._same(node, declared)
        qualname = self.resolver.qualname(node)
        if qualname:
            return self.numpy_name(node, qualname)
        receiver = self.expr(node.value)
        if receiver.fact.batched:
            raise Refusal(node, f"`.{node.attr}` inside a vectorized body has no batching rule")
        if receiver.fact.kind is Kind.ARRAY and node.attr == "dtype" and receiver.fact.dtype is not None:
            # `np.zeros(n, dtype=x.dtype)`: a tensor's `.dtype` names the same dtype in TF.
            return Lowered(f"{parenthesize(receiver.text)}.dtype", Fact(Kind.DTYPE, value=receiver.fact.dtype),
                           receiver.changed)
        if receiver.fact.kind is Kind.ARRAY:
            pattern = self.registry.get(f"ndarray.{node.attr}")
            if pattern is None or not pattern.is_attribute:
                raise Refusal(node, f"array attribute `.{node.attr}` has no lowering")
            return self.apply(node, pattern, {"self": receiver})
        if receiver.fact.kind is Kind.SHAPE and node.attr == "ndim":
            raise Refusal(node, "`.ndim` of a shape is not rewritten")
        if receiver.changed:
            return Lowered(f"{parenthesize(receiver.text)}.{node.attr}", F.OTHER, True)
        return self._same(node, F.OTHER)

    def expr_Tuple(self, node):
        items = [self.expr(e) for e in node.elts]
        lowered = self._splice(node, list(zip(node.elts, items)), F.constant(tuple(i.fact for i in items)))
        lowered.items = items
        return lowered

    expr_List = expr_Tuple

    def expr_ListComp(self, node):
        raise Refusal(node, "list comprehensions are rewritten only when np.array/np.stack stacks them")

    def expr_Lambda(self, node):
        """A function value (passed to apply_along_axis, vectorize, map_fn): opaque here."""
        return self._same(node, Fact(Kind.OTHER, value=F.UNKNOWN))

    def expr_IfExp(self, node):
        test, body, orelse = (self.expr(n) for n in (node.test, node.body, node.orelse))
        if test.fact.batched:
            return self._batched_choice(node, test, body, orelse)
        if test.fact.kind is Kind.ARRAY:
            raise Refusal(node, "a conditional expression on an array's truth value is not rewritten")
        if body.fact != orelse.fact:
            raise Refusal(node, "the two branches of this conditional expression differ in dtype or kind")
        return self._splice(node, [(node.test, test), (node.body, body), (node.orelse, orelse)], body.fact)

    def _batched_choice(self, node, test, body, orelse) -> Lowered:
        """`x if cond else y` per element becomes `tf.where(cond, x, y)` on the batch."""
        from .calls import literal_tensor

        arrays = [v.fact for v in (body, orelse) if v.fact.kind is Kind.ARRAY]
        dtypes = {f.dtype for f in arrays}
        if len(dtypes) != 1 or None in dtypes or any(v.fact.kind not in (Kind.ARRAY, Kind.SCALAR) for v in (body, orelse)):
            raise Refusal(node, "the branches of a vectorized conditional must share one dtype")
        (dtype,) = dtypes
        if any(v.fact.kind is Kind.SCALAR and not v.fact.tensor for v in (body, orelse)):
            # per element NumPy returns the Python number itself, and np.vectorize,
            # apply_along_axis or np.array take their dtype from the values returned
            raise Refusal(node, "a vectorized conditional with a Python number as a branch has a dtype that "
                                "depends on the data: write the number as an array (np.float32(0))")
        test, body, orelse = self.align_batched(node, (test, body, orelse))
        texts = [v.text if v.fact.kind is Kind.ARRAY else literal_tensor(v.text, dtype) for v in (body, orelse)]
        rank = max(f.rank for f in (test.fact, body.fact, orelse.fact) if f.kind is Kind.ARRAY)
        return Lowered(f"tf.where({test.text}, {texts[0]}, {texts[1]})",
                       F.array(dtype, rank, fresh=True).with_(batched=True), True)

    def expr_UnaryOp(self, node):
        operand = self.expr(node.operand)
        if isinstance(node.op, gast.Not):
            if operand.fact.kind is Kind.ARRAY:
                raise Refusal(node, "`not` on an array asks for its truth value")
            return self._splice(node, [(node.operand, operand)], F.OTHER)
        ufunc = {gast.USub: np.negative, gast.UAdd: np.positive, gast.Invert: np.invert}[type(node.op)]
        if operand.fact.kind is not Kind.ARRAY and not operand.fact.tensor:
            fact = operand.fact
            if fact.kind is Kind.SCALAR and fact.known:
                fact = F.constant(_fold(ufunc, fact.value))
            return self._splice(node, [(node.operand, operand)], fact)
        if ufunc is np.negative and operand.fact.dtype is not None and operand.fact.dtype.kind == "b":
            raise Inconsistent("NumPy refuses `-` on booleans")
        result = self._numpy_result(node, ufunc, (operand.fact,), {}).with_(batched=operand.fact.batched)
        self._operator_domain(node, f"numpy.{ufunc.__name__}", operand.fact)
        if ufunc is np.positive:  # TF tensors have no unary `+`
            return Lowered(f"tf.identity({operand.text})", result, True)
        if ufunc is np.invert and operand.fact.dtype is not None and operand.fact.dtype.kind == "b":
            return Lowered(logical_not(operand.text), result, True)
        return self._splice(node, [(node.operand, operand)], result)

    def expr_BinOp(self, node):
        return self.binop(node, node.op, self.expr(node.left), self.expr(node.right))

    def binop(self, node, op, left: Lowered, right: Lowered) -> Lowered:
        name = _BINOPS.get(type(op))
        if name is None:
            raise Refusal(node, f"operator `{_op_text(op)}` is not rewritten")
        if left.fact.kind is right.fact.kind is Kind.SCALAR and (left.fact.tensor or right.fact.tensor):
            return self._scalar_tensor_binop(node, op, left, right)
        if Kind.ARRAY not in (left.fact.kind, right.fact.kind) and not (
            left.fact.tensor or right.fact.tensor
        ):
            # Plain Python arithmetic (on shapes, counts, literals) keeps Python's meaning.
            if left.fact.kind is Kind.SCALAR and right.fact.kind is Kind.SCALAR:
                value = _fold_binop(op, left.fact, right.fact)
                return self._binop_text(node, left, right, op, value)
            if left.fact.kind in (Kind.OTHER, Kind.SCALAR, Kind.TUPLE) and right.fact.kind in (
                Kind.OTHER, Kind.SCALAR, Kind.TUPLE
            ):
                return self._binop_text(node, left, right, op, F.OTHER)
            raise Refusal(node, "arithmetic on a shape is not rewritten")
        ufunc = getattr(np, name)
        result = self._numpy_result(node, ufunc, (left.fact, right.fact), {})
        self._operator_domain(node, f"numpy.{name}", left.fact, right.fact)
        if left.fact.batched or right.fact.batched:
            if name == "matmul":
                raise Refusal(node, "`@` inside a vectorized body has no batching rule here")
            left, right = self.align_batched(node, (left, right))
            result = result.with_(batched=True)
        if name == "matmul":
            return self._through_pattern(node, "numpy.matmul", {"x1": left, "x2": right})
        if name == "true_divide" and result.kind is Kind.ARRAY:
            left, right = self._cast_operands(result.dtype, left, right)
            return self._binop_text(node, left, right, op, result)
        if name == "power":
            return self._power(node, left, right, result)
        if name in ("floor_divide", "remainder") and result.kind is Kind.ARRAY and result.dtype.kind in "iu" \
                and not (right.fact.known and np.all(np.asarray(right.fact.value) != 0)):
            # a zero divisor gives 0 in NumPy; TF's integer `//` and `%` raise
            return self._through_pattern(node, f"numpy.{name}", {"x1": left, "x2": right})
        left, right = self._cast_operands(result.dtype, left, right)
        if name in ("bitwise_and", "bitwise_or", "bitwise_xor") and result.dtype.kind not in "biu":
            raise Inconsistent("bitwise operators need integers or booleans")
        return self._binop_text(node, left, right, op, result)

    def _scalar_tensor_binop(self, node, op, left, right) -> Lowered:
        """Python numbers held as tensors (`h = x.shape[0]`, an int32 in TF): arithmetic keeps
        Python's meaning, so an int tensor meeting a float becomes a float64 tensor."""
        if _op_text(op) not in ("+", "-", "*", "/", "//", "%", "**"):
            raise Refusal(node, f"operator `{_op_text(op)}` on shape values is not rewritten")
        fact = _fold_binop(op, left.fact, right.fact).with_(tensor=True, value=F.UNKNOWN)
        if fact.pytype is float:
            left, right = (Lowered(f"tf.cast({v.text}, tf.float64)", v.fact, True) if v.fact.tensor
                           and v.fact.pytype in (int, bool) else v for v in (left, right))
            fact = fact.with_(dtype=np.dtype("float64"))
        else:
            # Python's bools are ints in arithmetic (True + 1 == 2): a bool tensor joins the
            # other operand's int dtype.
            dtype = next((v.fact.dtype for v in (left, right) if v.fact.tensor and v.fact.pytype is int),
                         np.dtype("int64"))
            left, right = (Lowered(f"tf.cast({v.text}, {F.tf_name(dtype)})", v.fact, True) if v.fact.tensor
                           and v.fact.pytype is bool else v for v in (left, right))
            fact = fact.with_(dtype=dtype)
        return self._binop_text(node, left, right, op, fact)

    def _binop_text(self, node, left, right, op, fact):
        if isinstance(node, gast.BinOp):
            return self._splice(node, [(node.left, left), (node.right, right)], fact)
        text = f"{parenthesize(left.text)} {_op_text(op)} {parenthesize(right.text)}"
        return Lowered(text, fact, True)

    def _cast_operands(self, dtype, *operands):
        return tuple(self.cast(o, dtype) for o in operands)

    def cast(self, value: Lowered, dtype) -> Lowered:
        """Bring an operand to `dtype` the way NumPy's promotion would have."""
        fact = value.fact
        if fact.kind is Kind.ARRAY:
            if fact.dtype == dtype:
                return value
            return Lowered(f"tf.cast({value.text}, {F.tf_name(dtype)})", fact.with_(dtype=np.dtype(dtype)), True)
        if fact.kind is Kind.SCALAR and fact.tensor:
            return Lowered(f"tf.cast({value.text}, {F.tf_name(dtype)})",
                           F.array(dtype, 0), True)
        if fact.kind is Kind.TUPLE and value.items is not None:
            items = [self.cast(item, dtype) for item in value.items]
            if any(i.changed for i in items):
                text = ", ".join(i.text for i in items)
                fact = F.constant(tuple(i.fact for i in items))
                return Lowered(f"[{text}]", fact, True, items)
        elif fact.kind is Kind.TUPLE and any(i.kind is Kind.ARRAY and i.dtype != dtype for i in fact.items):
            raise Refusal(None, "a list bound to a name would need its items cast one by one")
        return value

    def _power(self, node, base, exponent, result):
        if exponent.fact.kind is Kind.SCALAR and exponent.fact.known and base.fact.kind is Kind.ARRAY:
            base = self.cast(base, result.dtype)
            # Eager `x ** 2` runs tf.pow, many times slower than tf.square.
            if exponent.fact.value == 2:
                return Lowered(f"tf.square({base.text})", result, True)
            if exponent.fact.value == 0.5 and result.dtype.kind in "fc":
                return Lowered(f"tf.sqrt({base.text})", result, True)
            if exponent.fact.value == 1 and base.fact.dtype == result.dtype:
                return Lowered(f"tf.identity({base.text})", result, True)
        if result.dtype.kind in "iu":
            raise Refusal(node, "integer `**` is not rewritten (NumPy raises on negative powers, TF does not)")
        base, exponent = self._cast_operands(result.dtype, base, exponent)
        return self._binop_text(node, base, exponent, gast.Pow(), result)

    def _through_pattern(self, node, name, given: dict) -> Lowered:
        """An operator lowered by its ufunc's pattern (`a @ b` is numpy.matmul, whose lowering
        knows NumPy's 1-D rules and the integer dtypes TF has no kernel for)."""
        from .calls import apply_pattern, numpy_object

        pattern = self.registry.get(name)
        signature = signature_of(pattern, numpy_object(pattern))
        args = {param: given.get(param, OMIT) for param in signature.parameters}
        return apply_pattern(self, node, pattern, args, signature)

    def expr_Compare(self, node):
        if len(node.ops) != 1:
            raise Refusal(node, "chained comparisons are not rewritten")
        op = type(node.ops[0])
        left, right = self.expr(node.left), self.expr(node.comparators[0])
        if op not in _COMPARES or Kind.ARRAY not in (left.fact.kind, right.fact.kind) and not (
            left.fact.tensor or right.fact.tensor
        ):
            if Kind.ARRAY in (left.fact.kind, right.fact.kind):
                raise Refusal(node, f"`{_op_text(node.ops[0])}` on an array is not rewritten")
            return self._splice(node, [(node.left, left), (node.comparators[0], right)], F.OTHER)
        ufunc = getattr(np, _COMPARES[op])
        result = self._numpy_result(node, ufunc, (left.fact, right.fact), {})
        self._operator_domain(node, f"numpy.{_COMPARES[op]}", left.fact, right.fact)
        if left.fact.batched or right.fact.batched:
            left, right = self.align_batched(node, (left, right))
            result = result.with_(batched=True)
        common = self._numpy_result(node, np.result_type, (left.fact, right.fact), {})
        common_dtype = common.value if common.kind is Kind.DTYPE else None
        if common_dtype is None:
            raise Refusal(node, "cannot tell the common dtype of this comparison")
        left, right = self._cast_operands(common_dtype, left, right)
        return self._splice(node, [(node.left, left), (node.comparators[0], right)], result)

    def expr_BoolOp(self, node):
        values = [self.expr(v) for v in node.values]
        if any(v.fact.kind is Kind.ARRAY for v in values):
            raise Refusal(node, "`and`/`or` on arrays ask for their truth value")
        return self._splice(node, list(zip(node.values, values)), F.OTHER)

    def expr_Subscript(self, node):
        from .indexing import lower_subscript

        return lower_subscript(self, node)

    def expr_Call(self, node):
        from .calls import lower_call

        return lower_call(self, node)

    # -- patterns ----------------------------------------------------------------------

    def apply(self, node, pattern: Pattern, bound: dict) -> Lowered:
        """Lower one NumPy call (or attribute) through its pattern; `bound` maps NumPy
        parameter names to lowered arguments (or OMIT)."""
        from .calls import apply_pattern

        return apply_pattern(self, node, pattern, bound)

    def align_batched(self, node, operands):
        """Batched operands whose elements have fewer axes than the result's get axes
        inserted right after their batch axes, so NumPy's per-element broadcasting holds."""
        self.check_batched_broadcast(node, [o.fact for o in operands])
        rank = max(o.fact.rank for o in operands if o.fact.kind is Kind.ARRAY)
        out = []
        for operand in operands:
            fact = operand.fact
            if fact.batched and fact.rank < rank:
                text = operand.text
                for _ in range(rank - fact.rank):
                    text = f"tf.expand_dims({text}, {-(fact.rank + 1)})"
                operand = Lowered(text, fact.with_(rank=rank), True)
            out.append(operand)
        return out

    def check_batched_broadcast(self, node, facts):
        """Elementwise ops lift to batched operands once their ranks are known (the
        alignment itself is `align_batched`)."""
        arrays = [f for f in facts if f.kind is Kind.ARRAY]
        if any(f.rank is None for f in arrays):
            raise Refusal(node, "an operand of a vectorized operation has an unknown rank")

    def _operator_domain(self, node, name, *operands):
        """Operators follow the domain of their ufunc's pattern (`+` is `numpy.add`)."""
        from .calls import check_domain

        pattern = self.registry.get(name)
        if pattern is None:
            raise Refusal(node, f"operator for `{name}` has no pattern", "RW201")
        self.out.patterns.add(pattern.numpy)
        try:
            check_domain(node, pattern, operands)
        except Refusal as refusal:
            self.out.refusals.append(refusal)

    def _numpy_result(self, node, fn, args, kwargs) -> Fact:
        result = F.evaluate_numpy(fn, args, kwargs)
        if result is None:
            if any(_vague(a) for a in (*args, *kwargs.values())):
                raise Refusal(node, f"`{_short(self.source.segment(node))}`: {self._unseen(node)}")
            raise Inconsistent(f"NumPy rejects `{self.source.segment(node)}` for these input dtypes")
        if fn is np.result_type:
            return Fact(Kind.DTYPE, value=np.dtype(result_dtype_of(args)))
        return result

    def _unseen(self, node) -> str:
        """What to say of an operand the rewriter cannot see, and the declaration that settles it."""
        attributes = [self.source.segment(n) for n in gast.walk(node) if isinstance(n, gast.Attribute)
                      and isinstance(n.value, gast.Name) and not self.resolver.qualname(n)
                      and self.source.segment(n) not in self.env]
        if attributes:
            name = attributes[0]
            return (f"`{name}` is a value the rewriter cannot see: declare it in the site's comment, "
                    f"e.g. `# rewriter: args=..., {name}:float32[]` (or `{name}:float` for a Python number)")
        return ("the dtype or rank of an operand is unknown (a value the rewriter cannot follow, such as a "
                "module-level object)")

    # -- text --------------------------------------------------------------------------

    def _splice(self, node, parts, fact) -> Lowered:
        """The node's original text with changed children replaced (comments survive)."""
        changed = [(child, low) for child, low in parts if low.changed]
        if not changed:
            return self._same(node, fact)
        base = self.source.span(node)
        text = self.source.text[base.start:base.end]
        for child, low in sorted(changed, key=lambda p: self.source.span(p[0]).start, reverse=True):
            span = self.source.span(child)
            grouped = low.spliced or self._in_parentheses(span)
            replacement = low.text if grouped or _fits_in(child, node) else parenthesize(low.text)
            text = text[: span.start - base.start] + replacement + text[span.end - base.start:]
        return Lowered(text, fact, True, spliced=True)

    def _in_parentheses(self, span) -> bool:
        """Whether the source already wraps this span in grouping parentheses."""
        text = self.source.text
        before = text[:span.start].rstrip()
        after = text[span.end:].lstrip()
        return before.endswith("(") and after.startswith(")")

    def _edit(self, node, lowered: Lowered):
        if lowered.changed:
            span = self.source.span(node)
            # A nested edit is subsumed by the edit of its enclosing expression.
            self.out.edits = {s: t for s, t in self.out.edits.items()
                              if not (span.start <= s.start and s.end <= span.end)}
            self.out.edits[span] = lowered.text


def _bare_names(node):
    """Names an expression may hand over as they are (not through a computation)."""
    if isinstance(node, gast.Name):
        yield node.id
    elif isinstance(node, (gast.Tuple, gast.List)):
        for element in node.elts:
            yield from _bare_names(element)
    elif isinstance(node, gast.IfExp):
        yield from _bare_names(node.body)
        yield from _bare_names(node.orelse)
    elif isinstance(node, gast.Starred):
        yield from _bare_names(node.value)


def _fits_in(child, parent) -> bool:
    """Whether a replacement for `child` needs no parentheses inside `parent`."""
    if isinstance(parent, (gast.Call, gast.Tuple, gast.List)):
        return child is not getattr(parent, "func", None)
    if isinstance(parent, gast.Subscript):
        return child is parent.slice
    return False


def result_dtype_of(args) -> np.dtype:
    stand_ins = []
    for fact in args:
        if fact.kind is Kind.ARRAY:
            stand_ins.append(np.zeros(1, fact.dtype))
        elif fact.kind is Kind.SCALAR:
            stand_ins.append(fact.value if fact.known else fact.pytype(1))
    return np.result_type(*stand_ins)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _vague(fact: Fact) -> bool:
    if fact.kind is Kind.ARRAY:
        return fact.dtype is None
    if fact.kind is Kind.TUPLE:
        return any(_vague(i) for i in fact.items)
    return fact.kind is Kind.OTHER and not fact.known


def _element_of(fact: Fact) -> Fact:
    """Fact of the loop variable when iterating over a value."""
    if fact.kind is Kind.ARRAY and fact.rank:
        return fact.with_(rank=fact.rank - 1, fresh=False)
    if fact.kind is Kind.OTHER and fact.value == "range":
        return Fact(Kind.SCALAR, pytype=int, tensor=fact.tensor)
    if fact.kind is Kind.TUPLE and fact.items and all(i == fact.items[0] for i in fact.items):
        return fact.items[0]
    return fact.with_(value=F.UNKNOWN) if fact.kind is Kind.SCALAR else F.OTHER


def _merge(a: dict, b: dict) -> dict:
    """Facts after two control-flow paths meet: agreement survives, disagreement is vague."""
    out = {}
    for name in a.keys() | b.keys():
        x, y = a.get(name), b.get(name)
        if x == y:
            out[name] = x
        elif x is None or y is None:
            out[name] = x or y
        elif x.kind is y.kind is Kind.ARRAY and x.dtype == y.dtype:
            out[name] = x.with_(rank=x.rank if x.rank == y.rank else None, fresh=x.fresh and y.fresh)
        elif x.kind is y.kind is Kind.SCALAR and x.pytype is y.pytype and (
                x.dtype is None or y.dtype is None or x.dtype == y.dtype):
            out[name] = x.with_(value=F.UNKNOWN, tensor=x.tensor or y.tensor, dtype=x.dtype or y.dtype)
        elif {x.kind, y.kind} == {Kind.SCALAR, Kind.ARRAY}:
            # An accumulator that starts as a Python number and becomes an array: NumPy's
            # weak scalars take the array's dtype, so the dtype holds; the rank may not.
            array, scalar = (x, y) if x.kind is Kind.ARRAY else (y, x)
            promoted = F.evaluate_numpy(np.add, (array, scalar), {})
            same = promoted is not None and promoted.dtype == array.dtype
            rank = 0 if array.rank == 0 else None  # a Python number is 0-d too
            out[name] = array.with_(rank=rank, fresh=True) if same else Fact(Kind.OTHER)
        else:
            out[name] = Fact(Kind.OTHER)
    return out


def _fold(ufunc, value):
    return type(value)(ufunc(value)) if not isinstance(value, bool) else ufunc(value)


def _fold_binop(op, left: Fact, right: Fact) -> Fact:
    if left.known and right.known:
        try:
            value = _PY_OPS[type(op)](left.value, right.value)
        except Exception:
            return Fact(Kind.SCALAR, pytype=float)
        return F.constant(value)
    pytype = float if float in (left.pytype, right.pytype) or isinstance(op, gast.Div) else int
    return Fact(Kind.SCALAR, pytype=pytype, tensor=left.tensor or right.tensor)


_PY_OPS = {
    gast.Add: lambda a, b: a + b, gast.Sub: lambda a, b: a - b, gast.Mult: lambda a, b: a * b,
    gast.Div: lambda a, b: a / b, gast.FloorDiv: lambda a, b: a // b, gast.Mod: lambda a, b: a % b,
    gast.Pow: lambda a, b: a ** b,
}


def _op_text(op) -> str:
    return {
        gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.FloorDiv: "//",
        gast.Mod: "%", gast.Pow: "**", gast.MatMult: "@", gast.BitAnd: "&", gast.BitOr: "|",
        gast.BitXor: "^", gast.LShift: "<<", gast.RShift: ">>", gast.Lt: "<", gast.LtE: "<=",
        gast.Gt: ">", gast.GtE: ">=", gast.Eq: "==", gast.NotEq: "!=", gast.In: "in",
        gast.NotIn: "not in", gast.Is: "is", gast.IsNot: "is not",
    }.get(type(op), type(op).__name__)


def signature_of(pattern: Pattern, numpy_object) -> inspect.Signature | None:
    """NumPy's signature for a pattern, from the pattern or introspection."""
    if pattern.signature and pattern.signature != "attribute":
        return _parse_signature(pattern.signature)
    if isinstance(numpy_object, np.ufunc):
        params = ", ".join(["x"] if numpy_object.nin == 1 else [f"x{i + 1}" for i in range(numpy_object.nin)])
        return _parse_signature(f"({params}, /, out=None, *, where=True, casting='same_kind', "
                                "order='K', dtype=None, subok=True)")
    try:
        return inspect.signature(numpy_object)
    except (TypeError, ValueError):
        return None


def _parse_signature(text: str) -> inspect.Signature:
    namespace: dict = {}
    exec(f"def _f{text}: pass", {"np": np, "_NoValue": np._NoValue}, namespace)  # our own pattern text
    return inspect.signature(namespace["_f"])
