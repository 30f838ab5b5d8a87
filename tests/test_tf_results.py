"""The result table of TF calls (rewriter/tf_results.py) against TensorFlow itself.

Every row is run eagerly over every dtype, ranks 0 and 2, and both kinds of argument the original
may hand it: a NumPy array (a numpy_function's input) and an EagerTensor (another TF call's
result). Wherever the table gives a fact, TF must return that dtype and rank, for the array and
for the tensor of the same dtype the rewrite passes instead; where the table says TF raises, TF
must raise; where it says the array is treated otherwise than the tensor, it must be."""
import warnings

import numpy as np
import pytest
import tensorflow as tf

from rewriter import facts as F
from rewriter.facts import Fact, Kind
from rewriter.tf_results import (OPERATORS, TF_CALLS, Diverges, TFRejects, array_converts, call_result,
                                 operator_result, python_number_converts)

DTYPES = [np.dtype(d) for d in ("bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32",
                                 "float64", "complex64", "complex128")]
RANKS = (0, 2)


def _literal(value):
    return value, F.constant(value)


def _dtype(name):
    return getattr(tf, name), Fact(Kind.DTYPE, value=np.dtype(name))


EXTRA_ARGUMENTS = {
    "cast": [[_dtype("float32")], [_dtype("int32")]],
    "signal.stft": [[_literal(2), _literal(1)]],
    "clip_by_value": [[_literal(0), _literal(1)], [_literal(0.5), _literal(1.5)]],
    "keras.backend.clip": [[_literal(0), _literal(1)], [_literal(0.5), _literal(1.5)]],
    "concat": [[_literal(0)]],
}
"""Arguments after the first, per row (several lists: each is tried)."""

REDUCTION_KEYWORDS = [{}, {"axis": -1}, {"axis": [0, -1]}, {"axis": 0, "keepdims": True}]


def _callable(name):
    if name.startswith("keras.backend."):
        return getattr(tf.keras.backend, name.rsplit(".", 1)[1])
    value = tf
    for part in name.split("."):
        value = getattr(value, part)
    return value


