"""Python builtins on arrays in wrapped bodies (`max(x.shape)`, `max(row)`, `sum(row)`,
`round(x.mean())`, `abs(float(...))`): the rewrite gives what Python gives, value and NumPy
dtype, for every dtype and rank the original accepts, raises where the original raises
(`max()` of nothing), and is refused where TF cannot say the same."""
from __future__ import annotations

import builtins
import textwrap
import warnings

import numpy as np
import pytest

from program_runs import load_module, mismatch, outcome, variants_of
from rewriter import facts as F
from rewriter.function import Inconsistent, Refusal, convert_function
from rewriter.pipeline import rewrite_source

DTYPES = ("uint8", "int16", "int32", "int64", "float32", "float64", "bool")


def _source(expression, names):
    return f"import numpy as np\n\n\ndef f({', '.join(names)}):\n    return {expression}\n"


def _original(expression, arrays):
    namespace = {"np": np}
    exec(_source(expression, list(arrays)), namespace)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return "ok", namespace["f"](*arrays.values())
        except Exception as exc:  # noqa: BLE001 - raising is an outcome to compare
            return "raised", type(exc).__name__


def _rewritten(tf, expression, arrays, traced=False, may_refuse=False):
    """The rewrite's outcome; None when lowering finds NumPy rejects these facts, or refuses
    (with `may_refuse`): the site then runs the original."""
    facts = {n: F.array(v.dtype, v.ndim, fresh=False) for n, v in arrays.items()}
    try:
        converted = convert_function(_source(expression, list(arrays)), "f", facts)
    except Inconsistent:
        return None
    except Refusal:
        if may_refuse:
            return None
        raise
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    function = tf.function(namespace["f"]) if traced else namespace["f"]
    try:
        result = function(*[tf.constant(v) for v in arrays.values()])
        return "ok", np.asarray(result)  # a tensor, or a Python number known when lowering
    except Exception as exc:  # noqa: BLE001
        return "raised", type(exc).__name__


def _check(tf, expression, traced=False, may_refuse=False, **arrays):
    """Why the rewrite differs from Python ("" when it does not). A NumPy result must match in
    dtype and value; a Python number in value (the rewrite holds it as a tensor)."""
    want = _original(expression, arrays)
    # a refusal leaves the NumPy code: right where Python raises (float() of a 1-D array)
    got = _rewritten(tf, expression, arrays, traced, may_refuse or want[0] == "raised")
    if got is None:
        return "" if want[0] == "raised" or may_refuse else f"lowering gave up where Python returned {want[1]!r}"
    if want[0] == "raised" or got[0] == "raised":
        return "" if want[0] == got[0] else f"Python: {want}, rewrite: {got}"
    value, result = want[1], got[1]
    if isinstance(value, (int, float)):
        if not np.array_equal(np.asarray(value), result, equal_nan=True):
            return f"Python gave {value!r}, the rewrite {result!r}"
        return ""
    value = np.asarray(value)
    if value.dtype != result.dtype:
        return f"Python gave {value.dtype}, the rewrite {result.dtype}"
    close = np.allclose(value, result, rtol=1e-6, equal_nan=True) if value.dtype.kind == "f" \
        else np.array_equal(value, result)
    return "" if close else f"Python gave {value!r}, the rewrite {result!r}"


# -- shapes --------------------------------------------------------------------------------

SHAPES = [(), (0,), (5,), (3, 0), (2, 7), (4, 1, 3), (2, 3, 0, 5)]


@pytest.mark.parametrize("expression", [
    "max(x.shape)", "min(x.shape)", "sum(x.shape)", "max(x.shape[1:])", "sum(x.shape[1:])",
    "min(x.shape[-2:])", "len(x.shape)", "len(x.shape[::2])", "max(len(x), int(x.size))",
])
def test_builtins_of_a_shape_give_pythons_int(tf, expression):
    problems = [f"{shape}: {p}" for shape in SHAPES
                if (p := _check(tf, expression, x=np.zeros(shape, np.float32)))]
    assert not problems, problems


# -- rows of a 1-D array --------------------------------------------------------------------

