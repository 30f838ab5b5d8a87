"""Result facts of the TensorFlow calls people leave inside wrapped bodies, and of Python
operators on their results.

A TF call in a `tf.numpy_function` / `tf.py_function` body returns an EagerTensor. The rewrite
keeps the call as it is, so what the NumPy code after it needs is the result's dtype and rank:
`TF_CALLS` states them for the ops people use there (tests/test_tf_results.py checks every row
against TF itself). TensorFlow is never imported here. A call not in the table gives None: its
dtype and rank stay unknown, and NumPy code that needs them is refused.

Results are marked `eager`: in the original they are TF tensors, so Python operators on them
follow TF's rules (`operator_result`): the other operand is converted to the tensor's dtype,
nothing is promoted, and mixing two tensor dtypes raises.

An argument that is a NumPy array in the original (not `eager`) is a tensor of the same dtype
in the rewrite. Where TF treats the array differently from that tensor (`tf.signal.rfft` casts
a float64 array to float32, `tf.reduce_any` casts any array to bool), the row says so and the
call is refused for those dtypes (`Diverges`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .facts import Fact, Kind

_ALL = frozenset(np.dtype(d) for d in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64", "complex64", "complex128"))
_COMPLEX = frozenset(d for d in _ALL if d.kind == "c")
_FLOAT = frozenset(d for d in _ALL if d.kind == "f")
_NUMERIC = _ALL - {np.dtype(bool)}
_REAL = _NUMERIC - _COMPLEX
_SIGNED = _NUMERIC - {np.dtype("uint8")}
_INEXACT = _FLOAT | _COMPLEX
_MATMUL = _INEXACT | {np.dtype("int32"), np.dtype("int64")}
_BITWISE = _ALL - _INEXACT
_REAL_OF = {np.dtype("complex64"): np.dtype("float32"), np.dtype("complex128"): np.dtype("float64")}
_COMPLEX_OF = {np.dtype("float32"): np.dtype("complex64"), np.dtype("float64"): np.dtype("complex128")}


class TFRejects(Exception):
    """TF raises on these arguments in the original: the assumed input dtypes are wrong."""


class Diverges(Exception):
    """TF treats the original's NumPy array otherwise than the tensor the rewrite passes."""


class _NoClaim(Exception):
    """The table does not know the result for these arguments."""


def _same(dtype):
    return dtype


def _to_real(dtype):
    return _REAL_OF.get(dtype, dtype)


@dataclass(frozen=True)
class Op:
    """One TF callable: its parameters (as TF names them), the dtypes it accepts for its first
    argument and the result's dtype, and how the result's rank follows."""

    params: tuple
    dtypes: frozenset
    dtype: Callable = _same
    rank: str = "same"          # same | reduce (axis, keepdims) | plus_one | one | max (broadcast)
    arrays: str = "same"        # how TF converts a NumPy array: same | bool | float32 | complex64 | rejects
    packs: bool = False          # the first argument is a list of arrays (tf.concat, tf.stack)
    numbers: tuple = ()          # parameters TF converts to the first argument's dtype
    strict: bool = True          # TF raises on every dtype outside `dtypes` (else: unknown)
    min_rank: int = 0            # TF raises on tensors of lower rank


def _unary(dtypes, dtype=_same, **kw):
    return Op(("x",), dtypes, dtype, **kw)


def _reduction(dtypes, dtype=_same, **kw):
    return Op(("input_tensor", "axis", "keepdims"), dtypes, dtype, rank="reduce", **kw)


def _keras_reduction(dtypes, dtype=_same, **kw):
    return Op(("x", "axis", "keepdims"), dtypes, dtype, rank="reduce", **kw)


def _binary(dtypes, dtype=_same):
    return Op(("x", "y"), dtypes, dtype, rank="max")


def _truediv(dtype):
    """TF's `/`: integers become float32 (8 and 16 bits) or float64 (32 and 64 bits)."""
    if dtype.kind in "iu":
        return np.dtype("float32") if dtype.itemsize <= 2 else np.dtype("float64")
    return dtype


