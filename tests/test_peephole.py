"""Simplifications across statements (`rewriter/peephole.py`) against NumPy itself.

Each rule is checked on the emitted code (it fires, or it stays out) and on values: the
one-hot and softmax forms must give NumPy's numbers over dtypes, shapes, NaN and infinities;
the narrowed draw NumPy's distribution.
"""
import numpy as np
import pytest

from rewriter import facts as F
from rewriter.function import convert_function
from rewriter.pipeline import RewriteOptions, rewrite_source
from rewriter.verification import verify_distribution


def _pair(tf, source, facts):
    converted = convert_function(source, "f", facts)
    np_space, tf_space = {"np": np}, {"tf": tf, "np": np}
    exec(source, np_space)
    exec(converted.text, tf_space)
    return np_space["f"], tf_space["f"], converted.text


# -- one-hot rows changed by constant arithmetic, then cast -----------------------------------

SMOOTHED = """import numpy as np


def f(labels):
    onehot = np.eye(7{eye_dtype})[labels]
    onehot = onehot * (1.0 - 0.1) + 0.1 / 7
    onehot = -onehot / 3
    return onehot.astype({cast})
"""


@pytest.mark.parametrize("eye_dtype", ["", ", dtype=np.float32", ", dtype=np.float16"])
@pytest.mark.parametrize("cast", ["np.float32", "np.float16", "np.float64"])
@pytest.mark.parametrize("label_dtype", ["int64", "int32", "uint8"])
def test_smoothed_one_hot_is_one_tf_one_hot_with_numpys_bits(tf, eye_dtype, cast, label_dtype):
    source = SMOOTHED.format(eye_dtype=eye_dtype, cast=cast)
    np_fn, tf_fn, text = _pair(tf, source, {"labels": F.array(label_dtype, 1, fresh=False)})
    assert text.count("tf.one_hot(") == 1 and "on_value=" in text and "* (1.0 - 0.1)" in text
    assert "onehot = onehot" not in text  # the arithmetic steps are folded into the on/off values
    low = -7 if label_dtype != "uint8" else 0
    for labels in (np.arange(low, 7), np.zeros(0), np.array([3, 3, 0])):
        labels = labels.astype(label_dtype)
        want, got = np_fn(labels), tf_fn(tf.constant(labels)).numpy()
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want), (labels, got, want)


def test_one_expression_and_two_dimensional_labels(tf):
    source = """import numpy as np


def f(labels):
    return (0.5 - np.eye(4)[labels] * 2.0).astype(np.float32)
"""
    np_fn, tf_fn, text = _pair(tf, source, {"labels": F.array("int64", 2, fresh=False)})
    assert "on_value=" in text and "tf.float64" in text
    for labels in (np.array([[0, -1], [3, 2]]), np.zeros((0, 3), np.int64), np.zeros((2, 0), np.int64)):
        assert np.array_equal(tf_fn(tf.constant(labels)).numpy(), np_fn(labels))


@pytest.mark.parametrize("body", [
    "onehot = np.eye(4)[labels] * w\n    return onehot.astype(np.float32)",            # an array operand
    "onehot = np.eye(4)[labels] + 1.0\n    return onehot.astype(np.float32), onehot",  # read twice
    "onehot = np.eye(4)[labels] + 1.0\n    return np.exp(onehot).astype(np.float32)",  # not arithmetic
    "onehot = np.eye(4)[labels] + 1.0\n    return onehot",                             # no cast
])
def test_one_hot_folding_stays_out_where_it_would_not_hold(tf, body):
    source = f"import numpy as np\n\n\ndef f(labels, w):\n    {body}\n"
    facts = {"labels": F.array("int64", 1, fresh=False), "w": F.array("float64", 1, fresh=False)}
    np_fn, tf_fn, text = _pair(tf, source, facts)
    assert "on_value=" not in text
    labels, w = np.array([0, 3, -2]), np.linspace(1, 2, 4)
    want, got = np_fn(labels, w), tf_fn(tf.constant(labels), tf.constant(w))
    for want_part, got_part in zip(want if isinstance(want, tuple) else [want], got if isinstance(got, tuple) else [got]):
        assert np.array_equal(got_part.numpy(), want_part)


def test_corpus_label_smoothing_before_and_after():
    """Module-level constants count as constant scalars; the emitted function reads as
    hand-written code (one one_hot, no float64 intermediate tensor)."""
    before = '''import numpy as np
import tensorflow as tf

N = 10
S = 0.1


def smooth(labels):
    onehot = np.eye(N)[labels]
    onehot = onehot * (1.0 - S) + S / N
    return onehot.astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
def program(labels):
    return tf.numpy_function(smooth, [labels], tf.float32)
'''
    after = '''def smooth(labels):
    # the one-hot's on and off values, computed as the arithmetic computed them
    on_off = tf.cast(tf.constant([1, 0], tf.float64) * (1.0 - S) + S / N, tf.float32)
    onehot = tf.one_hot(
        tf.where(labels < 0, labels + N, labels),
        N,
        on_value=on_off[0],
        off_value=on_off[1],
        dtype=tf.float32,
    )
    return onehot
'''
    new = rewrite_source(before, "example.py", RewriteOptions(line_length=88)).new
    assert after in new