def _rows(dtype):
    """1-D samples, empty included; for floats, NaNs first, inside and last, and signed zeros."""
    rows = [np.array([3, 1, 7, 7, 0]), np.array([5]), np.array([], np.int64), np.array([2, 9, 4, 9])]
    if np.dtype(dtype).kind == "f":
        nan = np.nan
        rows += [np.array([nan, 1.0, 3.0]), np.array([1.0, nan, 3.0]), np.array([4.0, 2.0, nan]),
                 np.array([nan, nan]), np.array([-1.5, np.inf, -np.inf]), np.array([0.25, -2.5, 1e30])]
    if np.dtype(dtype).kind == "b":
        rows += [np.array([0, 0, 0]), np.array([1, 1])]
    return [r.astype(dtype) for r in rows]


@pytest.mark.parametrize("expression, dtype", [
    (e, d) for e in ("max(v)", "min(v)", "sum(v)", "max(v) - min(v)") for d in DTYPES
    if not (e == "max(v) - min(v)" and d == "bool")  # NumPy refuses `-` on booleans
])
def test_builtins_over_the_rows_of_a_1d_array_match_python(tf, expression, dtype):
    problems = [f"{row!r}: {p}" for row in _rows(dtype) if (p := _check(tf, expression, v=row))]
    assert not problems, problems


@pytest.mark.parametrize("expression", ["max(v)", "min(v)", "sum(v)"])
def test_builtins_over_rows_match_python_in_a_graph(tf, expression):
    problems = [f"{row!r}: {p}" for dtype in ("uint8", "float32", "bool") for row in _rows(dtype)
                if (p := _check(tf, expression, traced=True, v=row))]
    assert not problems, problems


def test_max_of_an_empty_array_raises_in_the_rewrite_too(tf):
    """Python's max() of nothing raises ValueError: the rewrite must not return a value."""
    for traced in (False, True):
        assert _rewritten(tf, "max(v)", {"v": np.array([], np.float32)}, traced)[0] == "raised"


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_of_rows_keep_pythons_nan_rule_when_compiled_with_xla(tf, name):
    from rewriter import tf_helpers

    compiled = tf.function(getattr(tf_helpers, f"py_{name}"), jit_compile=True)
    for row in _rows("float32"):
        if len(row):
            got, want = compiled(tf.constant(row)).numpy(), getattr(builtins, name)(row)
            assert np.array_equal(got, want, equal_nan=True), (row, got, want)


@pytest.mark.parametrize("expression", ["max(v)", "sum(v)", "min(v.shape)"])
def test_builtins_that_iterate_a_0d_array_run_the_original(expression):
    with pytest.raises(Inconsistent):
        convert_function(_source(expression, ["v"]), "f", {"v": F.array("float32", 0, fresh=False)})


# -- numbers ----------------------------------------------------------------------------------

def _samples(dtype, finite=False):
    """Ties for round(), negatives, NaN (unless `finite`) and a float beyond float32's ints."""
    values = [np.array([0.5, 1.5, 2.5, -0.5, -2.5, 3.25]), np.array([[7.0, -3.0], [0.0, 2.5]]),
              np.array([1e15 + 0.5, -7.5])] + ([] if finite else [np.array([np.nan, 1.0])])
    with np.errstate(invalid="ignore", over="ignore"):  # 1e15 wraps in the small int dtypes
        return [v.astype(dtype) if np.dtype(dtype).kind == "f" else np.round(np.nan_to_num(v) * 2).astype(dtype)
                for v in values]


NUMBER_EXPRESSIONS = [
    "round(x[0])", "round(x.mean())", "round(x.max())", "round(x.mean(), 1)", "round(x[0], 2)",
    "round(float(x.mean()))", "abs(float(np.max(x)))", "abs(x.min())", "pow(x, 2)", "float(len(x)) / 3",
    "int(len(x)) + 1", "max(float(x.min()), float(x.max()))", "min(float(x.max()), 1.5)", "max(len(x), 2.5)",
    "max(float(x[0]), 1.0)", "max(1.5, float(x[0]))", "min(float(x[0]), 0.0)",
]
INT_EXPRESSIONS = ["abs(int(x.min()))", "max(len(x), int(x.max()))"]
"""int() of a float NaN raises in Python and gives an arbitrary int in the rewrite (int() was
lowered so before builtins had their module): these run on finite values only."""


