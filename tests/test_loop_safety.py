"""Loop rewrites that would change results must not happen: each program here is either refused
(left as NumPy) or, traced, gives NumPy's values, dtype and shape — and NumPy's error where
NumPy raises. The programs are the wrong results a review of the loop forms found."""
import textwrap

import numpy as np
import pytest

from rewriter import facts as F
from rewriter.function import Refusal, convert_function


def _module(source):
    return "import numpy as np\n\n\n" + textwrap.dedent(source).strip() + "\n"


def _rewrite(tf, source, inputs):
    """The traced rewrite of def f, or None when it is refused."""
    source = _module(source)
    facts = {name: F.array(value.dtype, value.ndim, fresh=False) for name, value in inputs.items()}
    try:
        text = convert_function(source, "f", facts).text
    except Refusal:
        return None
    if "for " in text:
        return None  # a loop kept for AutoGraph runs the loop's own steps (and needs a source file)
    namespace = {"tf": tf, "np": np}
    exec(text, namespace)
    specs = [tf.TensorSpec([None] * v.ndim, v.dtype) for v in inputs.values()]
    return tf.function(namespace["f"], input_signature=specs)


def _original(source):
    namespace = {}
    exec(_module(source), namespace)
    return namespace["f"]


SAME_OR_REFUSED = {
    # `s += ...` on a view of x also changes x, which later steps read
    "running-total-on-a-view": ("""
        def f(x):
            out = np.zeros_like(x)
            s = x[1]
            for t in range(len(x)):
                s += x[t]
                out[t] = s
            return out
        """, {"x": np.arange(1.0, 7.0).reshape(3, 2)}),
    # the state flows on into the next sweep of the enclosing loop
    "scan-inside-an-outer-loop": ("""
        def f(x):
            s = np.zeros(x.shape[1], dtype=x.dtype)
            out = np.zeros_like(x)
            for sweep in range(2):
                for t in range(len(x)):
                    s = s * 0.5 + x[t]
                    out[t] = s
            return out
        """, {"x": np.arange(1.0, 7.0).reshape(3, 2)}),
    "total-inside-an-outer-loop": ("""
        def f(x):
            s = np.zeros(x.shape[1])
            acc = np.zeros(x.shape[1])
            for k in range(3):
                acc = acc + s
                out = np.zeros_like(x)
                for t in range(len(x)):
                    s = s + x[t]
                    out[t] = s
            return acc
        """, {"x": np.arange(1.0, 7.0).reshape(3, 2)}),
    "fill-temporary-read-by-the-outer-loop": ("""
        def f(x):
            m = np.zeros(x.shape[1])
            acc = np.zeros(x.shape[1])
            for k in range(2):
                acc = acc + m
                out = np.zeros_like(x)
                for i in range(len(x)):
                    m = x[i] * 2
                    out[i] = m
            return acc
        """, {"x": np.arange(1.0, 7.0).reshape(3, 2)}),
    # NumPy's first step runs on the Python float, which float32 does not hold
    "python-float-start-float32-cannot-hold": ("""
        def f(x):
            s = 16777217.0
            out = np.zeros(len(x), dtype=np.float32)
            for t in range(len(x)):
                s = s - 16777216.0 + x[t].sum()
                out[t] = s
            return out
        """, {"x": np.full((3, 2), 0.25, np.float32)}),
    # NumPy's first step runs on the Python number before it meets an array
    "python-int-start-beyond-int64-in-the-first-step": ("""
        def f(x):
            s = 2 ** 62
            out = np.zeros(len(x), dtype=np.int64)
            for t in range(len(x)):
                s = s * 4 // 4 + x[t]
                out[t] = s
            return out
        """, {"x": np.zeros(3, np.int64)}),
    "python-float-start-in-double-in-the-first-step": ("""
        def f(x):
            s = 1.0
            out = np.zeros(len(x), dtype=np.float32)
            for t in range(len(x)):
                s = s * 0.9 * 0.9 + x[t]
                out[t] = s
            return out
        """, {"x": np.zeros(3, np.float32)}),
    # values that do not depend on the row are one value, not one per row
    "comprehension-of-a-fixed-array": ("""
        def f(a, b):
            return np.array([b for r in a])
        """, {"a": np.ones((3, 2)), "b": np.array([10.0, 20.0])}),
    "sum-of-a-fixed-array": ("""
        def f(a, b):
            return sum(b for r in a)
        """, {"a": np.ones((3, 2)), "b": np.array([10.0, 20.0])}),
    "accumulated-fixed-array": ("""
        def f(a, b):
            s = np.zeros(2)
            for r in a:
                s += b
            return s
        """, {"a": np.ones((3, 2)), "b": np.array([10.0, 20.0])}),
    "flag-on-a-fixed-value-no-rows": ("""
        def f(a, b):
            found = False
            for r in a:
                if b[0] > 5:
                    found = True
            return found
        """, {"a": np.ones((0, 2)), "b": np.array([10.0, 20.0])}),
    # a narrower row broadcasts into the output's row
    "fill-with-keepdims-rows": ("""
        def f(a):
            out = np.empty_like(a)
            for i in range(len(a)):
                out[i] = a[i].max(keepdims=True)
            return out
        """, {"a": np.arange(1.0, 13.0).reshape(4, 3)}),
    "scan-with-a-narrow-state": ("""
        def f(a):
            out = np.zeros((len(a), 3))
            s = np.zeros(1)
            for t in range(len(a)):
                s = s * 0.5 + a[t, :1]
                out[t] = s
            return out
        """, {"a": np.arange(1.0, 13.0).reshape(4, 3)}),
}


