"""What the rewriter knows about a value: kind, dtype, rank, constant value, aliasing.

Facts travel with every lowered expression. Result dtypes and ranks are NumPy's own: the
callable is evaluated on tiny stand-in arrays of the argument dtypes (`evaluate_numpy`), so
promotion rules (NEP 50 weak Python scalars, int mean -> float64, int16 sqrt -> float32) never
have to be restated by hand.
"""
from __future__ import annotations

import enum
import functools
import warnings
from dataclasses import dataclass, field, replace

import numpy as np


class Kind(enum.Enum):
    ARRAY = "array"      # an ndarray (or NumPy scalar): a tensor in the rewrite
    SCALAR = "scalar"    # a Python number: weak in NumPy's promotion
    DTYPE = "dtype"      # a dtype object (np.float32, float, 'int64')
    SHAPE = "shape"      # a shape tuple (a.shape): a shape tensor in the rewrite
    TUPLE = "tuple"      # a tuple of values with facts of their own
    OTHER = "other"      # any other Python value (None, strings, slices)


class _Unknown:
    def __repr__(self):
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Fact:
    kind: Kind
    dtype: np.dtype | None = None
    rank: int | None = None
    pytype: type | None = None
    value: object = UNKNOWN
    tensor: bool = False
    """For SCALAR and SHAPE: the rewrite holds it as a tensor (e.g. ``tf.shape(x)[0]``)."""
    items: tuple = ()
    fresh: bool = False
    """For ARRAY: created inside the function, so no other name sees in-place updates."""
    shape: tuple | None = None
    """For declared inputs: the static shape (None for unknown dims), used to make inputs."""
    batched: bool = False
    """For ARRAY, while vectorizing: the tensor has extra leading batch axes that `rank`
    does not count (rank is the rank of one element, as the NumPy code sees it)."""
    eager: bool | None = field(default=False, compare=False)
    """For ARRAY: what the original holds. True: a TF tensor (a py_function's input, a TF
    call's result), so Python operators on it follow TF's rules, not NumPy's (`tf_results.py`),
    and `hasattr(x, "numpy")` is true; False (the default, what NumPy code makes): a NumPy
    array or scalar (a numpy_function's input, `.numpy()`); None: either (a declared attribute,
    two paths that disagree, which also leave the dtype unknown, so nothing that needs it is
    lowered). Not part of equality."""

    @property
    def known(self) -> bool:
        return self.value is not UNKNOWN

    def with_(self, **changes) -> "Fact":
        return replace(self, **changes)


def array(dtype, rank=None, fresh=True) -> Fact:
    return Fact(Kind.ARRAY, dtype=np.dtype(dtype), rank=rank, fresh=fresh)


def constant(value) -> Fact:
    """Fact of a Python literal."""
    if isinstance(value, (bool, int, float, complex)):
        return Fact(Kind.SCALAR, pytype=type(value), value=value)
    if isinstance(value, tuple) and all(isinstance(v, Fact) for v in value):
        return Fact(Kind.TUPLE, items=value)
    return Fact(Kind.OTHER, value=value)


OTHER = Fact(Kind.OTHER)


def shape_value() -> Fact:
    """A Python int that the rewrite holds as an int32 tensor (an element of `tf.shape`)."""
    return Fact(Kind.SCALAR, pytype=int, tensor=True, dtype=np.dtype("int32"))

_CANONICAL = {bool: np.dtype(bool), int: np.dtype(np.int64), float: np.dtype(np.float64), complex: np.dtype(np.complex128)}


def as_dtype(value) -> np.dtype | None:
    """NumPy's reading of a dtype spelling: np.float32, float, 'int64', np.dtype(...)."""
    if value in _CANONICAL:
        return _CANONICAL[value]
    try:
        dtype = np.dtype(value)
    except TypeError:
        return None
    return dtype if dtype.kind in "biufc" else None


TF_NAMES = {
    "bool": "tf.bool", "int8": "tf.int8", "int16": "tf.int16", "int32": "tf.int32", "int64": "tf.int64",
    "uint8": "tf.uint8", "uint16": "tf.uint16", "uint32": "tf.uint32", "uint64": "tf.uint64",
    "float16": "tf.float16", "float32": "tf.float32", "float64": "tf.float64",
    "complex64": "tf.complex64", "complex128": "tf.complex128",
}


def tf_name(dtype) -> str:
    return TF_NAMES[np.dtype(dtype).name]


def from_tf_name(name: str) -> np.dtype | None:
    """`float32` or `tf.float32` to a NumPy dtype."""
    name = name.rsplit(".", 1)[-1]
    return np.dtype(name) if name in TF_NAMES else None


# -- evaluation of NumPy on stand-in values -----------------------------------------------