@pytest.mark.parametrize("expression, dtype", [(e, d) for e in NUMBER_EXPRESSIONS + INT_EXPRESSIONS for d in DTYPES])
def test_builtins_on_numbers_match_python(tf, expression, dtype):
    # bool arrays: NumPy patterns upstream (x.max(), x ** 2) are refused for them; a refusal
    # leaves the site NumPy, which is correct
    problems = [f"{x!r}: {p}" for x in _samples(dtype, finite=expression in INT_EXPRESSIONS)
                if (p := _check(tf, expression, may_refuse=dtype == "bool", x=x))]
    assert not problems, problems


@pytest.mark.parametrize("expression", ["round(x.mean())", "round(float(x[1]))"])
def test_round_of_nan_or_infinity_raises_in_the_rewrite_too(tf, expression):
    for value in (np.nan, np.inf):
        x = np.array([1.0, value], np.float32)
        for traced in (False, True):
            assert _original(expression, {"x": x})[0] == "raised"
            assert _rewritten(tf, expression, {"x": x}, traced)[0] == "raised", (value, traced)


@pytest.mark.parametrize("expression", ["max(x[0], 0.5)", "min(x[0], -1.5)", "max(2.5, x[0])", "min(x[0], 0.0)"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_max_of_a_numpy_scalar_and_a_literal_keeps_pythons_nan_rule(tf, expression, dtype):
    rows = [np.array([v, 1.0], dtype) for v in (np.nan, 3.0, -3.0, 0.5, -0.0)]
    problems = [f"{x!r}: {p}" for x in rows if (p := _check(tf, expression, x=x))]
    assert not problems, problems


def test_round_of_a_python_float_to_digits_is_refused():
    """Python rounds the exact decimal value (round(2.675, 2) == 2.67, np.round gives 2.68)."""
    with pytest.raises(Refusal, match="exact decimal"):
        convert_function(_source("round(float(x.mean()), 2)", ["x"]), "f", {"x": F.array("float64", 1)})


@pytest.mark.parametrize("expression, reason", [
    ("max(x)", "compares whole rows"), ("sum(x)", "np.sum\\(a, axis=0\\)"), ("max(x, key=abs)", "key="),
    ("sum(x[0], 1)", "start value"), ("max(x[0].astype(np.complex64))", "complex64"),
])
def test_builtins_without_a_faithful_lowering_are_refused(expression, reason):
    with pytest.raises(Refusal, match=reason):
        convert_function(_source(expression, ["x"]), "f", {"x": F.array("float32", 2)})


# -- a program, as it runs -----------------------------------------------------------------

PROGRAM = '''\
import numpy as np
import tensorflow as tf


def summarize(x):
    rows = len(x)
    longest = max(x.shape)
    peak = abs(float(np.max(x)))
    first = x.reshape(-1)
    spread = max(first) - min(first)
    return np.float32(rows / longest + peak + round(x.mean()) + spread + sum(x.shape[1:]))


def program(x):
    return tf.numpy_function(summarize, [x], tf.float32)
'''


def _both_ways(folder, text, name):
    """(original module, rewritten module, the rewrite's result)."""
    result = rewrite_source(text, name)
    return load_module(folder, text), load_module(folder, result.new), result


def _differences(tf, original, rewritten) -> list:
    """Where the rewritten program differs from the original, eagerly and traced."""
    problems = []
    for label, value in variants_of(SAMPLE):
        traced = (tf.function(original), tf.function(rewritten))
        for how, want, got in (("eager", original, rewritten), ("traced", *traced)):
            problem = mismatch(outcome(want, value), outcome(got, value))
            if problem:
                problems.append(f"{label}, {how}: {problem}")
    return problems


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    return _both_ways(tmp_path_factory.mktemp("builtins"), PROGRAM, "summarize.py")


SAMPLE = np.array([[3.5, -8.0, 2.0], [0.5, 4.0, -1.0]], np.float32)


def test_the_program_converts_and_a_second_run_changes_nothing(program):
    _, _, result = program
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    assert rewrite_source(result.new, "summarize.py").new == result.new


def test_the_program_gives_the_originals_result_for_every_dtype_and_rank(tf, program):
    original, rewritten, _ = program
    problems = _differences(tf, original.program, rewritten.program)
    assert not problems, problems


def test_the_program_in_dataset_map(tf, program):
    original, rewritten, _ = program
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 6)).astype(np.uint8)

    def mapped(fn):
        return np.stack([x.numpy() for x in tf.data.Dataset.from_tensor_slices(images).map(fn)])

    want, got = mapped(original.program), mapped(rewritten.program)
    assert got.dtype == want.dtype == np.float32 and np.array_equal(got, want)
    assert textwrap.dedent(PROGRAM) != program[2].new


