"""Lowering of calls: NumPy functions and array methods through the pattern registry,
TensorFlow calls kept as they are, Python builtins where their meaning on arrays is clear.

This module decides what a call is (a NumPy function, an array method, a comprehension that
np.array stacks, np.vectorize, TF, a builtin, a user function) and hands it on; applying a
NumPy pattern to the bound arguments is `apply.py`'s job. The walker reaches `lower_call`
through the `handlers` table.
"""
from __future__ import annotations

import builtins

import gast

from . import facts as F
from .apply import bind_and_apply, converts_exactly, literal_tensor, numpy_object
from .facts import Fact, Kind
from .handlers import registers
from .lowered import Lowered, Refusal
from .stacking import stack_rows, stacked_rows
from .vectorize import lower_list_comprehension, lower_reduced_comprehension, lower_vectorize_call, reduced_comprehension

__all__ = ["lower_call", "literal_tensor", "numpy_object"]
"""literal_tensor and numpy_object live in apply.py; pattern modules import them from here."""


@registers("call")
def lower_call(lw, node) -> Lowered:
    if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise Refusal(node, "calls with *args or **kwargs are not rewritten")
    if isinstance(node.func, gast.Call) and lw.resolver.qualname(node.func.func) == "numpy.vectorize":
        args, kwargs = _lower_args(lw, node)
        if kwargs:
            raise Refusal(node, "keyword arguments to a vectorized function are not rewritten")
        lw.out.patterns.add("numpy.vectorize")
        return lower_vectorize_call(lw, node, node.func, args)
    rows = stacked_rows(lw, node)
    if rows is not None:  # a comprehension over rows, or a list a rewritten loop filled
        stacked = lower_list_comprehension(lw, rows) if isinstance(rows, gast.ListComp) \
            else Lowered(rows.id, lw.env[rows.id].value.fact)
        return stack_rows(lw, node, stacked)
    if reduced_comprehension(lw, node):
        return lower_reduced_comprehension(lw, node)
    qualname = lw.resolver.qualname(node.func)
    if qualname and qualname.startswith("numpy."):
        pattern = lw.registry.get(qualname)
        if pattern is None:
            raise Refusal(node, f"`{qualname}` has no TensorFlow lowering yet", "RW201")
        return bind_and_apply(lw, node, pattern, receiver=None)
    if qualname and (qualname == "tensorflow" or qualname.startswith("tensorflow.")):
        return _tensorflow_call(lw, node)
    if isinstance(node.func, gast.Attribute) and not qualname:
        receiver = lw.expr(node.func.value)
        if receiver.fact.kind is Kind.ARRAY:
            return _method_call(lw, node, receiver)
        if receiver.fact.kind is Kind.OTHER and isinstance(receiver.fact.value, str) \
                and receiver.fact.value.startswith("numpy."):
            return _object_method(lw, node, receiver)
        return _opaque_call(lw, node, receiver)
    if lw.resolver.builtin(node.func) is not None:
        return _builtin_call(lw, node)
    if lw.context is not None:
        converted = lw.context.convert_call(lw, node)
        if converted is not None:
            return converted
    if isinstance(node.func, gast.Name) and lw.resolver.function_def(node.func) is not None:
        raise Refusal(node, f"calls `{node.func.id}`, a function of this file that is not converted", "RW202")
    return _opaque_call(lw, node, None)


def _lower_args(lw, node):
    return [lw.expr(a) for a in node.args], {k.arg: lw.expr(k.value) for k in node.keywords}


def _spliced_call(lw, node, receiver, fact) -> Lowered:
    parts = [(a, lw.expr(a)) for a in node.args] + [(k.value, lw.expr(k.value)) for k in node.keywords]
    if receiver is not None:
        parts.insert(0, (node.func.value, receiver))
    return lw._splice(node, parts, fact)


def _opaque_call(lw, node, receiver) -> Lowered:
    """A call we know nothing about: fine as long as no array flows into it."""
    args, kwargs = _lower_args(lw, node)
    if any(v.fact.kind is Kind.ARRAY for v in [*args, *kwargs.values()]) or (
        receiver is not None and receiver.fact.kind is Kind.ARRAY
    ):
        raise Refusal(node, f"`{lw.source.segment(node.func)}` is not NumPy: an array passed to it "
                            "would leave the graph", "RW203")
    return _spliced_call(lw, node, receiver, F.OTHER)


def _object_method(lw, node, receiver) -> Lowered:
    """A method of a NumPy object that is not an array (`rng.normal(...)` on a Generator):
    its pattern is named after the object's type, e.g. `numpy.random.Generator.normal`."""
    name = f"{receiver.fact.value}.{node.func.attr}"
    pattern = lw.registry.get(name)
    if pattern is None:
        raise Refusal(node, f"`{name}` has no TensorFlow lowering yet", "RW201")
    return bind_and_apply(lw, node, pattern, receiver=receiver)


def _tensorflow_call(lw, node) -> Lowered:
    """Already TensorFlow: keep it; its result is a tensor of a dtype we do not track."""
    lowered = _spliced_call(lw, node, None, Fact(Kind.ARRAY, fresh=True))
    args, kwargs = _lower_args(lw, node)
    if any(v.fact.batched for v in [*args, *kwargs.values()]):
        raise Refusal(node, "a TensorFlow call inside a vectorized body has no batching rule here")
    return lowered