_ELEMENTWISE = {name: _unary(_INEXACT) for name in (
    "sqrt", "rsqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "sigmoid")}

TF_CALLS = {
    **{f"math.{name}": op for name, op in _ELEMENTWISE.items()},
    "sqrt": _ELEMENTWISE["sqrt"], "exp": _ELEMENTWISE["exp"], "sin": _ELEMENTWISE["sin"],
    "cos": _ELEMENTWISE["cos"], "tanh": _ELEMENTWISE["tanh"], "sigmoid": _ELEMENTWISE["sigmoid"],
    "nn.sigmoid": _ELEMENTWISE["sigmoid"],
    "abs": _unary(_SIGNED, _to_real), "math.abs": _unary(_SIGNED, _to_real),
    "negative": _unary(_SIGNED), "math.negative": _unary(_SIGNED),
    "square": _unary(_NUMERIC), "math.square": _unary(_NUMERIC),
    "sign": _unary(_SIGNED), "math.sign": _unary(_SIGNED),
    "floor": _unary(_FLOAT), "math.floor": _unary(_FLOAT), "math.ceil": _unary(_FLOAT),
    "round": _unary(_REAL), "math.round": _unary(_REAL),
    "nn.relu": _unary(_REAL), "nn.softmax": Op(("logits", "axis"), _FLOAT, min_rank=1),
    "identity": Op(("input",), _ALL), "ones_like": Op(("input",), _ALL), "zeros_like": Op(("input",), _ALL),
    "convert_to_tensor": Op(("value",), _ALL), "transpose": Op(("a",), _ALL),
    "shape": Op(("input",), _ALL, lambda _: np.dtype("int32"), rank="one"),
    "cast": Op(("x", "dtype"), _ALL, rank="same"),
    "add": _binary(_NUMERIC), "math.add": _binary(_NUMERIC),
    "subtract": _binary(_NUMERIC), "math.subtract": _binary(_NUMERIC),
    "multiply": _binary(_NUMERIC), "math.multiply": _binary(_NUMERIC),
    "divide": _binary(_NUMERIC, _truediv), "math.divide": _binary(_NUMERIC, _truediv),
    "maximum": _binary(_REAL), "math.maximum": _binary(_REAL),
    "minimum": _binary(_REAL), "math.minimum": _binary(_REAL),
    "pow": _binary(_SIGNED), "math.pow": _binary(_SIGNED),
    # batched matmul takes more integer dtypes than matmul of matrices
    "matmul": Op(("a", "b", "transpose_a", "transpose_b"), _MATMUL, rank="max", strict=False),
    "linalg.matmul": Op(("a", "b", "transpose_a", "transpose_b"), _MATMUL, rank="max", strict=False),
    "clip_by_value": Op(("t", "clip_value_min", "clip_value_max"), _REAL,
                        numbers=("clip_value_min", "clip_value_max")),
    "concat": Op(("values", "axis"), _ALL, packs=True),
    "stack": Op(("values", "axis"), _ALL, rank="plus_one", packs=True),
    "signal.stft": Op(("signals", "frame_length", "frame_step", "fft_length"), frozenset(_COMPLEX_OF),
                      _COMPLEX_OF.get, rank="plus_one", min_rank=1),
    "signal.rfft": Op(("input_tensor", "fft_length"), frozenset(_COMPLEX_OF), _COMPLEX_OF.get,
                      arrays="float32", min_rank=1),
    "signal.fft": Op(("input",), _COMPLEX, arrays="complex64", min_rank=1),
    "signal.irfft": Op(("input_tensor", "fft_length"), _COMPLEX, _to_real, arrays="complex64", min_rank=1),
    **{f"{space}{name}": _reduction(dtypes, **kw) for space in ("", "math.") for name, dtypes, kw in (
        ("reduce_sum", _NUMERIC, {}), ("reduce_mean", _NUMERIC, {}), ("reduce_prod", _NUMERIC, {}),
        ("reduce_max", _REAL, {}), ("reduce_min", _REAL, {}), ("reduce_logsumexp", _FLOAT, {}),
        ("reduce_any", frozenset({np.dtype(bool)}), {"arrays": "bool"}),
        ("reduce_all", frozenset({np.dtype(bool)}), {"arrays": "bool"}))},
    "keras.backend.sum": _keras_reduction(_NUMERIC), "keras.backend.max": _keras_reduction(_REAL),
    "keras.backend.min": _keras_reduction(_REAL),
    # K.mean reads `x.dtype.base_dtype`, which a NumPy array has not; bool is averaged as float32
    "keras.backend.mean": _keras_reduction(
        _ALL, lambda d: np.dtype("float32") if d.kind == "b" else d, arrays="rejects"),
    "keras.backend.flatten": _unary(_ALL, rank="one"),
    "keras.backend.square": _unary(_NUMERIC), "keras.backend.abs": _unary(_SIGNED, _to_real),
    "keras.backend.sqrt": _unary(_FLOAT), "keras.backend.log": _unary(_INEXACT),
    "keras.backend.exp": _unary(_INEXACT),
    "keras.backend.clip": Op(("x", "min_value", "max_value"), _REAL, numbers=("min_value", "max_value")),
}
"""TF callables by name under `tensorflow.` (`tensorflow.keras.backend` and Keras 2's
`keras.backend` both as `keras.backend.`)."""

EPSILON = "keras.backend.epsilon"
"""K.epsilon(): a Python float (1e-7 unless the program sets another)."""


def table_name(qualname: str) -> str | None:
    """The table's name for a resolved dotted name, or None when it is not TF or Keras."""
    for prefix in ("tensorflow.keras.backend.", "keras.backend."):
        if qualname.startswith(prefix):
            return "keras.backend." + qualname[len(prefix):]
    if qualname.startswith("tensorflow."):
        return qualname[len("tensorflow."):]
    return None


def call_result(name: str, args: list, kwargs: dict) -> Fact | None:
    """The fact of `tf.<name>(*args, **kwargs)` from its arguments' facts; None when the call is
    not in the table or an argument is too vague. Raises TFRejects or Diverges."""
    try:
        return _call_result(name, args, kwargs)
    except _NoClaim:
        return None


def _call_result(name, args, kwargs):
    if name == EPSILON and not args and not kwargs:
        return Fact(Kind.SCALAR, pytype=float)
    op = TF_CALLS.get(name)
    if op is None or len(args) > len(op.params) or set(kwargs) - set(op.params):
        return None
    bound = dict(zip(op.params, args)) | kwargs
    first = bound.get(op.params[0])
    if op.packs:
        return _packed(op, name, first, bound)
    if op.rank == "max":
        return _binary_call(op, name, bound.get(op.params[0]), bound.get(op.params[1]))
    if first is None or first.kind is not Kind.ARRAY or first.dtype is None:
        return None
    rank = _rank(op, name, first.rank, bound)
    dtype = _accepted(op, name, first)
    if dtype is None:
        return None
    if name == "cast":
        target = bound.get("dtype")
        if target is None or target.kind is not Kind.DTYPE or target.value is None:
            return None
        dtype = target.value
    for number in (bound[p] for p in op.numbers if p in bound):
        _converts(number, first.dtype, f"tf.{name}")
    return Fact(Kind.ARRAY, dtype=np.dtype(op.dtype(dtype)), rank=rank, fresh=True, eager=True)


def _accepted(op, name, fact) -> np.dtype:
    """The dtype TF computes in for this first argument (after converting a NumPy array)."""
    dtype = fact.dtype
    if not fact.eager and op.arrays == "rejects":
        raise TFRejects(f"tf.{name} of a NumPy array raises")
    if not fact.eager and op.arrays not in ("same",) and dtype != _ARRAY_TARGETS[op.arrays]:
        raise Diverges(f"tf.{name} converts a NumPy array to {_ARRAY_TARGETS[op.arrays]} first, "
                       f"and the rewrite's {dtype} tensor would not be")
    if dtype not in op.dtypes:
        if not op.strict:
            return None
        raise TFRejects(f"tf.{name} does not take {dtype}")
    return dtype


_ARRAY_TARGETS = {"bool": np.dtype(bool), "float32": np.dtype("float32"), "complex64": np.dtype("complex64")}


def _rank(op, name, rank, bound):
    if op.rank == "one":
        return 1
    if rank is None:
        return None
    if rank < op.min_rank:
        raise TFRejects(f"tf.{name} of a tensor of rank {rank} raises")
    if op.rank == "plus_one":
        return rank + 1
    if op.rank != "reduce":
        return rank
    keepdims = bound.get("keepdims")
    keep = False if keepdims is None else keepdims.value if keepdims.known else None
    if keep not in (True, False):
        return None
    axis = bound.get("axis")
    if axis is None or (axis.kind is Kind.OTHER and axis.known and axis.value is None):
        return rank if keep else 0
    axes = [axis] if axis.kind is Kind.SCALAR else list(axis.items) if axis.kind is Kind.TUPLE else None
    if axes is None or not all(a.kind is Kind.SCALAR and a.known and isinstance(a.value, int) for a in axes):
        return None
    if any(not -rank <= a.value < rank for a in axes) or (rank == 0 and axes):
        raise TFRejects(f"tf.{name}: axis out of range for rank {rank}")
    if len({a.value % rank for a in axes}) < len(axes):
        raise TFRejects(f"tf.{name}: an axis named twice raises")
    return rank if keep else rank - len(axes)


def _packed(op, name, values, bound) -> Fact | None:
    """tf.concat / tf.stack of a list literal of arrays of one dtype and rank."""
    if values is None or values.kind is not Kind.TUPLE or not values.items:
        return None
    items = values.items
    if any(i.kind is not Kind.ARRAY or i.dtype is None for i in items):
        return None
    dtypes = {i.dtype for i in items}
    if len(dtypes) > 1:
        raise TFRejects(f"tf.{name} of arrays of several dtypes raises")
    (dtype,) = dtypes
    if name == "stack" and not all(i.eager for i in items) and dtype.name not in (
            "bool", "float16", "float32", "float64", "int32", "complex128"):
        raise Diverges(f"tf.stack converts a list of NumPy {dtype} arrays to another dtype")
    ranks = {i.rank for i in items}
    rank = ranks.pop() if len(ranks) == 1 else None
    if name == "concat" and rank == 0:
        raise TFRejects("tf.concat of 0-d tensors raises")
    return Fact(Kind.ARRAY, dtype=dtype, rank=None if rank is None else rank + (op.rank == "plus_one"),
                fresh=True, eager=True)


def _binary_call(op, name, left, right) -> Fact | None:
    if left is None or right is None or left.kind is not Kind.ARRAY or right.kind is not Kind.ARRAY:
        if left is None or left.kind is not Kind.ARRAY or right is None or name.endswith("matmul"):
            return None  # (a number first takes a dtype of its own: no claim)
        _converts(right, left.dtype, f"tf.{name}")
        right = left
    if left.dtype is None or right.dtype is None:
        return None
    if name.endswith("divide") and left.dtype.kind == "b" and not (left.eager and right.eager):
        # `tf.divide` runs `/` on the first argument made a tensor, and NumPy's `/` takes
        # over where TF's refuses
        raise Diverges(f"tf.{name} of a NumPy bool array is NumPy's `/`")
    if left.dtype != right.dtype:
        raise Diverges(f"tf.{name} of {left.dtype} and {right.dtype}: TF does not promote")
    if left.dtype not in op.dtypes:
        if not op.strict:
            return None
        raise TFRejects(f"tf.{name} does not take {left.dtype}")
    rank = None if left.rank is None or right.rank is None else max(left.rank, right.rank)
    if name.endswith("matmul") and rank is not None and min(left.rank, right.rank) < 2:
        raise TFRejects("tf.matmul of a tensor of rank below 2 raises")
    return Fact(Kind.ARRAY, dtype=np.dtype(op.dtype(left.dtype)), rank=rank, fresh=True, eager=True)


def _converts(scalar: Fact, dtype: np.dtype, what: str):
    """TF converts a Python number to the tensor's dtype; raises TFRejects where that raises,
    Diverges where the table does not know what TF does."""
    converts = python_number_converts(scalar, dtype)
    if converts is None:
        raise _NoClaim
    if not converts:
        raise TFRejects(f"{what}: TF cannot convert a Python {scalar.pytype.__name__} to {dtype}")


def python_number_converts(scalar: Fact, dtype: np.dtype) -> bool | None:
    """Whether TF converts this Python number to a tensor of `dtype` (an int to any number, a
    float to floats and complex, a complex to complex); None where the rewriter does not know
    (bools, bool tensors, an integer literal out of the dtype's range, a number held as a
    tensor in the rewrite)."""
    if scalar.kind is not Kind.SCALAR or scalar.pytype in (None, bool) or dtype.kind == "b" or scalar.tensor:
        return None
    if scalar.pytype is int and scalar.known and dtype.kind in "iu" and not (
            np.iinfo(dtype).min <= scalar.value <= np.iinfo(dtype).max):
        return None
    return dtype.kind in _NUMBERS_TAKEN_BY[scalar.pytype]


_NUMBERS_TAKEN_BY = {int: "iufc", float: "fc", complex: "c"}
"""The dtype kinds TF converts each Python number type to."""


# -- Python operators on TF tensors ---------------------------------------------------------

OPERATORS = {
    "add": (_NUMERIC, _same), "subtract": (_NUMERIC, _same), "multiply": (_ALL, _same),
    "true_divide": (_NUMERIC, _truediv), "floor_divide": (_REAL, _same), "remainder": (_REAL, _same),
    "power": (_SIGNED, _same), "matmul": (_MATMUL, _same),
    "bitwise_and": (_BITWISE, _same), "bitwise_or": (_BITWISE, _same), "bitwise_xor": (_BITWISE, _same),
    "less": (_REAL, lambda _: np.dtype(bool)), "less_equal": (_REAL, lambda _: np.dtype(bool)),
    "greater": (_REAL, lambda _: np.dtype(bool)), "greater_equal": (_REAL, lambda _: np.dtype(bool)),
    "equal": (_ALL, lambda _: np.dtype(bool)), "not_equal": (_ALL, lambda _: np.dtype(bool)),
    "negative": (_SIGNED, _same), "invert": (_BITWISE, _same), "absolute": (_SIGNED, _to_real),
}
"""Python operators on a TF tensor, by the NumPy ufunc name the walker uses for them: the dtypes
TF's kernel takes and the result's dtype (TF's `/` of integers is float32 or float64)."""


def operator_result(name: str, tensor: Fact, other: Fact | None = None) -> Fact:
    """TF's result for `tensor <op> other` (either order) or `<op> tensor`, where `tensor` is
    a TF tensor of known dtype and `other`, if any, has been converted to its dtype. Raises
    TFRejects where TF raises."""
    entry = OPERATORS.get(name)
    if entry is None:
        raise TFRejects(f"TF tensors have no `{name}` operator")
    dtypes, result = entry
    if tensor.dtype not in dtypes:
        raise TFRejects(f"TF's `{name}` does not take {tensor.dtype}")
    ranks = [tensor.rank] + ([other.rank if other.kind is Kind.ARRAY else 0] if other is not None else [])
    rank = None if None in ranks else max(ranks)
    if name == "matmul" and rank is not None and min(ranks) < 2:
        raise TFRejects("`@` of a tensor of rank below 2 raises")
    return Fact(Kind.ARRAY, dtype=np.dtype(result(tensor.dtype)), rank=rank, fresh=True, eager=True)


def array_converts(array: np.dtype, dtype: np.dtype) -> bool:
    """Whether TF's conversion of a NumPy array of dtype `array` to a tensor's `dtype` (NumPy's
    astype) is what tf.cast does: within floats, within complex, integers to integers, integers
    and bools to floats, bools to anything."""
    if array == dtype or array.kind == "b":
        return True
    return (array.kind, dtype.kind) in {("f", "f"), ("c", "c"), ("i", "i"), ("u", "i"), ("i", "u"),
                                        ("u", "u"), ("i", "f"), ("u", "f"), ("i", "c"), ("u", "c"), ("f", "c")}
