"""The vectorizer: per-row and per-element code becomes whole-array TF with the same values,
gradients, and no While or callback op in the graph."""
import textwrap

import numpy as np
import pytest

from rewriter import facts as F
from rewriter.function import Refusal, convert_function
from rewriter.pipeline import rewrite_source
from graph_ops import LOOP_OPS, graph_ops, loop_ops
from rewrite_and_run import rewrite_and_run


NUMPY_SHAPES = {
    "apply-row-reduction": ("np.apply_along_axis(lambda r: np.sum(np.square(r)), 1, x)", (6, 5)),
    "apply-column-vector": ("np.apply_along_axis(lambda r: (r - r.mean()) / (r.std() + 1.0), 0, x)", (6, 5)),
    "apply-negative-axis-3d": ("np.apply_along_axis(lambda r: np.max(np.abs(r)) * 2, -1, x)", (2, 3, 4)),
    "apply-1d-calls-once": ("np.apply_along_axis(lambda r: r / r.sum(), 0, x)", (5,)),
    "vectorize-branch": ("np.vectorize(lambda v: v * 2.0 if v > 0 else np.exp(v) - 1)(x)", (4, 3)),
    "comprehension-rows": ("np.array([np.sqrt(np.abs(r)) / (r.sum() + 10.0) for r in x])", (4, 3)),
    "comprehension-fallback": ("np.stack([np.sort(r) for r in x])", (4, 3)),
    "comprehension-over-row-indices": ("np.stack([x[i] * 2 + x[i].mean() for i in range(len(x))])", (4, 3)),
    "comprehension-filtered": ("np.array([r.sum() for r in x if r.max() > 0])", (6, 3)),
    "reduction-of-comprehension": ("np.mean([r.std() for r in x])", (4, 3)),
    "builtin-sum-of-generator": ("sum(np.sum(r ** 2) for r in x)", (4, 3)),
}


@pytest.mark.parametrize("expression, shape", NUMPY_SHAPES.values(), ids=NUMPY_SHAPES.keys())
def test_numpy_per_row_code_is_vectorized(tf, expression, shape):
    source = f"import numpy as np\n\n\ndef f(x):\n    return {expression}\n"
    converted = convert_function(source, "f", {"x": F.array("float64", len(shape), fresh=False)})
    x = np.random.default_rng(4).standard_normal(shape)
    original = {"np": np}
    exec(source, original)
    rewritten = {"tf": tf, "np": np}
    exec(converted.text, rewritten)
    np.testing.assert_allclose(rewritten["f"](tf.constant(x)).numpy(), original["f"](x), rtol=1e-12)
    assert "vectorized_map" in converted.text or not loop_ops(tf, rewritten["f"], tf.TensorSpec(shape, tf.float64)), converted.text
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(rewritten["f"](variable))
    assert tape.gradient(total, variable) is not None


def test_accumulating_loop_becomes_reductions(tf):
    source = textwrap.dedent("""\
        import numpy as np


        def f(x, w):
            total = 0.0
            energy = 1.0
            for r in x:
                total += np.sum(r * w)
                energy *= np.max(np.abs(r)) + 1
            return total, energy
        """)
    converted = convert_function(source, "f", {"x": F.array("float64", 2, fresh=False),
                                               "w": F.array("float64", 1, fresh=False)})
    assert "for " not in converted.text and "tf.reduce_prod" in converted.text
    x, w = np.random.default_rng(5).standard_normal((7, 3)), np.arange(3.0)
    original = {"np": np}
    exec(source, original)
    rewritten = {"tf": tf}
    exec(converted.text, rewritten)
    for have, want in zip(rewritten["f"](tf.constant(x), tf.constant(w)), original["f"](x, w)):
        np.testing.assert_allclose(have.numpy(), want, rtol=1e-12)


def test_loop_carrying_state_stays_a_loop():
    source = textwrap.dedent("""\
        import numpy as np


        def f(x):
            state = 0.0
            for r in x:
                state = np.tanh(state + r.sum())
            return state
        """)
    converted = convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)})
    assert "for r in x:" in converted.text and "tf.tanh" in converted.text
    # AutoGraph compiles it as a while loop, whose carried value must keep one dtype.
    assert "state = tf.constant(state, tf.float64)" in converted.text


MAP_FN = textwrap.dedent("""\
    import tensorflow as tf


    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def program(x):
        scaled = tf.map_fn(lambda v: tf.nn.relu(v) * 2.0 + 1.0, x)
        norms = tf.map_fn(lambda row: tf.sqrt(tf.reduce_sum(row * row)), scaled)
        return scaled, norms
    """)