def _builtin_call(lw, node) -> Lowered:
    name = node.func.id
    args, kwargs = _lower_args(lw, node)
    arrays = [a for a in args if a.fact.kind is Kind.ARRAY]
    if name == "len" and len(args) == 1 and arrays:
        return Lowered(f"tf.shape({args[0].text})[0]", F.shape_value(), True)
    if name == "abs" and len(args) == 1 and arrays:
        return bind_and_apply(lw, node, lw.registry.get("numpy.absolute") or _missing(node, "numpy.absolute"),
                              receiver=None)
    if name == "range" and not arrays:
        # Over a tensor bound (a shape), AutoGraph turns the loop into a tf.range loop.
        fact = Fact(Kind.OTHER, value="range", tensor=any(a.fact.tensor for a in args))
        return _spliced_call(lw, node, None, fact)
    if name == "reversed" and len(args) == 1 and args[0].fact.kind is Kind.OTHER and args[0].fact.value == "range":
        inner = node.args[0]
        if not args[0].fact.tensor:
            return _spliced_call(lw, node, None, args[0].fact)
        if len(inner.args) != 1 or inner.keywords:
            raise Refusal(node, "reversed() of a range with a start or step over a tensor is not rewritten")
        # AutoGraph does not convert reversed(); counting down with tf.range is the same loop.
        bound = lw.expr(inner.args[0]).text
        return Lowered(f"tf.range({bound} - 1, -1, -1)", args[0].fact, True)
    if name in ("float", "int", "bool") and len(args) == 1 and not kwargs and arrays and args[0].fact.rank == 0 \
            and args[0].fact.dtype is not None and args[0].fact.dtype.kind != "c" and not args[0].fact.batched:
        # A 0-d array made a Python number: a scalar tensor that keeps Python's weak dtype
        # in later arithmetic (int() truncates toward zero, as tf.cast does).
        target = {"float": "tf.float64", "int": "tf.int64", "bool": "tf.bool"}[name]
        pytype = {"float": float, "int": int, "bool": bool}[name]
        return Lowered(f"tf.cast({args[0].text}, {target})",
                       Fact(Kind.SCALAR, pytype=pytype, tensor=True, dtype=F.as_dtype(pytype)), True)
    zero_d = [a for a in args if a.fact.kind is Kind.ARRAY and a.fact.rank == 0 and a.fact.dtype is not None
              and a.fact.dtype.kind in "fiu" and not a.fact.batched]
    if name in ("max", "min") and len(args) == 2 and not kwargs and len(zero_d) == 1 and \
            any(a.fact.kind is Kind.SCALAR and not a.fact.tensor and a.fact.known for a in args):
        # max(x.std(), 1e-8): Python picks one of the two as is; both behave alike in NumPy's
        # later arithmetic, so the larger in the array's dtype stands for either.
        (array,) = zero_d
        other = next(a for a in args if a is not array)
        if not converts_exactly(other.fact.pytype, array.fact.dtype):
            raise Refusal(node, f"builtin `{name}` of an integer array and a float is not rewritten", "RW204")
        if other.fact.pytype is int and array.fact.dtype.kind in "fc":
            # `max(x.max(), 0)` returns the int 0 itself when it wins: an int where a float is
            # expected (np.array of such values, apply_along_axis outputs) changes the dtype
            raise Refusal(node, f"builtin `{name}` of a float and an int literal is not rewritten: write "
                                f"`{name}(..., 0.0)`", "RW204")
        # Python keeps the first argument unless the second is strictly larger (smaller), so a
        # NaN second argument never wins and a NaN first one always stays.
        first, second = (a.text if a is array else literal_tensor(a.text, array.fact.dtype) for a in args)
        compare = ">" if name == "max" else "<"
        return Lowered(f"tf.where({second} {compare} {first}, {second}, {first})", array.fact.with_(fresh=True), True)
    scalars = all(a.fact.kind is Kind.SCALAR for a in args)
    if name in ("max", "min") and len(args) == 2 and not kwargs and scalars and any(a.fact.tensor for a in args):
        # Python numbers held as tensors (counts, shape values): Python's max of two numbers.
        pytype = float if float in (args[0].fact.pytype, args[1].fact.pytype) else int
        left, right = (_as_python_number(a, pytype) for a in args)
        op = "tf.maximum" if name == "max" else "tf.minimum"
        dtype = F.as_dtype(float) if pytype is float else next(a.fact.dtype for a in args if a.fact.tensor)
        return Lowered(f"{op}({left}, {right})", Fact(Kind.SCALAR, pytype=pytype, tensor=True, dtype=dtype), True)
    if arrays or any(a.fact.tensor for a in args):
        raise Refusal(node, f"builtin `{name}` on an array is not rewritten", "RW204")
    if name in ("int", "float", "bool", "complex") and len(args) == 1:
        fact = Fact(Kind.SCALAR, pytype=getattr(builtins, name))
        if args[0].fact.known:
            try:
                fact = F.constant(getattr(builtins, name)(args[0].fact.value))
            except (TypeError, ValueError):
                pass
        return _spliced_call(lw, node, None, fact)
    return _spliced_call(lw, node, None, F.OTHER)


def _as_python_number(value, pytype) -> str:
    """A scalar operand of a Python-number operation, in the dtype that number would have."""
    if value.fact.tensor and value.fact.pytype is int and pytype is float:
        return f"tf.cast({value.text}, tf.float64)"
    return value.text


def _missing(node, name):
    raise Refusal(node, f"`{name}` has no TensorFlow lowering yet", "RW201")


def _method_call(lw, node, receiver) -> Lowered:
    attr = node.func.attr
    if attr == "numpy" and not node.args and not node.keywords:
        # `.numpy()` on a tensor (py_function bodies): the tensor itself is the value.
        return Lowered(receiver.text, receiver.fact, True)
    pattern = lw.registry.get(f"ndarray.{attr}")
    if pattern is None:
        raise Refusal(node, f"array method `.{attr}()` has no TensorFlow lowering yet", "RW201")
    return bind_and_apply(lw, node, pattern, receiver=receiver)
