"""Lowering of Python builtins called in a wrapped body (`len(x)`, `max(h, w)`, `int(x.sum())`):
each is rewritten where it means the same on the tensor the rewrite holds, and refused where it
does not. `calls.py` hands every call of a builtin here.
"""
from __future__ import annotations

import builtins

from . import facts as F
from .apply import bind_and_apply, converts_exactly, literal_tensor
from .facts import Fact, Kind
from .lowered import Lowered, Refusal


def lower_builtin(lw, node) -> Lowered:
    name = node.func.id
    args = [lw.expr(a) for a in node.args]
    kwargs = {k.arg: lw.expr(k.value) for k in node.keywords}
    arrays = [a for a in args if a.fact.kind is Kind.ARRAY]
    if name == "len" and len(args) == 1 and arrays:
        return Lowered(f"tf.shape({args[0].text})[0]", F.shape_value(), True)
    if name == "abs" and len(args) == 1 and arrays:
        return bind_and_apply(lw, node, lw.registry.get("numpy.absolute") or _missing(node, "numpy.absolute"),
                              receiver=None)
    if name == "range" and not arrays:
        # Over a tensor bound (a shape), AutoGraph turns the loop into a tf.range loop.
        fact = Fact(Kind.OTHER, value="range", tensor=any(a.fact.tensor for a in args))
        return _spliced(lw, node, fact)
    if name == "reversed" and len(args) == 1 and args[0].fact.kind is Kind.OTHER and args[0].fact.value == "range":
        inner = node.args[0]
        if not args[0].fact.tensor:
            return _spliced(lw, node, args[0].fact)
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
        return _spliced(lw, node, fact)
    return _spliced(lw, node, F.OTHER)


def _as_python_number(value, pytype) -> str:
    """A scalar operand of a Python-number operation, in the dtype that number would have."""
    if value.fact.tensor and value.fact.pytype is int and pytype is float:
        return f"tf.cast({value.text}, tf.float64)"
    return value.text


def _missing(node, name):
    raise Refusal(node, f"`{name}` has no TensorFlow lowering yet", "RW201")


def _spliced(lw, node, fact) -> Lowered:
    """The call as written, with its arguments lowered."""
    parts = [(a, lw.expr(a)) for a in node.args] + [(k.value, lw.expr(k.value)) for k in node.keywords]
    return lw._splice(node, parts, fact)