def test_a_py_function_output_cast_wraps_the_folded_one_hot(tf, tmp_path):
    """py_function casts a NumPy result to Tout: the emitted cast goes around the new one-hot,
    and its on/off line goes before the statement."""
    before = '''import numpy as np
import tensorflow as tf


def smooth(labels):
    labels = labels.numpy()
    return (0.5 - np.eye(4)[labels] * 2.0).astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
def program(labels):
    return tf.py_function(smooth, [labels], tf.float64)
'''
    new = rewrite_source(before, "example.py", RewriteOptions(line_length=88)).new
    assert "on_value=on_off[0]" in new and "tf.float64,\n    )" in new
    spaces = [{}, {}]
    for text, space in zip((before, new), spaces):
        exec(compile(text, str(tmp_path / "example.py"), "exec"), space)
    labels = tf.constant([0, 3, -1, 2, -4], tf.int64)
    want, got = (space["program"](labels).numpy() for space in spaces)
    assert got.dtype == want.dtype == np.float64 and np.array_equal(got, want)


# -- a float64 draw that only reaches a narrower float ----------------------------------------

NOISE = """import numpy as np


def f(x):
    noise = np.random.normal(0.0, 0.5, size=x.shape)
    return {result}
"""


@pytest.mark.parametrize("x_dtype, cast", [("float32", "np.float32"), ("float16", "np.float16"),
                                           ("float16", "np.float32")])
def test_draw_narrowed_to_the_cast_float_keeps_numpys_distribution(tf, x_dtype, cast):
    source = NOISE.format(result=f"(x - noise + x).astype({cast})")
    np_fn, tf_fn, text = _pair(tf, source, {"x": F.array(x_dtype, 1, fresh=False)})
    assert "float64" not in text and f"dtype=tf.{cast[3:]}" in text
    x = np.linspace(-1, 1, 4000).astype(x_dtype)
    assert tf_fn(tf.constant(x)).dtype.as_numpy_dtype == np_fn(x).dtype
    result = verify_distribution(np_fn, tf_fn, x, n=4000, seed=1)
    assert result.ok, result


@pytest.mark.parametrize("x_dtype, result", [
    ("float64", "(x + noise).astype(np.float32)"),   # the sum needs float64 operands
    ("int32", "(x + noise).astype(np.float32)"),     # an integer input is not a narrower float
    ("float32", "(x * noise).astype(np.float32)"),   # a product
    ("float32", "(x + noise + 1.0).astype(np.float32)"),  # another operand
    ("float32", "(x + noise).astype(np.float32), noise"),  # the draw is read again
    ("float32", "(x + noise).astype(np.int32)"),     # not a float cast
])
def test_draw_stays_float64_for_other_flows(tf, x_dtype, result):
    source = NOISE.format(result=result)
    np_fn, tf_fn, text = _pair(tf, source, {"x": F.array(x_dtype, 1, fresh=False)})
    assert "dtype=tf.float64" in text


# -- softmax: tf.nn.softmax with NumPy's NaN slices ---------------------------------------------

SOFTMAX = """import numpy as np


def f(z):
    z = z - z.max(axis={axis}, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis={axis}, keepdims=True)
"""
inf, nan = np.inf, np.nan
ROWS = [[1.0, 2.0, 3.0], [nan, 1.0, 2.0], [inf, 1.0, 2.0], [-inf, 1.0, 2.0], [-inf, -inf, -inf],
        [inf, inf, 1.0], [inf, -inf, 0.0], [nan, nan, nan], [1e4, -1e4, 0.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])  # float16 sums are not rewritten
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_is_tf_softmax_with_numpys_values(tf, dtype, axis):
    np_fn, tf_fn, text = _pair(tf, SOFTMAX.format(axis=axis), {"z": F.array(dtype, 2, fresh=False)})
    assert f"return numpy_softmax(z, axis={axis})" in text and "np_max" not in text and "tf.exp" not in text
    with np.errstate(all="ignore"):
        z = np.array(ROWS, dtype)
        z = z if axis == -1 else z.T
        want = np_fn(z)
        rng = np.random.default_rng(0)
        finite = (3 * rng.standard_normal((5, 6))).astype(dtype)
        want_finite = np_fn(finite)
    tolerance = {"float32": 1e-6, "float64": 1e-13}[dtype]
    for run in (tf_fn, tf.function(tf_fn), tf.function(tf_fn, jit_compile=True)):  # XLA's max skips NaN
        got = run(tf.constant(z)).numpy()
        assert got.dtype == want.dtype
        assert np.array_equal(np.isnan(got), np.isnan(want))
        assert np.allclose(got, want, rtol=tolerance, atol=0, equal_nan=True)
        assert np.allclose(run(tf.constant(finite)).numpy(), want_finite, rtol=tolerance, atol=0)


@pytest.mark.parametrize("source", [
    "def f(z):\n    return z - z.max(axis=-1, keepdims=True)\n",                          # no softmax
    SOFTMAX.format(axis=-1).replace("e.sum(axis=-1", "e.sum(axis=0"),                  # other slices
    SOFTMAX.format(axis=-1).replace("return e /", "return z, e /"),                    # z read again
    SOFTMAX.format(axis=-1).replace("axis=-1, ", ""),                                  # all axes
])
def test_max_keeps_its_nan_check_elsewhere(tf, source):
    source = source if source.startswith("import") else "import numpy as np\n\n\n" + source
    _, _, text = _pair(tf, source, {"z": F.array("float32", 2, fresh=False)})
    assert "np_max" in text
