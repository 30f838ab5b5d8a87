"""Expressions: names, NumPy constants and dtypes, attributes, tuples, conditional
expressions, and the text of a lowered expression (the original source with changed parts
spliced in, so comments and formatting survive).

`ExpressionLowering` is the part of `walker.FunctionLowering` that does this (split out by
job). Calls and subscripts are lowered by `calls.py` and `indexing.py`, reached through the
`handlers` table; operators by `operators.py` (whose `align_batched` vectorized conditional
expressions use).
"""
from __future__ import annotations

import gast
import numpy as np

from . import facts as F
from .apply import apply_pattern, literal_tensor
from .facts import Fact, Kind
from .handlers import lowering
from .lowered import Lowered, Refusal
from .pattern import Pattern, parenthesize

_NUMPY_CONSTANTS = {"pi": np.pi, "e": np.e, "inf": np.inf, "nan": np.nan, "euler_gamma": np.euler_gamma}
_TF_CONSTANT_TEXT = {"inf": "float('inf')", "nan": "float('nan')"}


class ExpressionLowering:
    """Expression dispatch and splicing, for `walker.FunctionLowering`."""

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
        if receiver.fact.eager and node.attr not in ("shape", "ndim"):
            raise Refusal(node, f"`.{node.attr}` of a TensorFlow result: TF tensors have no such attribute")
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

    def static_type_check(self, node, test: Lowered):
        """The answer of a test like `hasattr(x, "numpy")` or `not isinstance(x, tf.Tensor)`,
        known when the rewrite is made (see builtin_calls); None for any other test."""
        while isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not):
            node = node.operand
        if not (isinstance(node, gast.Call) and self.resolver.builtin(node.func) in TYPE_CHECKS):
            return None
        return test.fact.value if test.fact.known and isinstance(test.fact.value, bool) else None

    def expr_IfExp(self, node):
        test = self.expr(node.test)
        taken = self.static_type_check(node.test, test)
        if taken is not None:
            # `x.numpy() if hasattr(x, "numpy") else x`: the original's branch, alone
            live = self.expr(node.body if taken else node.orelse)
            return Lowered(live.text, live.fact, True, spliced=True)  # fits where an IfExp did
        body, orelse = self.expr(node.body), self.expr(node.orelse)
        if test.fact.batched:
            return self._batched_choice(node, test, body, orelse)
        if test.fact.kind is Kind.ARRAY:
            raise Refusal(node, "a conditional expression on an array's truth value is not rewritten")
        if body.fact != orelse.fact:
            raise Refusal(node, "the two branches of this conditional expression differ in dtype or kind")
        self.note_graph_branch(node, "conditional expression", test.fact)
        return self._splice(node, [(node.test, test), (node.body, body), (node.orelse, orelse)], body.fact)

    def _batched_choice(self, node, test, body, orelse) -> Lowered:
        """`x if cond else y` per element becomes `tf.where(cond, x, y)` on the batch."""
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

    def expr_Subscript(self, node):
        return lowering("subscript")(self, node)  # indexing.lower_subscript

    def expr_Call(self, node):
        return lowering("call")(self, node)  # calls.lower_call

    # -- patterns ----------------------------------------------------------------------

    def apply(self, node, pattern: Pattern, bound: dict) -> Lowered:
        """Lower one NumPy call (or attribute) through its pattern; `bound` maps NumPy
        parameter names to lowered arguments (or OMIT)."""
        return apply_pattern(self, node, pattern, bound)

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


TYPE_CHECKS = (hasattr, isinstance, callable)
"""Builtins whose answer on an array `builtin_calls` settles when the rewrite is made."""


def _fits_in(child, parent) -> bool:
    """Whether a replacement for `child` needs no parentheses inside `parent`."""
    if isinstance(parent, (gast.Call, gast.Tuple, gast.List)):
        return child is not getattr(parent, "func", None)
    if isinstance(parent, gast.Subscript):
        return child is parent.slice
    return False