@pytest.mark.parametrize("source, inputs", SAME_OR_REFUSED.values(), ids=SAME_OR_REFUSED.keys())
def test_rewrite_gives_numpy_result_or_is_refused(tf, source, inputs):
    rewritten = _rewrite(tf, source, inputs)
    if rewritten is None:
        return
    want = np.asarray(_original(source)(*[v.copy() for v in inputs.values()]))
    have = rewritten(*[tf.constant(v) for v in inputs.values()]).numpy()
    assert have.dtype == want.dtype and have.shape == want.shape, (have, want)
    np.testing.assert_array_equal(have, want)  # exact: these programs add and scale small integers


RAISES = {
    # the loop reads rows of `b` that do not exist
    "fill-reads-past-a-shorter-array": ("""
        def f(a, b):
            out = np.zeros_like(a)
            for i in range(len(a)):
                out[i] = a[i] + b[i]
            return out
        """, {"a": np.ones((4, 2)), "b": np.ones((2, 2))}),
    # rows of width 3 do not fit rows of width 5
    "fill-rows-too-wide-for-the-output": ("""
        def f(a):
            out = np.zeros((len(a), 5))
            for i in range(len(a)):
                out[i] = a[i] * 2
            return out
        """, {"a": np.ones((3, 3))}),
}


@pytest.mark.parametrize("source, inputs", RAISES.values(), ids=RAISES.keys())
def test_rewrite_fails_where_numpy_raises(tf, source, inputs):
    with pytest.raises((IndexError, ValueError)):
        _original(source)(*inputs.values())
    rewritten = _rewrite(tf, source, inputs)
    if rewritten is None:
        return
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
        rewritten(*[tf.constant(v) for v in inputs.values()])


PER_ROW_DRAWS = {
    "comprehension": "return np.array([r + np.random.rand() for r in x])",
    "fill-loop": """out = np.zeros_like(x)
    for i in range(len(x)):
        out[i] = x[i] + np.random.rand()
    return out""",
    "accumulation": """s = np.zeros(x.shape[1])
    for r in x:
        s += r + np.random.rand(x.shape[1])
    return s""",
    "apply-along-axis": "return np.apply_along_axis(lambda r: r + np.random.rand(), 1, x)",
}


@pytest.mark.parametrize("body", PER_ROW_DRAWS.values(), ids=PER_ROW_DRAWS.keys())
def test_random_draws_per_row_are_not_lifted_into_one_draw(body):
    source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
    try:
        text = convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)}).text
    except Refusal:
        return  # left as NumPy
    assert "tf.random" not in text or "for " in text, text  # a draw stays inside its loop


@pytest.mark.parametrize("body", [
    "s = 0.0\n    for r in a:\n        if r.max() > 2:\n            s += np.log(r.min())\n    return s",
    "return np.array([np.log(r) for r in a if r.max() > 2])",
], ids=["masked-sum", "filtered-comprehension"])
def test_rows_the_loop_skips_get_a_zero_gradient(tf, body):
    # The skipped row holds a 0: its log is never computed by the loop. Computed on every row
    # and masked after, its infinite derivative would turn the gradient NaN.
    source = f"import numpy as np\n\n\ndef f(a):\n    {body}\n"
    text = convert_function(source, "f", {"a": F.array("float64", 2, fresh=False)}).text
    namespace = {"tf": tf}
    exec(text, namespace)
    a = tf.Variable([[2.0, 3.0], [0.0, 1.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(namespace["f"](a))
    gradient = tape.gradient(total, a).numpy()
    np.testing.assert_array_equal(gradient[1], [0.0, 0.0])
    assert np.isfinite(gradient).all(), text


def test_a_tf_range_loop_adding_a_constant_stays_a_loop():
    # stacked, the 1 would be an int32 next to a float accumulator (the loop adds a float 1)
    from rewriter.pipeline import rewrite_source

    source = textwrap.dedent("""\
        import tensorflow as tf


        @tf.function
        def count(n):
            total = tf.constant(0.0)
            for i in tf.range(n):
                total += 1
            return total
        """)
    (conversion,) = rewrite_source(source, "count.py").conversions
    assert conversion.status == "left" and conversion.code == "RW312", conversion.reason
