"""Lowering of Python builtins called in a wrapped body (`len(x)`, `max(x.shape)`, `sum(row)`,
`round(x.mean())`, `int(x.sum())`): each is rewritten where it means the same on the tensor the
rewrite holds, and refused where it does not. `calls.py` hands every call of a builtin here.

Python's builtins see an array one row at a time and a NumPy scalar as a Python-like number:
`max(a)` keeps the first row unless a later one is strictly larger, `sum(a)` adds the rows to
the int 0, `round(np.float32(x))` is a Python int. The TF each one gets says the same.
"""
from __future__ import annotations

import builtins

import gast
import numpy as np

from . import facts as F
from . import helper_source
from .apply import bind_and_apply, converts_exactly, literal_tensor
from .facts import Fact, Kind
from .lowered import Inconsistent, Lowered, Refusal


def lower_builtin(lw, node) -> Lowered:
    name = node.func.id
    args = [lw.expr(a) for a in node.args]
    kwargs = {k.arg: lw.expr(k.value) for k in node.keywords}
    lowering = _LOWERINGS.get(name)
    lowered = lowering(lw, node, args, kwargs) if lowering is not None else None
    if lowered is not None:
        return lowered
    if any(_holds_tensor(a) for a in (*args, *kwargs.values())):
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


def _holds_tensor(value) -> bool:
    return value.fact.kind is Kind.ARRAY or value.fact.tensor


def _spliced(lw, node, fact) -> Lowered:
    """The call as written, with its arguments lowered."""
    parts = [(a, lw.expr(a)) for a in node.args] + [(k.value, lw.expr(k.value)) for k in node.keywords]
    return lw._splice(node, parts, fact)


# -- sizes and ranges ------------------------------------------------------------------------

def _len(lw, node, args, kwargs):
    if len(args) == 1 and args[0].fact.kind is Kind.ARRAY:
        return Lowered(f"tf.shape({args[0].text})[0]", F.shape_value(), True)
    if len(args) == 1 and args[0].fact.kind is Kind.SHAPE and args[0].fact.rank is not None:
        rank = args[0].fact.rank  # len(x.shape) is the rank, known when the rewrite is made
        return Lowered(str(rank), F.constant(rank), True)
    return None


def _range(lw, node, args, kwargs):
    if any(a.fact.kind is Kind.ARRAY for a in args):
        return None
    # Over a tensor bound (a shape), AutoGraph turns the loop into a tf.range loop.
    fact = Fact(Kind.OTHER, value="range", tensor=any(a.fact.tensor for a in args))
    return _spliced(lw, node, fact)


def _reversed(lw, node, args, kwargs):
    if len(args) != 1 or args[0].fact.kind is not Kind.OTHER or args[0].fact.value != "range":
        return None
    inner = node.args[0]
    if not args[0].fact.tensor:
        return _spliced(lw, node, args[0].fact)
    if len(inner.args) != 1 or inner.keywords:
        raise Refusal(node, "reversed() of a range with a start or step over a tensor is not rewritten")
    # AutoGraph does not convert reversed(); counting down with tf.range is the same loop.
    bound = lw.expr(inner.args[0]).text
    return Lowered(f"tf.range({bound} - 1, -1, -1)", args[0].fact, True)


# -- numbers ---------------------------------------------------------------------------------

def _python_number(lw, node, args, kwargs):
    """int(), float(), bool() of a 0-d array or of a Python number held as a tensor: a scalar
    tensor that keeps Python's weak dtype in later arithmetic (int() truncates toward zero, as
    tf.cast does)."""
    name = node.func.id
    if len(args) != 1 or kwargs:
        return None
    value = args[0]
    if value.fact.kind not in (Kind.ARRAY, Kind.SCALAR):
        return None
    if value.fact.kind is Kind.ARRAY and not (value.fact.rank == 0 and value.fact.dtype is not None
                                              and value.fact.dtype.kind != "c" and not value.fact.batched):
        return None
    if value.fact.kind is Kind.SCALAR and not (value.fact.tensor and value.fact.dtype is not None):
        return None
    pytype = getattr(builtins, name)
    target = F.as_dtype(pytype)
    fact = Fact(Kind.SCALAR, pytype=pytype, tensor=True, dtype=target)
    # the call goes, whatever its argument: float() of a tensor in a graph raises
    if value.fact.kind is Kind.SCALAR and value.fact.pytype is pytype:
        return Lowered(value.text, value.fact, True)
    if value.fact.dtype == target:  # float() of a float64 scalar: the same tensor
        return Lowered(value.text, fact, True)
    return Lowered(f"tf.cast({value.text}, {F.tf_name(target)})", fact, True)