# -- type checks: static under the rewrite --------------------------------------------------

SCALED = '''\
def {name}(x):
    if hasattr(x, "numpy"):
        x = x.numpy()
        scale = 2.0
    else:
        scale = 3.0
    return (x * scale).astype(np.float32)
'''
GUARDED = "import numpy as np\nimport tensorflow as tf\n\n\n" + SCALED.format(name="_scaled_tensor") + "\n\n" \
    + SCALED.format(name="_scaled_array") + '''

def _checked(x):
    x = x.numpy() if isinstance(x, tf.Tensor) else x
    if not isinstance(x, (np.ndarray, np.generic)):
        return np.float32(-1.0)
    return np.float32(x.sum() + callable(x))


def _as_array(x):
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    return (x + 1).astype(np.float32)


def in_py_function(x):
    return tf.py_function(_scaled_tensor, [x], tf.float32)


def as_array(x):
    return tf.numpy_function(_as_array, [x], tf.float32)


def in_numpy_function(x):
    return tf.numpy_function(_scaled_array, [x], tf.float32)


def checked(x):
    return tf.py_function(_checked, [x], tf.float32)
'''


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    return _both_ways(tmp_path_factory.mktemp("guarded"), GUARDED, "guarded.py")


def test_type_checks_keep_the_branch_each_wrapper_takes(guarded):
    _, _, result = guarded
    assert [c.status for c in result.conversions] == ["converted"] * 4, [c.reason for c in result.conversions]
    for name in ("_scaled_tensor_tf", "_scaled_array_tf", "_checked_tf", "_as_array_tf"):
        body = result.new.split(f"def {name}(")[1].split("\n\n\n")[0]
        assert "hasattr" not in body and "isinstance" not in body and "callable" not in body, body
    assert rewrite_source(result.new, "guarded.py").new == result.new


@pytest.mark.parametrize("program", ["in_py_function", "in_numpy_function", "checked", "as_array"])
def test_type_checked_programs_give_the_originals_result(tf, guarded, program):
    original, rewritten, _ = guarded
    problems = _differences(tf, getattr(original, program), getattr(rewritten, program))
    assert not problems, problems


@pytest.mark.parametrize("program", ["in_py_function", "in_numpy_function"])
def test_type_checked_programs_in_dataset_map(tf, guarded, program):
    original, rewritten, _ = guarded
    images = np.random.default_rng(2).integers(0, 256, (5, 4, 6)).astype(np.uint8)

    def mapped(fn):
        return np.stack([x.numpy() for x in tf.data.Dataset.from_tensor_slices(images).map(fn)])

    want, got = mapped(getattr(original, program)), mapped(getattr(rewritten, program))
    assert got.dtype == want.dtype == np.float32 and np.array_equal(got, want)


def test_isinstance_ndarray_is_known_from_rank_one_up():
    """A NumPy value of rank 0 may be an ndarray or a NumPy scalar: that check is refused."""
    source = "import numpy as np\n\n\ndef f(x):\n    return isinstance(x, np.ndarray)\n"
    for rank in (1, 3):
        fact = F.array("float32", rank).with_(eager=False)
        assert convert_function(source, "f", {"x": fact}).returns[0].value is True
    with pytest.raises(Refusal, match="cannot tell"):
        convert_function(source, "f", {"x": F.array("float32", 0).with_(eager=False)})


