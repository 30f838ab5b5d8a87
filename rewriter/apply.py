"""Applying a pattern: a NumPy call bound to NumPy's own signature, checked against the
pattern's domain and the arguments it handles, its inputs cast the way NumPy promotes them,
lifted to batched inputs by the pattern's batching rule, and rendered through the pattern.

Binding to NumPy's signature means `np.sum(a, 1)`, `np.sum(a, axis=1)` and `a.sum(axis=1)`
reach the pattern in one form. Arguments the pattern does not handle must be absent or equal
to NumPy's default; anything else (`out=`, `where=`, `order='F'`) refuses the call rather
than being dropped.

`lw` is the walker (`walker.FunctionLowering`) lowering the enclosing function; this module
only calls its methods, so the walker can import it without a circle.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, replace

import numpy as np

from . import facts as F
from .facts import Fact, Kind
from .lowered import Inconsistent, Lowered, Refusal
from .pattern import OMIT, Batch, Cast, Pattern, render


@dataclass
class Call:
    """A NumPy call bound to its pattern, as lowering functions see it."""

    node: object
    pattern: Pattern
    args: dict  # NumPy parameter name -> Lowered, or OMIT
    result: Fact
    lowering: object

    def given(self, name) -> bool:
        return self.args.get(name, OMIT) is not OMIT

    def text(self, name) -> str:
        return self.args[name].text

    def fact(self, name) -> Fact:
        return self.args[name].fact

    def const(self, name, default=None):
        """The compile-time value of an argument; refuses when it is not a constant."""
        if not self.given(name):
            return default
        value = _constant_value(self.fact(name))
        if value is F.UNKNOWN:
            raise Refusal(self.node, f"`{name}` must be a constant for {self.pattern.numpy}")
        return value

    def cast(self, name, dtype) -> str:
        return self.lowering.cast(self.args[name], dtype).text

    def tensor(self, name) -> str:
        """The argument as a tensor of NumPy's result dtype, also when it is a Python literal
        (a literal on its own inside a TF op would get TF's default dtype)."""
        value = self.args[name]
        if value.fact.kind is Kind.SCALAR and not value.fact.tensor and self.result.kind is Kind.ARRAY:
            return literal_tensor(value.text, self.result.dtype)
        return self.cast(name, self.result.dtype)

    def operand(self, name) -> str:
        """The argument as an operand next to a tensor in a TF op: a bare Python literal where
        TF gives it NumPy's result dtype wherever it stands (more readable), a tensor otherwise
        (see `_literal_inputs_as_tensors`)."""
        value = self.args[name]
        fact = value.fact
        if fact.kind is Kind.SCALAR and not fact.tensor and self.result.kind is Kind.ARRAY \
                and _TF_DEFAULT.get(fact.pytype) == self.result.dtype:
            return value.text
        return self.tensor(name)

    def refuse(self, reason: str):
        raise Refusal(self.node, f"{self.pattern.numpy}: {reason}")


def _constant_value(fact: Fact):
    """The Python value of a constant fact, nested tuples and lists included."""
    if fact.kind is Kind.TUPLE:
        items = [_constant_value(i) for i in fact.items]
        return F.UNKNOWN if any(i is F.UNKNOWN for i in items) else tuple(items)
    return fact.value if fact.known else F.UNKNOWN


def numpy_object(pattern: Pattern):
    """The live NumPy callable a pattern stands for (a method through its `via` function)."""
    qualname = pattern.via or pattern.numpy
    if qualname.startswith("ndarray."):
        attr = qualname.split(".", 1)[1]
        value = getattr(np.ndarray, attr)
        return value if callable(value) else (lambda self, _attr=attr: getattr(self, _attr))
    head, *rest = qualname.split(".")
    value = importlib.import_module(head)
    for attr in rest:  # numpy.fft.rfft, numpy.random.Generator.normal
        value = getattr(value, attr)
    return value


def bind_and_apply(lw, node, pattern: Pattern, receiver, positional=None) -> Lowered:
    """Bind a call's arguments to NumPy's signature and lower it through `pattern`
    (`positional` replaces the call's positional arguments; Lowered ones are taken as they are)."""
    signature = signature_of(pattern, numpy_object(pattern))
    if signature is None:
        raise Refusal(node, f"no signature known for {pattern.numpy}")
    positional = list(node.args) if positional is None else list(positional)
    if receiver is not None:
        positional.insert(0, receiver)
    try:
        bound = signature.bind(*positional, **{k.arg: k.value for k in node.keywords})
    except TypeError as exc:
        raise Inconsistent(f"{pattern.numpy}: {exc}") from None
    lowered = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if isinstance(value, Lowered):
            lowered[name] = value
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            items = [lw.expr(v) for v in value]
            lowered[name] = Lowered(", ".join(i.text for i in items),
                                    F.constant(tuple(i.fact for i in items)), any(i.changed for i in items), items)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            raise Refusal(node, f"{pattern.numpy}: extra keyword arguments are not rewritten")
        else:
            lowered[name] = lw.expr(value)
    for name in signature.parameters:
        lowered.setdefault(name, OMIT)
    return apply_pattern(lw, node, pattern, lowered, signature)


def apply_pattern(lw, node, pattern: Pattern, args: dict, signature=None) -> Lowered:
    numpy_fn = numpy_object(pattern)
    signature = signature or signature_of(pattern, numpy_fn)
    if pattern.result is not None:
        result = pattern.result({n: v.fact for n, v in args.items() if v is not OMIT})
    else:
        result = _evaluate(lw, node, numpy_fn, signature, args)
    result = result.with_(eager=False)  # NumPy's result is an array even of a TF tensor
    try:
        lowered = _lower_known(lw, node, pattern, numpy_fn, signature, args, result)
        return replace(lowered, fact=lowered.fact.with_(eager=False))
    except Refusal as refusal:
        # The result's dtype is known, so lowering can go on and find out whether these
        # input dtypes are even consistent with the site; the refusal is kept for the caller.
        lw.out.refusals.append(refusal)
        return Lowered(lw.source.segment(node), result)


def _lower_known(lw, node, pattern, numpy_fn, signature, args, result) -> Lowered:
    arrays = pattern.arrays or _default_arrays(numpy_fn, signature)
    _check_supported(node, pattern, signature, args, arrays)
    check_domain(node, pattern, [args[n].fact for n in (*arrays, "self") if args.get(n, OMIT) is not OMIT])
    if pattern.batch is Batch.REDUCE and _axis_of_a_0d_array(args, arrays):
        raise Refusal(node, f"{pattern.numpy} over an axis of a 0-d array: NumPy reduces it to itself, "
                            "tf.reduce_* rejects the axis")
    args = dict(args)
    if pattern.cast is Cast.RESULT and result.kind is Kind.ARRAY:
        for name in arrays:
            if args.get(name, OMIT) is not OMIT:
                args[name] = lw.cast(args[name], result.dtype)
        args = _literal_inputs_as_tensors(args, arrays, result.dtype)
    elif pattern.cast is Cast.COMMON:
        given = [args[n].fact for n in arrays if args.get(n, OMIT) is not OMIT]
        common = _common_dtype(lw, node, given)
        for name in arrays:
            if args.get(name, OMIT) is not OMIT:
                args[name] = lw.cast(args[name], common)
        args = _literal_inputs_as_tensors(args, arrays, common)
    if any(args[n].fact.batched for n in (*arrays, "self") if args.get(n, OMIT) is not OMIT):
        args, result = _batching_rule(lw, node, pattern, args, arrays, result, signature)
    lw.out.patterns.add(pattern.numpy)
    if pattern.lower is not None:
        out = pattern.lower(Call(node, pattern, args, result, lw))
        return out if isinstance(out, Lowered) else Lowered(out, result, True)
    bindings = {name: (value if value is OMIT else value.text) for name, value in args.items()}
    try:
        text = render(pattern.tf, bindings)
    except ValueError as exc:
        raise Refusal(node, f"{pattern.numpy}: {exc}") from None
    return Lowered(text, result, True)


def _axis_of_a_0d_array(args, arrays) -> bool:
    axis = args.get("axis", OMIT)
    if axis is OMIT or (axis.fact.known and axis.fact.value is None):
        return False
    return any(args[n].fact.kind is Kind.ARRAY and args[n].fact.rank == 0 and not args[n].fact.batched
               for n in (*arrays, "self") if args.get(n, OMIT) is not OMIT)


def _batching_rule(lw, node, pattern, args, arrays, result, signature):
    """Lift a call to inputs that carry leading batch axes (the vectorizer's vmap step).

    Axes are rewritten as negative axes, which count from the end and so do not depend on
    how many batch axes lead."""
    names = [n for n in (*arrays, "self") if args.get(n, OMIT) is not OMIT]
    given = [args[n].fact for n in names]
    if pattern.batch in (Batch.ELEMENTWISE, Batch.MATRIX):
        if pattern.batch is Batch.MATRIX and any(f.rank is None or f.rank < 2 for f in given if f.kind is Kind.ARRAY):
            raise Refusal(node, f"{pattern.numpy}: no batching rule for operands below rank 2")
        if any(f.kind not in (Kind.ARRAY, Kind.SCALAR) for f in given):
            raise Refusal(node, f"{pattern.numpy}: no batching rule for these arguments")
        args = dict(args)
        args.update(zip(names, lw.align_batched(node, [args[n] for n in names])))
        return args, result.with_(batched=True)
    if pattern.batch in (Batch.REDUCE, Batch.AXIS):
        element = next(f for f in given if f.kind is Kind.ARRAY)
        if element.rank is None:
            raise Refusal(node, f"{pattern.numpy}: the rank of one element is unknown")
        axis = args.get("axis", OMIT)
        if axis is OMIT:  # NumPy's default axis for this function (None, 0 or -1)
            default = signature.parameters["axis"].default if "axis" in signature.parameters else None
            value = None if default in (inspect.Parameter.empty, np._NoValue) else default
        elif axis.fact.kind is Kind.TUPLE and all(i.known for i in axis.fact.items):
            value = tuple(i.value for i in axis.fact.items)
        else:
            value = axis.fact.value if axis.fact.known else F.UNKNOWN
        if value is F.UNKNOWN or (value is None and pattern.batch is Batch.AXIS):
            raise Refusal(node, f"{pattern.numpy}: no batching rule for this axis")
        axes = range(element.rank) if value is None else (value if isinstance(value, tuple) else (value,))
        negative = [a - element.rank if a >= 0 else a for a in axes]
        args = dict(args)
        if isinstance(value, int):
            args["axis"] = Lowered(str(negative[0]), F.constant(negative[0]), True)
        else:
            args["axis"] = Lowered(f"[{', '.join(map(str, negative))}]",
                                   F.constant(tuple(F.constant(a) for a in negative)), True)
        return args, result.with_(batched=True)
    raise Refusal(node, f"{pattern.numpy} has no batching rule")


def _evaluate(lw, node, numpy_fn, signature, args) -> Fact:
    """NumPy's result for the argument facts (dtype, rank), by running NumPy on stand-ins."""
    bound = signature.bind_partial()
    for name, value in args.items():
        if value is OMIT:
            continue
        if signature.parameters[name].kind is inspect.Parameter.VAR_POSITIONAL:
            bound.arguments[name] = value.fact.items
        else:
            bound.arguments[name] = value.fact
    return lw._numpy_result(node, numpy_fn, tuple(bound.args), dict(bound.kwargs))


def check_domain(node, pattern, facts):
    """Array inputs must have a dtype the pattern is tested on: elsewhere TF may differ."""
    for fact in _flatten(facts):
        if fact.kind is Kind.ARRAY and fact.dtype is not None and fact.dtype.name not in pattern.domain.dtypes:
            raise Refusal(node, f"{pattern.numpy} is not rewritten for {fact.dtype.name} input", "RW206")


def _check_supported(node, pattern, signature, args, arrays):
    handled = pattern.holes() | set(arrays) | {"self"}
    if pattern.cast is Cast.RESULT:
        handled.add("dtype")  # NumPy's result dtype already reflects it; inputs are cast to it
    for name, value in args.items():
        if value is OMIT or name in handled:
            continue
        param = signature.parameters[name]
        default = param.default
        if value.fact.known and default is not inspect.Parameter.empty and default is not np._NoValue:
            try:
                if value.fact.value == default and type(value.fact.value) is type(default):
                    continue
            except Exception:
                pass
        raise Refusal(node, f"{pattern.numpy}: argument `{name}=` is not supported", "RW205")


def _default_arrays(numpy_fn, signature) -> tuple:
    names = list(signature.parameters)
    if isinstance(numpy_fn, np.ufunc):
        return tuple(names[: numpy_fn.nin])
    return tuple(names[:1])


def _common_dtype(lw, node, given):
    fact = lw._numpy_result(node, np.result_type, tuple(_flatten(given)), {})
    return fact.value


def _flatten(given):
    for fact in given:
        if fact.kind is Kind.TUPLE:
            yield from _flatten(fact.items)
        else:
            yield fact


def _literal_inputs_as_tensors(args, arrays, dtype):
    """Python literals among the array inputs: in a graph, TF converts a literal to the dtype
    of a tensor input *before* it (`tf.where(c, y, 255)`), but a literal that comes first gets
    TF's default dtype (`tf.where(c, 255, y)` is int32 against int64 y, and fails). So a
    literal stays bare only when that default is NumPy's dtype, or when a tensor precedes it and
    the conversion is allowed (not 2.5 to an int, nor 2 to a bool); otherwise it becomes a
    tensor of NumPy's dtype."""
    present = [n for n in arrays if args.get(n, OMIT) is not OMIT]
    tensor_before = False
    for name in present:
        fact = args[name].fact
        if fact.kind is not Kind.SCALAR or fact.tensor:
            tensor_before = tensor_before or _holds_tensor(fact)
            continue
        default = _TF_DEFAULT.get(fact.pytype)
        if default == np.dtype(dtype) or (tensor_before and converts_exactly(fact.pytype, np.dtype(dtype))):
            continue
        args[name] = Lowered(literal_tensor(args[name].text, dtype), F.array(dtype, 0), True)
        tensor_before = True
    return args


_TF_DEFAULT = {bool: np.dtype("bool"), int: np.dtype("int32"), float: np.dtype("float32"),
               complex: np.dtype("complex128")}
"""The dtype TF gives a Python literal converted on its own."""


def literal_tensor(text: str, dtype) -> str:
    """A Python literal as a tensor of a NumPy dtype (a bool is whether it is non-zero)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return f"tf.constant(bool({text}))"
    return f"tf.constant({text}, {F.tf_name(dtype)})"


def converts_exactly(pytype, dtype: np.dtype) -> bool:
    """Whether TF's implicit conversion of a Python literal to `dtype` succeeds."""
    allowed = {bool: "b", int: "iufc", float: "fc", complex: "c"}
    return dtype.kind in allowed.get(pytype, "")


def _holds_tensor(fact: Fact) -> bool:
    if fact.kind is Kind.TUPLE:
        return any(_holds_tensor(i) for i in fact.items)
    return fact.kind is Kind.ARRAY or fact.tensor


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
