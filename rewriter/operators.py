"""Operators on arrays (`+`, `@`, `<`, `-x`, `**`) and the casts that make TF compute in
NumPy's dtypes: NumPy's promotion is evaluated on the operands' facts, and operands are cast
to its result before the TF op, since TF does not promote.

`OperatorLowering` is the part of `walker.FunctionLowering` that does this (split out by job);
its methods use the walker's `expr` and `_splice`.
"""
from __future__ import annotations

import gast
import numpy as np

from . import facts as F
from .apply import apply_pattern, check_domain, numpy_object, signature_of
from .facts import Fact, Kind
from .lowered import Inconsistent, Lowered, Refusal
from .pattern import OMIT, logical_not, parenthesize
from .tf_results import TFRejects, array_converts, operator_result, python_number_converts

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


class OperatorLowering:
    """Operators, casts and NumPy's result dtypes, for `walker.FunctionLowering`."""

    def expr_UnaryOp(self, node):
        operand = self.expr(node.operand)
        if isinstance(node.op, gast.Not):
            if operand.fact.kind is Kind.ARRAY:
                raise Refusal(node, "`not` on an array asks for its truth value")
            known = operand.fact.known and isinstance(operand.fact.value, bool)
            # `not hasattr(x, "numpy")` is known when the rewrite is made, as its operand is
            fact = F.constant(not operand.fact.value) if known else F.OTHER
            return self._splice(node, [(node.operand, operand)], fact)
        ufunc = {gast.USub: np.negative, gast.UAdd: np.positive, gast.Invert: np.invert}[type(node.op)]
        if operand.fact.kind is not Kind.ARRAY and not operand.fact.tensor:
            fact = operand.fact
            if fact.kind is Kind.SCALAR and fact.known:
                fact = F.constant(_fold(ufunc, fact.value))
            return self._splice(node, [(node.operand, operand)], fact)
        if operand.fact.eager:
            return self.tf_operator(node, ufunc.__name__, operand)
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
            raise Refusal(node, f"operator `{op_text(op)}` is not rewritten")
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
        if left.fact.eager or right.fact.eager:
            return self.tf_operator(node, name, left, right, op)
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

    def tf_operator(self, node, name, left: Lowered, right: Lowered | None = None, op=None) -> Lowered:
        """An operator on a TF call's result follows TF's rules, kept as written: the other
        operand is converted to the tensor's dtype (a NumPy array as by astype, a Python
        number as a literal), nothing is promoted, and where TF raises the input dtypes are
        inconsistent. `name` is the operator's NumPy ufunc name; the operands are in order
        (`right` is None for a unary one) and either may be the TF result: NumPy defers to
        a tensor's reflected operator."""
        operands = [left] if right is None else [left, right]
        if any(o.fact.batched for o in operands):
            raise Refusal(node, "an operator on a TensorFlow result inside a vectorized body is not rewritten")
        first = next(o for o in operands if o.fact.eager)
        if first.fact.dtype is None:
            raise Refusal(node, self._unknown_tf_result(node))
        converted = [self._converted(node, o, first.fact.dtype) for o in operands]
        try:
            second = None if right is None else converted[1 - operands.index(first)].fact
            result = operator_result(name, first.fact, second)
        except TFRejects as exc:
            raise Inconsistent(str(exc)) from None
        if isinstance(node, gast.Call):  # abs(t)
            return self._splice(node, [(node.args[0], converted[0])], result)
        if right is None:
            return self._splice(node, [(node.operand, converted[0])], result)
        if isinstance(node, gast.Compare):
            return self._splice(node, [(node.left, converted[0]), (node.comparators[0], converted[1])], result)
        return self._binop_text(node, converted[0], converted[1], op, result)

    def _converted(self, node, value: Lowered, dtype) -> Lowered:
        """An operand as TF converts it for an operator with a tensor of `dtype`."""
        fact = value.fact
        if fact.kind is Kind.ARRAY and fact.dtype is None:
            raise Refusal(node, f"`{_short(self.source.segment(node))}`: {self._unseen(node)}")
        if fact.kind is Kind.ARRAY and fact.eager:
            if fact.dtype != dtype:
                raise Inconsistent(f"TF raises on an operator between {fact.dtype} and {dtype} tensors")
            return value
        if fact.kind is Kind.ARRAY:
            if not array_converts(fact.dtype, dtype):
                raise Refusal(node, f"`{_short(self.source.segment(node))}`: TF converts the {fact.dtype} array "
                                    f"to the tensor's {dtype} (as NumPy's astype) where tf.cast differs")
            return self.cast(value, dtype)
        if fact.kind is not Kind.SCALAR or fact.pytype is None:
            raise Refusal(node, f"`{_short(self.source.segment(node))}`: an operand of a TensorFlow result "
                                "that is neither an array nor a Python number")
        converts = python_number_converts(fact.with_(tensor=False), dtype)
        if converts is None:
            raise Refusal(node, f"`{_short(self.source.segment(node))}`: a Python {fact.pytype.__name__} meeting a "
                                f"{dtype} TensorFlow result is not rewritten")
        if not converts:
            raise Inconsistent(f"TF cannot convert a Python {fact.pytype.__name__} to a {dtype} tensor")
        if fact.tensor:  # a Python number the rewrite holds as a tensor (a shape value)
            return Lowered(f"tf.cast({value.text}, {F.tf_name(dtype)})", F.array(dtype, 0), True)
        return value

    def _scalar_tensor_binop(self, node, op, left, right) -> Lowered:
        """Python numbers held as tensors (`h = x.shape[0]`, an int32 in TF): arithmetic keeps
        Python's meaning, so an int tensor meeting a float becomes a float64 tensor."""
        if op_text(op) not in ("+", "-", "*", "/", "//", "%", "**"):
            raise Refusal(node, f"operator `{op_text(op)}` on shape values is not rewritten")
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
        text = f"{parenthesize(left.text)} {op_text(op)} {parenthesize(right.text)}"
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
            if fact.dtype == dtype:  # a Python float held as a float64 tensor, meeting float64
                return Lowered(value.text, F.array(dtype, 0), value.changed)
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
                raise Refusal(node, f"`{op_text(node.ops[0])}` on an array is not rewritten")
            return self._splice(node, [(node.left, left), (node.comparators[0], right)], F.OTHER)
        if left.fact.eager or right.fact.eager:
            return self.tf_operator(node, _COMPARES[op], left, right)
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
        if Kind.ARRAY in (left.fact.kind, right.fact.kind) and _python_int_out_of(common_dtype, left, right):
            left, right = self._compared_by_value(node, common_dtype, left, right)
        else:
            left, right = self._compared_operands(common_dtype, left, right)
        return self._splice(node, [(node.left, left), (node.comparators[0], right)], result)

    def _compared_by_value(self, node, dtype, left, right):
        """NumPy compares an integer array with a Python int by value, even one its dtype cannot
        hold (`uint8_img < -1` is all False): both go to int64, which holds every value of the
        smaller integer dtypes, where converting the int to the array's dtype would wrap it."""
        if dtype == np.dtype("uint64"):
            raise Refusal(node, "a uint64 array compared with a Python int outside its range is not rewritten")
        return tuple(o if o.fact.kind is Kind.SCALAR and o.fact.known  # a literal: TF reads it as int64
                     else Lowered(f"tf.cast({o.text}, tf.int64)", o.fact.with_(dtype=np.dtype("int64")), True)
                     for o in (left, right))

    def _compared_operands(self, dtype, left, right):
        """A comparison's operands in their common dtype. When one has it already and is a name,
        the other is cast to that name's dtype (`tf.cast(palette, img.dtype)`): the result is
        bool either way, and the bodies lowered for different input dtypes then share one text
        (one body in the rewrite, where `tf.float32`, `tf.int32`, ... would each need their own)."""
        for kept, other in ((left, right), (right, left)):
            if kept.fact.kind is other.fact.kind is Kind.ARRAY and kept.fact.dtype == dtype != other.fact.dtype \
                    and kept.text.isidentifier() and not kept.fact.batched:
                cast = Lowered(f"tf.cast({other.text}, {kept.text}.dtype)", other.fact.with_(dtype=dtype), True)
                return (left, cast) if kept is left else (cast, right)
        return self._cast_operands(dtype, left, right)

    def expr_BoolOp(self, node):
        values = [self.expr(v) for v in node.values]
        if any(v.fact.kind is Kind.ARRAY for v in values):
            raise Refusal(node, "`and`/`or` on arrays ask for their truth value")
        self.note_graph_branch(node, "`and`/`or`", *(v.fact for v in values))
        return self._splice(node, list(zip(node.values, values)), F.OTHER)

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
            if any(a.eager and a.dtype is None for a in (*args, *kwargs.values())):
                raise Refusal(node, self._unknown_tf_result(node))
            if any(_vague(a) for a in (*args, *kwargs.values())):
                inside = set(map(id, gast.walk(node)))
                # an operand is vague when its own lowering was refused: that refusal says why
                raise next((r for r in self.out.refusals if id(r.node) in inside),
                           Refusal(node, f"`{_short(self.source.segment(node))}`: {self._unseen(node)}"))
            raise Inconsistent(f"NumPy rejects `{self.source.segment(node)}` for these input dtypes")
        if fn is np.result_type:
            return Fact(Kind.DTYPE, value=np.dtype(result_dtype_of(args)))
        return result

    def _unknown_tf_result(self, node) -> str:
        return (f"`{_short(self.source.segment(node))}`: the dtype of a TensorFlow result here is unknown "
                "(a TF call the rewriter has no result table for)")

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


def op_text(op) -> str:
    return {
        gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.FloorDiv: "//",
        gast.Mod: "%", gast.Pow: "**", gast.MatMult: "@", gast.BitAnd: "&", gast.BitOr: "|",
        gast.BitXor: "^", gast.LShift: "<<", gast.RShift: ">>", gast.Lt: "<", gast.LtE: "<=",
        gast.Gt: ">", gast.GtE: ">=", gast.Eq: "==", gast.NotEq: "!=", gast.In: "in",
        gast.NotIn: "not in", gast.Is: "is", gast.IsNot: "is not",
    }.get(type(op), type(op).__name__)


def _python_int_out_of(dtype, *operands) -> bool:
    """Whether an integer comparison meets a Python int its dtype may not hold: one whose value
    is unknown, or outside the dtype's range."""
    if dtype.kind not in "iu":
        return False
    limits = np.iinfo(dtype)
    for operand in operands:
        fact = operand.fact
        if fact.kind is Kind.SCALAR and fact.pytype is int and not fact.tensor \
                and not (fact.known and isinstance(fact.value, int) and limits.min <= fact.value <= limits.max):
            return True
    return False