def _abs(lw, node, args, kwargs):
    if len(args) == 1 and not kwargs and args[0].fact.kind is Kind.ARRAY and args[0].fact.eager:
        return lw.tf_operator(node, "absolute", args[0])  # abs() of a TF tensor is tf.abs
    if len(args) == 1 and not kwargs and args[0].fact.kind is Kind.ARRAY:
        return bind_and_apply(lw, node, _pattern(lw, node, "numpy.absolute"), receiver=None)
    if len(args) == 1 and not kwargs and args[0].fact.kind is Kind.SCALAR and args[0].fact.tensor \
            and args[0].fact.pytype in (int, float):
        return Lowered(f"tf.abs({args[0].text})", args[0].fact, True)
    return None


def _round(lw, node, args, kwargs):
    """round(x) of a NumPy scalar or a Python float is a Python int, rounded half to even as
    tf.round rounds (the helper raises on NaN and infinity, as round() does); round(x, n) of a
    NumPy scalar is np.round(x, n) in x's dtype."""
    if kwargs or not 1 <= len(args) <= 2 or not _holds_tensor(args[0]):
        return None
    value, fact = args[0], args[0].fact
    if fact.kind is Kind.ARRAY:
        if fact.batched or fact.rank is None or fact.dtype is None:
            raise Refusal(node, "round() of an array of unknown rank or dtype is not rewritten", "RW204")
        if fact.rank > 0 or fact.dtype.kind not in "fiu":
            raise Inconsistent(f"round() of a {fact.rank}-d {fact.dtype} array raises TypeError")
        if len(args) == 2:
            return bind_and_apply(lw, node, _pattern(lw, node, "numpy.round"), receiver=None)
        if fact.dtype.kind in "iu":
            return Lowered(f"tf.cast({value.text}, tf.int64)", _int_tensor(), True)
        return Lowered(helper_source.call("py_round", value.text), _int_tensor(), True)
    if len(args) == 2:
        raise Refusal(node, "round(x, n) of a Python number rounds its exact decimal value, which "
                            "TensorFlow has no op for (np.round(x, n), which rounds x * 10**n, is rewritten)",
                      "RW204")
    if fact.pytype is int:
        return Lowered(value.text, fact, True)  # round() of a tensor raises: the call goes
    if fact.pytype is float:
        return Lowered(helper_source.call("py_round", value.text), _int_tensor(), True)
    return None


def _int_tensor() -> Fact:
    """A Python int the rewrite holds as an int64 tensor."""
    return Fact(Kind.SCALAR, pytype=int, tensor=True, dtype=np.dtype("int64"))


def _pow(lw, node, args, kwargs):
    if len(args) == 2 and not kwargs and any(_holds_tensor(a) for a in args):
        return lw.binop(node, gast.Pow(), *args)  # pow(a, b) is a ** b
    if len(args) == 3 and any(_holds_tensor(a) for a in args):
        raise Refusal(node, "pow() with a modulus is not rewritten", "RW204")
    return None


def _pattern(lw, node, name):
    pattern = lw.registry.get(name)
    if pattern is None:
        raise Refusal(node, f"`{name}` has no TensorFlow lowering yet", "RW201")
    return pattern


# -- max, min and sum ------------------------------------------------------------------------

def _max_min(lw, node, args, kwargs):
    name = node.func.id
    if kwargs and any(_holds_tensor(a) for a in args):
        raise Refusal(node, f"`{name}()` with `{'=`, `'.join(kwargs)}=` on an array is not rewritten", "RW204")
    if len(args) == 1:
        return _extreme_of_rows(node, name, args[0])
    if len(args) == 2:
        return _extreme_of_two(node, name, args)
    return None


def _extreme_of_rows(node, name, value):
    """max(a.shape), max(a) of a 1-D array: Python iterates and compares."""
    fact = value.fact
    if fact.kind is Kind.SHAPE:
        if fact.rank is None:
            raise Refusal(node, f"`{name}()` of a shape of unknown length is not rewritten", "RW204")
        if fact.rank == 0:
            raise Inconsistent(f"{name}() of an empty shape raises ValueError")
        return Lowered(f"tf.reduce_{name}({value.text})", F.shape_value(), True)
    if fact.kind is not Kind.ARRAY:
        return None
    _check_iterable(node, name, fact)
    if fact.rank > 1:
        raise Refusal(node, f"`{name}()` of an array of rank {fact.rank} compares whole rows, which "
                            "raises unless there is one row: not rewritten", "RW204")
    if fact.dtype.kind not in "biuf":
        raise Refusal(node, f"`{name}()` of a {fact.dtype} array is not rewritten", "RW204")
    # Python keeps the first element unless a later one is strictly larger (smaller): the
    # helper says so for NaNs, and raises on an empty array as max() of nothing does.
    return Lowered(helper_source.call(f"py_{name}", value.text), fact.with_(rank=0, fresh=True), True)