def test_a_type_check_on_a_value_of_unknown_origin_is_refused():
    """A declared attribute may be a tf.Variable or a NumPy array: its check is refused. x * 2
    of an EagerTensor is an EagerTensor (TF's operators): known."""
    unknown = "import numpy as np\n\n\ndef f(x):\n    if hasattr(x, 'numpy'):\n        x = x.numpy()\n" \
              "    return x * 2\n"
    with pytest.raises(Refusal, match="cannot tell here"):
        convert_function(unknown, "f", {"x": F.array("float32", 1).with_(eager=None)})
    source = "import numpy as np\n\n\ndef f(x):\n    y = x * 2\n    if hasattr(y, 'numpy'):\n" \
             "        y = y.numpy()\n    return y\n"
    kept = convert_function(source, "f", {"x": F.array("float32", 1).with_(eager=True)})
    assert kept.returns[0].eager is False  # y.numpy() was kept: NumPy again


def test_a_type_check_inside_a_loop_is_refused():
    source = "def f(x):\n    for _ in range(2):\n        if hasattr(x, 'numpy'):\n            x = x.numpy()\n" \
             "    return x\n"
    with pytest.raises(Refusal, match="inside a loop"):
        convert_function(source, "f", {"x": F.array("float32", 1).with_(eager=True)})


def test_a_dropped_if_alone_in_its_block_leaves_pass(tf):
    source = "def f(x, flag=True):\n    if flag:\n        if hasattr(x, 'numpy'):\n            x = x.numpy()\n" \
             "    return x + 1\n"
    converted = convert_function(source, "f", {"x": F.array("float32", 1), "flag": F.constant(True)})
    assert "hasattr" not in converted.text and "        pass\n" in converted.text, converted.text
    namespace = {"tf": tf}
    exec(converted.text, namespace)
    assert namespace["f"](tf.constant([1.0, 2.0])).numpy().tolist() == [2.0, 3.0]


@pytest.mark.parametrize("eager, kept", [(True, "x * 2"), (False, "x * 3")])
def test_a_guard_whose_branch_only_calls_numpy_disappears(tf, eager, kept):
    source = "def f(x, y):\n    if hasattr(x, 'numpy'):\n        x = x.numpy()\n        y = y.numpy()\n" \
             "        x = x * 2\n    else:\n        x = x * 3\n    return x + y\n"
    facts = {n: F.array("float32", 1).with_(eager=eager) for n in "xy"}
    converted = convert_function(source, "f", facts)
    assert converted.text == f"def f(x, y):\n    x = {kept}\n    return x + y\n"


def test_a_type_check_inside_a_loop_the_vectorizer_takes_is_refused():
    source = "import numpy as np\n\n\ndef f(x):\n    total = 0.0\n    for row in x:\n" \
             "        total += np.sum(row.numpy() if hasattr(row, 'numpy') else row)\n    return total\n"
    with pytest.raises(Refusal, match="inside a loop"):
        convert_function(source, "f", {"x": F.array("float32", 2).with_(eager=False)})


@pytest.mark.parametrize("expression", ["int(n)", "float(n)", "round(n)", "float(m)", "int(m) + round(m)"])
def test_builtins_of_a_named_number_leave_no_python_call_on_a_tensor(tf, expression):
    """`n = len(x)` is a tensor in the rewrite: `int(n)` must not stay (int() of a tensor
    raises in a graph)."""
    source = f"import numpy as np\n\n\ndef f(x):\n    n = len(x)\n    m = float(np.max(x))\n    return {expression}\n"
    converted = convert_function(source, "f", {"x": F.array("float64", 1)})
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    x = np.array([2.5, 7.5, 1.0])
    original = {"np": np}
    exec(source, original)
    got = tf.function(namespace["f"])(tf.constant(x)).numpy()
    assert got == original["f"](x), converted.text