def test_map_fn_sites(tf, tmp_path):
    result = rewrite_source(MAP_FN, "m.py")
    assert [c.status for c in result.conversions] == ["converted", "converted"]
    assert "scaled = tf.nn.relu(x) * 2.0 + 1.0" in result.new
    assert "tf.vectorized_map(lambda row:" in result.new
    namespaces = []
    for text in (MAP_FN, result.new):
        namespace = {}
        exec(compile(text, str(tmp_path / "m.py"), "exec"), namespace)
        namespaces.append(namespace)
    x = np.random.default_rng(6).standard_normal((50, 4)).astype(np.float32)
    for want, have in zip(namespaces[0]["program"](x), namespaces[1]["program"](x)):
        np.testing.assert_allclose(have.numpy(), want.numpy(), rtol=1e-6)
    assert not graph_ops(namespaces[1]["program"].get_concrete_function()) & LOOP_OPS
    assert graph_ops(namespaces[0]["program"].get_concrete_function()) & LOOP_OPS


def test_map_fn_over_variable_size_decoding_stays():
    source = textwrap.dedent("""\
        import tensorflow as tf


        def decode(paths):
            return tf.map_fn(lambda p: tf.io.decode_png(tf.io.read_file(p)), paths,
                             fn_output_signature=tf.RaggedTensorSpec([None, None, 3], tf.uint8))
        """)
    result = rewrite_source(source, "d.py")
    assert result.new == source
    (conversion,) = result.conversions
    assert conversion.status == "left" and "ragged" in conversion.reason


MAP_FN_KEPT = {
    "decoding in a helper": """\
        def load(path):
            image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
            return tf.image.resize_with_crop_or_pad(image, 8, 8)


        def program(paths):
            return tf.map_fn(lambda p: load(p), paths, fn_output_signature=tf.uint8)
        """,
    "a Python loop over the element": """\
        def running(row):
            total = 0.0
            for v in row:
                total += v
            return total


        def program(x):
            return tf.map_fn(running, x)
        """,
    "a Python if on the element": """\
        def clip(row):
            if tf.reduce_sum(row) > 2.0:
                return row * 0.5
            return row


        def program(x):
            return tf.map_fn(clip, x)
        """,
}


@pytest.mark.parametrize("body", MAP_FN_KEPT.values(), ids=MAP_FN_KEPT.keys())
def test_map_fn_that_tf_vectorized_map_cannot_trace_stays(tf, tmp_path, body):
    """Per-element decoding reached through a helper, and Python control flow on the element:
    tf.vectorized_map would raise where map_fn ran (the last two run eagerly only, as a Keras
    step run eagerly does: vectorized_map raises there too)."""
    source = "import tensorflow as tf\n\n\n" + textwrap.dedent(body)
    result = rewrite_source(source, "m.py")
    assert result.new == source
    (conversion,) = result.conversions
    assert conversion.status == "left" and conversion.code in ("RW305", "RW306"), conversion.reason
    if "paths" not in body:
        namespace = {}
        exec(compile(source, str(tmp_path / "m.py"), "exec"), namespace)
        x = np.ones((3, 4), np.float32)
        assert namespace["program"](x).shape[0] == 3  # the original runs eagerly
        with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
            tf.vectorized_map(namespace[body.split("map_fn(")[1].split(",")[0]], x)


FILL = textwrap.dedent("""\
    import numpy as np


    def f(a, b):
        out = np.empty_like(a)
        for i in range(len(a)):
            out[i] = np.sqrt(np.abs(a[i])) * b[i].sum()
        res = np.zeros_like(a, dtype=np.int64)
        for j in range(a.shape[0]):
            res[j] = a[j] * 10
        return out, res
    """)


def test_fill_loops_become_whole_array_ops(tf):
    converted = convert_function(FILL, "f", {"a": F.array("float64", 2, fresh=False),
                                             "b": F.array("float64", 2, fresh=False)})
    assert "for " not in converted.text
    a, b = np.random.default_rng(7).standard_normal((5, 3)), np.random.default_rng(8).standard_normal((7, 3))
    original = {"np": np}
    exec(FILL, original)
    rewritten = {"tf": tf}
    exec(converted.text, rewritten)
    for have, want in zip(rewritten["f"](tf.constant(a), tf.constant(b)), original["f"](a, b)):
        assert have.dtype == tf.as_dtype(want.dtype)
        np.testing.assert_allclose(have.numpy(), want, rtol=1e-12)


FILL_WITH_TEMPORARIES = textwrap.dedent("""\
    import numpy as np


    def f(a, b):
        n = len(a)
        norms = np.zeros(n)
        scaled = np.empty((a.shape[0], a.shape[1]), dtype=np.float32)
        for i in range(n):
            centred = a[i] - a[i].mean()
            norms[i] = np.sqrt((centred * centred).sum())
            scaled[i] = centred * 2 + b[i]
        return norms, scaled
    """)