def _check_iterable(node, name, fact):
    if fact.batched or fact.rank is None or fact.dtype is None:
        raise Refusal(node, f"`{name}()` of an array of unknown rank or dtype is not rewritten", "RW204")
    if fact.rank == 0:
        raise Inconsistent(f"{name}() of a 0-d array raises TypeError (it cannot be iterated)")


def _extreme_of_two(node, name, args):
    zero_d = [a for a in args if a.fact.kind is Kind.ARRAY and a.fact.rank == 0 and a.fact.dtype is not None
              and a.fact.dtype.kind in "fiu" and not a.fact.batched]
    if len(zero_d) == 1 and any(a.fact.kind is Kind.SCALAR and not a.fact.tensor and a.fact.known for a in args):
        return _extreme_with_literal(node, name, args, zero_d[0])
    if all(a.fact.kind is Kind.SCALAR and a.fact.pytype in (int, float) for a in args) \
            and any(a.fact.tensor for a in args):
        return _extreme_of_numbers(name, args)
    return None


def _extreme_with_literal(node, name, args, array):
    """max(x.std(), 1e-8): Python picks one of the two as is; both behave alike in NumPy's
    later arithmetic, so the larger in the array's dtype stands for either."""
    other = next(a for a in args if a is not array)
    if not converts_exactly(other.fact.pytype, array.fact.dtype):
        raise Refusal(node, f"builtin `{name}` of an integer array and a float is not rewritten", "RW204")
    if other.fact.pytype is int and array.fact.dtype.kind in "fc":
        # `max(x.max(), 0)` returns the int 0 itself when it wins: an int where a float is
        # expected (np.array of such values, apply_along_axis outputs) changes the dtype
        raise Refusal(node, f"builtin `{name}` of a float and an int literal is not rewritten: write "
                            f"`{name}(..., 0.0)`", "RW204")
    if _plain_extreme(args):
        text = f"tf.{_OPS[name]}({array.text}, {other.text})"
    else:
        first, second = (a.text if a is array else literal_tensor(a.text, array.fact.dtype) for a in args)
        text = _first_unless_beaten(name, first, second)
    return Lowered(text, array.fact.with_(fresh=True), True)


_OPS = {"max": "maximum", "min": "minimum"}


def _plain_extreme(args) -> bool:
    """Whether tf.maximum (tf.minimum) of the two is Python's max (min): so when the first is a
    tensor and the second a literal other than 0 (a NaN first argument stays, as NaN
    propagates in TF; Python's choice between 0.0 and -0.0 would not)."""
    first, second = (a.fact for a in args)
    literal = second.kind is Kind.SCALAR and not second.tensor and second.known
    return (first.kind is Kind.ARRAY or first.tensor) and literal and second.value != 0 \
        and second.value == second.value


def _first_unless_beaten(name, first, second) -> str:
    """Python keeps the first argument unless the second is strictly larger (smaller), so a
    NaN second argument never wins and a NaN first one always stays."""
    compare = ">" if name == "max" else "<"
    return f"tf.where({second} {compare} {first}, {second}, {first})"


def _extreme_of_numbers(name, args):
    """max(h, w) of Python numbers held as tensors (counts, shape values)."""
    pytype = float if float in (args[0].fact.pytype, args[1].fact.pytype) else int
    if pytype is float:
        fact = Fact(Kind.SCALAR, pytype=float, tensor=True, dtype=F.as_dtype(float))
        if _plain_extreme(args):
            return Lowered(f"tf.{_OPS[name]}({_as_python_number(args[0], float)}, {args[1].text})", fact, True)
        first, second = (_as_python_number(a, pytype) for a in args)
        return Lowered(_first_unless_beaten(name, first, second), fact, True)
    first, second = (a.text for a in args)
    dtypes = {a.fact.dtype for a in args if a.fact.tensor}
    dtype = dtypes.pop() if len(dtypes) == 1 else np.dtype("int64")
    if dtypes:  # a shape value (int32) meets an int() (int64): both as int64
        first, second = (f"tf.cast({text}, tf.int64)" for text in (first, second))
    return Lowered(f"tf.{_OPS[name]}({first}, {second})", Fact(Kind.SCALAR, pytype=int, tensor=True, dtype=dtype),
                   True)


def _as_python_number(value, pytype) -> str:
    """A scalar operand of a Python-number operation, in the dtype that number would have."""
    if value.fact.tensor and value.fact.pytype is int and pytype is float:
        return f"tf.cast({value.text}, tf.float64)"
    if not value.fact.tensor and pytype is float:
        return literal_tensor(value.text, np.float64)
    return value.text