def _stand_in(fact: Fact, zeros=False, size=2):
    """A small concrete value with the fact's dtype and rank (SPD matrices on the last axes,
    so linear algebra on the stand-in does not fail; zeros on request, valid as indices; axes
    of length one on request, which broadcast against any constant's shape)."""
    if fact.kind is Kind.ARRAY:
        if fact.dtype is None or fact.rank is None:
            raise LookupError
        if zeros:
            return np.zeros((size,) * fact.rank, fact.dtype)
        base = np.array([[2, 1], [1, 2]]) if fact.rank >= 2 else np.ones((2,) * fact.rank)
        return np.broadcast_to(base, (2,) * fact.rank).astype(fact.dtype).copy()
    if fact.kind is Kind.SCALAR:
        if fact.known:
            return fact.value
        if fact.pytype is None:
            raise LookupError
        return fact.pytype(1)
    if fact.kind is Kind.SHAPE:
        if fact.rank is None:
            raise LookupError
        return (2,) * fact.rank
    if fact.kind is Kind.TUPLE:
        return tuple(_stand_in(item, zeros, size) for item in fact.items)
    if fact.known:
        return fact.value
    raise LookupError


def _arrays_in(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _arrays_in(item)


def fact_of_value(value, fresh=True) -> Fact:
    """Fact of a concrete result NumPy produced."""
    if isinstance(value, (np.ndarray, np.generic)):
        return Fact(Kind.ARRAY, dtype=value.dtype, rank=np.ndim(value), fresh=fresh)
    if isinstance(value, tuple):
        return Fact(Kind.TUPLE, items=tuple(fact_of_value(v, fresh) for v in value))
    if isinstance(value, (bool, int, float, complex)):
        return Fact(Kind.SCALAR, pytype=type(value))
    return OTHER


def _key(fact: Fact):
    if fact.kind is Kind.TUPLE:
        return (fact.kind, tuple(_key(i) for i in fact.items))
    value = fact.value
    try:
        hash(value)
    except TypeError:
        value = repr(value)
    return (fact.kind, fact.dtype, fact.rank, fact.pytype, value)


def evaluate_numpy(fn, args: tuple, kwargs: dict) -> Fact | None:
    """Run `fn` on stand-ins for the given facts; the fact of its result, or None when NumPy
    rejects the stand-ins or a fact is too vague to build one."""
    try:
        key = (fn, tuple(_key(a) for a in args), tuple(sorted((k, _key(v)) for k, v in kwargs.items())))
        hash(key)
    except TypeError:
        return _evaluate(fn, args, tuple(kwargs.items()))
    return _evaluate_cached(key, fn, args, tuple(kwargs.items()))


@functools.lru_cache(maxsize=4096)
def _evaluate_cached(key, fn, args, kwargs):
    return _evaluate(fn, args, kwargs)


_GUESSED_RANKS = (2, 3, 1, 0)


def _evaluate(fn, args, kwargs):
    """Evaluate with the known ranks; arrays of unknown rank are tried at a few ranks (dtype
    rules rarely depend on rank), and the result's rank is then unknown."""
    if not any(_rank_unknown(f) for f in (*args, *(v for _, v in kwargs))):
        return _evaluate_once(fn, args, kwargs)
    for rank in _GUESSED_RANKS:
        result = _evaluate_once(fn, tuple(_guess_rank(a, rank) for a in args),
                                tuple((k, _guess_rank(v, rank)) for k, v in kwargs))
        if result is not None:
            return _forget_rank(result)
    return None


def _rank_unknown(fact: Fact) -> bool:
    if fact.kind is Kind.TUPLE:
        return any(_rank_unknown(i) for i in fact.items)
    return fact.kind in (Kind.ARRAY, Kind.SHAPE) and fact.rank is None


def _guess_rank(fact: Fact, rank: int) -> Fact:
    if fact.kind is Kind.TUPLE:
        return fact.with_(items=tuple(_guess_rank(i, rank) for i in fact.items))
    return fact.with_(rank=rank) if _rank_unknown(fact) else fact


def _forget_rank(fact: Fact) -> Fact:
    if fact.kind is Kind.TUPLE:
        return fact.with_(items=tuple(_forget_rank(i) for i in fact.items))
    return fact.with_(rank=None) if fact.kind in (Kind.ARRAY, Kind.SHAPE) else fact


def _evaluate_once(fn, args, kwargs):
    # Stand-ins of 1s and 2s first (linear algebra needs invertible matrices); arrays of
    # zeros next, which are valid indices where 2 would be out of range; then axes of length
    # one, which broadcast against constants of any shape.
    for zeros, size in ((False, 2), (True, 2), (True, 1)):
        try:
            real_args = [_stand_in(a, zeros, size) for a in args]
            real_kwargs = {k: _stand_in(v, zeros, size) for k, v in kwargs}
        except LookupError:
            return None
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                result = fn(*real_args, **real_kwargs)
            except Exception:  # NumPy refusing the call is an answer: no fact
                continue
            # A result sharing memory with an argument is a view (or the argument itself):
            # in-place updates through it must be refused, so it is not fresh.
            inputs = [a for a in (*real_args, *real_kwargs.values()) if isinstance(a, np.ndarray)]
            shares = any(np.may_share_memory(part, a) for part in _arrays_in(result) for a in inputs)
            return fact_of_value(result, fresh=not shares)
    return None