@pytest.mark.parametrize("rows", [0, 1, 5])
def test_fill_loops_with_per_row_temporaries_and_outputs_made_by_shape(tf, rows):
    converted = convert_function(FILL_WITH_TEMPORARIES, "f", {"a": F.array("float64", 2, fresh=False),
                                                              "b": F.array("float64", 2, fresh=False)})
    assert "for " not in converted.text
    rng = np.random.default_rng(rows)
    a, b = rng.standard_normal((rows, 3)), rng.standard_normal((rows + 2, 3))
    original = {"np": np}
    exec(FILL_WITH_TEMPORARIES, original)
    rewritten = {"tf": tf}
    exec(converted.text, rewritten)
    for have, want in zip(rewritten["f"](tf.constant(a), tf.constant(b)), original["f"](a, b)):
        assert have.dtype == tf.as_dtype(want.dtype) and have.shape == want.shape
        np.testing.assert_allclose(have.numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("body", [
    "out = np.zeros((3, 4))\n    for i in range(len(a)):\n        out[i] = a[i]\n    return out",
    "out = np.zeros_like(a)\n    for i in range(1, len(a)):\n        out[i] = out[i - 1] + a[i]\n    return out",
    "out = np.zeros_like(a)\n    for i in range(len(a)):\n        out[i] = a[i] * i\n    return out",
    "out = np.zeros_like(a)\n    for i in range(len(a)):\n        out[i] = a[i] * 2\n    return out, i",
    "out = np.zeros_like(a)\n    a = a[1:]\n    for i in range(len(a)):\n        out[i] = a[i] * 2\n    return out",
    "out = np.zeros(len(a) + 1)\n    for i in range(len(a)):\n        out[i] = a[i].sum()\n    return out",
    "out = np.zeros_like(a)\n    for i in range(len(a)):\n        m = a[i] * 2\n        out[i] = m\n    return out, m",
], ids=["output-not-made-like-the-rows", "recurrence", "counter-used-as-a-number", "counter-read-after",
        "rows-rebound-before-the-loop", "output-longer-than-the-steps", "temporary-read-after"])
def test_fill_loops_that_are_not_row_maps_stay_loops(body):
    source = f"import numpy as np\n\n\ndef f(a):\n    {body}\n"
    try:
        converted = convert_function(source, "f", {"a": F.array("float64", 2, fresh=False)})
    except Refusal:
        return  # refused: the site stays NumPy, which is also right
    assert "for " in converted.text


FILTERED = textwrap.dedent("""\
    import numpy as np


    def f(x):
        pos = 0.0
        count = 0
        prod = 1.0
        for r in x:
            if r.sum() < 0:
                continue
            pos += r.sum()
            count += 1
        for r in x:
            if r.max() > 1.0:
                prod *= r.max()
            else:
                pos += np.abs(r).sum()
        return pos, count, prod
    """)


def test_accumulations_under_branches_and_continue_become_masked_reductions(tf):
    converted = convert_function(FILTERED, "f", {"x": F.array("float64", 2, fresh=False)})
    assert "for " not in converted.text and "tf.boolean_mask(" in converted.text
    original = {"np": np}
    exec(FILTERED, original)
    rewritten = {"tf": tf}
    exec(converted.text, rewritten)
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal((9, 3))
        for have, want in zip(rewritten["f"](tf.constant(x)), original["f"](x)):
            np.testing.assert_allclose(np.asarray(have), want, rtol=1e-12)


EXTREMA = textwrap.dedent("""\
    import numpy as np


    def f(x):
        best = -np.inf
        low = np.zeros(3)
        for r in x:
            best = np.maximum(best, r.max())
            low = np.minimum(low, r)
        return best, low
    """)


@pytest.mark.parametrize("rows", [
    [[0.3, -1.0, 2.0], [0.5, 0.1, 3.0]],
    [[1.0, float("nan"), 2.0], [0.5, 0.1, 3.0]],   # NaN propagates, as in NumPy
    np.zeros((0, 3)),                                 # no rows: the accumulators stay as they were
], ids=["values", "nan", "empty"])
def test_running_extrema_become_reductions(tf, rows):
    converted = convert_function(EXTREMA, "f", {"x": F.array("float64", 2, fresh=False)})
    assert "for " not in converted.text and "tf.reduce_max" in converted.text
    x = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    original = {"np": np}
    exec(EXTREMA, original)
    rewritten = {"tf": tf}
    exec(converted.text, rewritten)
    for have, want in zip(rewritten["f"](tf.constant(x)), original["f"](x)):
        np.testing.assert_allclose(np.asarray(have), want, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "int64"])
@pytest.mark.parametrize("rows", [1, 5])
def test_builtin_sum_of_rows_keeps_numpy_dtype_and_wraps_alike(tf, dtype, rows):
    x = np.random.default_rng(rows).integers(0, 200, size=(rows, 3)).astype(dtype)
    got, want, text = rewrite_and_run(tf, "sum(r * 3 for r in x)", x=x)
    assert "tf.reduce_sum(" in text
    assert got.dtype == tf.as_dtype(want.dtype)
    np.testing.assert_array_equal(got.numpy(), want)


def test_builtin_sum_of_booleans_is_refused():
    source = "import numpy as np\n\n\ndef f(x):\n    return sum(r > 0 for r in x)\n"
    with pytest.raises(Refusal, match="builtin `sum` of booleans"):
        convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)})