def _sum(lw, node, args, kwargs):
    """sum(a.shape), sum(a) of a 1-D array: the int 0 plus each element in turn, so the dtype is
    NumPy's for `0 + element` (a bool array counts in int64)."""
    if len(args) != 1 or kwargs or not _holds_tensor(args[0]):
        if any(_holds_tensor(a) for a in (*args, *kwargs.values())):
            raise Refusal(node, "`sum()` with a start value on an array is not rewritten", "RW204")
        return None
    value, fact = args[0], args[0].fact
    if fact.kind is Kind.SHAPE:
        return Lowered(f"tf.reduce_sum({value.text})", F.shape_value(), True)
    if fact.kind is not Kind.ARRAY:
        return None
    _check_iterable(node, "sum", fact)
    if fact.rank > 1:
        # with no rows, sum() is the int 0, not zeros shaped like a row
        raise Refusal(node, f"`sum()` of an array of rank {fact.rank} is not rewritten: write "
                            "`np.sum(a, axis=0)`", "RW204")
    element = fact.with_(rank=0)
    total = F.evaluate_numpy(np.add, (F.constant(0), element), {})
    step = F.evaluate_numpy(np.add, (total, element), {}) if total is not None else None
    if step is None or step.dtype != total.dtype:
        raise Refusal(node, f"`sum()` of a {fact.dtype} array changes dtype as it adds: not rewritten", "RW204")
    text = value.text if total.dtype == fact.dtype else f"tf.cast({value.text}, {F.tf_name(total.dtype)})"
    return Lowered(f"tf.reduce_sum({text})", total.with_(fresh=True), True)


# -- type checks ---------------------------------------------------------------------------

SHARED_ATTRIBUTES = ("shape", "dtype", "ndim")
"""Attributes that NumPy arrays, NumPy scalars and TF tensors all have."""


def _type_check(lw, node, args, kwargs):
    """hasattr(x, "numpy"), isinstance(x, tf.Tensor), callable(x) of an array: answered when
    the rewrite is made, from what the original holds (a py_function's input is an
    EagerTensor, a numpy_function's a NumPy array); the walker then keeps only the branch the
    original takes."""
    name = node.func.id
    if kwargs or not args or args[0].fact.kind is not Kind.ARRAY:
        return None
    if lw.loop_depth or _in_a_loop(lw, node):  # an iteration may change what x holds
        raise Refusal(node, f"`{name}()` of an array inside a loop is not rewritten", "RW204")
    answer = _type_answer(lw, node, name, args)
    if answer is None:
        raise Refusal(node, f"`{lw.source.segment(node)}`: cannot tell here whether the value is a TF tensor "
                            "or a NumPy array", "RW204")
    return Lowered(str(answer), F.constant(answer), True)


def _in_a_loop(lw, node) -> bool:
    """Whether `node` is inside a loop of the function (loops the vectorizer rewrites as a
    whole lower their bodies without counting as a loop)."""
    while node is not None and node is not lw.fn:
        node = lw.resolver.parents.get(node)
        if isinstance(node, (gast.For, gast.While, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)):
            return True
    return False


def _type_answer(lw, node, name, args):
    eager = args[0].fact.eager
    if name == "callable":
        return False if len(args) == 1 else None
    if len(args) != 2:
        return None
    if name == "hasattr":
        attribute = args[1].fact.value if args[1].fact.known else None
        if attribute in SHARED_ATTRIBUTES:
            return True
        return eager if attribute == "numpy" else None
    classes = node.args[1].elts if isinstance(node.args[1], gast.Tuple) else [node.args[1]]
    answers = [_is_instance(eager, args[0].fact.rank, lw.resolver.qualname(c)) for c in classes]
    if eager is False and {"numpy.ndarray", "numpy.generic"} <= {lw.resolver.qualname(c) for c in classes}:
        return True  # a NumPy value is one or the other
    if True in answers:
        return True
    return False if all(a is False for a in answers) else None


def _is_instance(eager, rank, qualname):
    """isinstance(x, the class named) for x an EagerTensor (eager) or a NumPy value, or None.
    A NumPy value of rank 1 or more is an ndarray (NumPy scalars are 0-d); a 0-d one may be
    either."""
    if eager is None:
        return None
    if qualname == "tensorflow.Tensor":
        return eager
    if qualname in ("numpy.ndarray", "numpy.generic"):
        if eager:
            return False
        return (qualname == "numpy.ndarray") if rank else None
    if qualname == "tensorflow.Variable":
        return False
    return None


_LOWERINGS = {
    "len": _len, "range": _range, "reversed": _reversed,
    "int": _python_number, "float": _python_number, "bool": _python_number,
    "abs": _abs, "round": _round, "pow": _pow,
    "max": _max_min, "min": _max_min, "sum": _sum,
    "hasattr": _type_check, "isinstance": _type_check, "callable": _type_check,
}
"""Builtin name -> (lowering, call node, lowered args, lowered kwargs) -> Lowered, or None when
the call is not one it rewrites (then it stays Python, or is refused if a tensor flows in)."""