def _run(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = fn(*args, **kwargs)
        except Exception:  # TF raising is the answer compared
            return None
    if not tf.is_tensor(result):  # tf.divide of two arrays is NumPy's `/`
        return "not a tensor", np.ndim(result)
    return np.dtype(result.dtype.as_numpy_dtype), result.shape.rank


def _keyword_fact(value):
    if isinstance(value, list):
        return F.constant(tuple(F.constant(v) for v in value))
    return F.constant(value)


def _calls(name):
    """(args, facts of args, kwargs, facts of kwargs) for a value `x` and its fact."""
    op = TF_CALLS[name]
    if op.packs:
        return [lambda x, f, extra=extra: ([[x, x], *[e[0] for e in extra]], [F.constant((f, f)), *[e[1] for e in extra]],
                                           {}, {}) for extra in EXTRA_ARGUMENTS.get(name, [[]])]
    if op.rank == "max":
        numbers = [] if "matmul" in name else [lambda x, f: ([x, 2], [f, F.constant(2)], {}, {}),
                                               lambda x, f: ([x, 2.5], [f, F.constant(2.5)], {}, {})]
        return [lambda x, f: ([x, x], [f, f], {}, {}), *numbers]
    if op.rank == "reduce":
        return [lambda x, f, kw=kw: ([x], [f], kw, {k: _keyword_fact(v) for k, v in kw.items()})
                for kw in REDUCTION_KEYWORDS]
    return [lambda x, f, extra=extra: ([x, *[e[0] for e in extra]], [f, *[e[1] for e in extra]], {}, {})
            for extra in EXTRA_ARGUMENTS.get(name, [[]])]


def _table(name, facts, kwargs):
    try:
        return call_result(name, facts, kwargs)
    except TFRejects:
        return "rejects"
    except Diverges:
        return "diverges"


def _distinct_rows():
    """One name per TF callable (`tf.exp` is `tf.math.exp`), with its row."""
    seen = {}
    for name in sorted(TF_CALLS):
        seen.setdefault((id(_callable(name)), TF_CALLS[name]), name)
    return sorted(seen.values())


@pytest.mark.parametrize("name", _distinct_rows())
def test_table_row_matches_tensorflow(name):
    fn = _callable(name)
    facts_for = set()
    for make in _calls(name):
        for dtype in DTYPES:
            for rank in RANKS:
                array = np.ones((2,) * rank, dtype)
                for eager in (False, True):
                    value = tf.constant(array) if eager else array
                    args, facts, kwargs, kwarg_facts = make(value, Fact(Kind.ARRAY, dtype=dtype, rank=rank, eager=eager))
                    table = _table(name, facts, kwarg_facts)
                    original = _run(fn, *args, **kwargs)
                    where = f"tf.{name} of {'a tensor' if eager else 'an array'} {dtype}[{rank}] {args[1:]} {kwargs}"
                    if table is None:  # no claim: NumPy code after it is refused
                        assert dtype not in TF_CALLS[name].dtypes, f"no fact for {where}"
                        continue
                    if table == "rejects":
                        assert original is None, f"the table says TF raises on {where}; TF gives {original}"
                        continue
                    rewritten_args, _, _, _ = make(tf.constant(array), None)
                    rewritten = _run(fn, *rewritten_args, **kwargs)
                    if table == "diverges":
                        assert not eager and original != rewritten, f"{where} does not diverge: {original}"
                        continue
                    assert original == (table.dtype, table.rank), f"{where}: TF gives {original}, table {table}"
                    assert rewritten == original, f"{where}: the rewrite's tensor gives {rewritten}"
                    assert table.eager
                    facts_for.add(dtype)
    assert facts_for == TF_CALLS[name].dtypes, f"tf.{name}: facts for {facts_for} only"


def test_keras_epsilon_is_a_python_float():
    assert isinstance(tf.keras.backend.epsilon(), float)
    assert call_result("keras.backend.epsilon", [], {}) == Fact(Kind.SCALAR, pytype=float)


def test_a_call_outside_the_table_has_no_fact():
    x = Fact(Kind.ARRAY, dtype=np.dtype("float32"), rank=2, eager=True)
    assert call_result("image.resize", [x, F.OTHER], {}) is None
    assert call_result("reduce_sum", [x], {"axis": Fact(Kind.SCALAR, pytype=int)}).rank is None


_PYTHON_OPERATORS = {
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
    "true_divide": lambda a, b: a / b, "floor_divide": lambda a, b: a // b, "remainder": lambda a, b: a % b,
    "power": lambda a, b: a ** b, "matmul": lambda a, b: a @ b, "bitwise_and": lambda a, b: a & b,
    "bitwise_or": lambda a, b: a | b, "bitwise_xor": lambda a, b: a ^ b, "less": lambda a, b: a < b,
    "less_equal": lambda a, b: a <= b, "greater": lambda a, b: a > b, "greater_equal": lambda a, b: a >= b,
    "equal": lambda a, b: a == b, "not_equal": lambda a, b: a != b,
}
_UNARY = {"negative": lambda a: -a, "invert": lambda a: ~a, "absolute": abs}


def _operator(name, tensor, other=None):
    try:
        return operator_result(name, tensor, other)
    except TFRejects:
        return None


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operator_on_a_tensor_matches_tensorflow(name):
    for dtype in DTYPES:
        for rank in (0, 2):
            tensor = tf.constant(np.ones((2,) * rank, dtype))
            fact = Fact(Kind.ARRAY, dtype=dtype, rank=rank, eager=True)
            if name in _UNARY:
                cases = [((tensor,), None)]
            else:
                cases = [((tensor, tensor), fact), ((tensor, 2), F.constant(2)), ((2, tensor), F.constant(2))]
            for operands, other in cases:
                original = _run(_UNARY.get(name) or _PYTHON_OPERATORS[name], *operands)
                table = _operator(name, fact, other)
                where = f"`{name}` of {dtype}[{rank}] and {other}"
                expected = None if table is None else (table.dtype, table.rank)
                if other is not None and other.kind is Kind.SCALAR and not python_number_converts(other, dtype):
                    continue  # where the number does not convert, the walker does not ask
                assert original == expected, f"{where}: TF gives {original}, the table {expected}"


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_python_numbers_convert_as_tf_converts_them(dtype):
    tensor = tf.constant(np.ones(2, dtype))
    for number in (True, 2, 2.5, 1j, 300):
        converts = python_number_converts(F.constant(number), dtype)
        if converts is None:  # no claim: refused
            continue
        result = _run(lambda: tensor - number if dtype.kind != "b" else tensor == number)
        assert (result is not None) == converts, f"{number!r} meeting a {dtype} tensor: TF gives {result}"
        assert result is None or result[0] == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_an_array_meeting_a_tensor_converts_as_tf_cast_does_where_the_table_says_so(dtype):
    values = np.array([0, 1, 3, 200, -7, 2.5, 1e6, 0.1])
    tensor = tf.constant(np.ones(len(values), dtype))
    for array_dtype in DTYPES:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            array = values.astype(array_dtype)
            if not array_converts(array.dtype, dtype) or dtype.kind == "b":
                continue
            original = (tensor * array).numpy()
            rewritten = (tensor * tf.cast(array, tf.as_dtype(dtype))).numpy()
        np.testing.assert_array_equal(original, rewritten, err_msg=f"{array_dtype} array into {dtype}")
