"""tf.map_fn bodies written for the whole batch (rewriter/map_bodies.py): the same values and
gradients as the original map_fn, no loop left, and tf.vectorized_map with the reason where
some operation has no batching rule."""
import textwrap

import numpy as np
import pytest

from rewriter.pipeline import rewrite_source
from graph_ops import LOOP_OPS, graph_ops

BOX = """\
    IMG_H, IMG_W = 600.0, 800.0


    def clip_box(box):
        ymin = tf.clip_by_value(box[0], 0.0, IMG_H)
        xmin = tf.clip_by_value(box[1], 0.0, IMG_W)
        ymax = tf.clip_by_value(box[2], 0.0, IMG_H)
        xmax = tf.clip_by_value(box[-1], 0.0, IMG_W)
        area = tf.maximum(ymax - ymin, 0.0) * tf.maximum(xmax - xmin, 0.0)
        return tf.stack([ymin, xmin, ymax, xmax]), area


    def program(boxes):
        return tf.map_fn(clip_box, boxes, fn_output_signature=(DTYPE, DTYPE))
    """

ELU = """\
    ALPHA = 1.7


    def elu_one(v):
        return tf.cond(v > 0.0, lambda: v, lambda: ALPHA * (tf.exp(v) - 1.0))


    def program(x):
        return tf.map_fn(elu_one, x)
    """

LOG_OR_SCALE = """\
    def row(v):
        total = tf.reduce_sum(v, axis=0)
        return tf.cond(total > 0.0, lambda: tf.math.log(v * v) * total, lambda: v * 2.0 - total)


    def program(x):
        return tf.map_fn(row, x)
    """

MATRIX = """\
    def helper(a, b):
        return tf.abs(a - b) + 1.0


    def per_matrix(m):
        rows = tf.reduce_max(m, axis=-1)
        return tf.stack([helper(m[0], m[1]), tf.reduce_sum(m, axis=0) * 0.5, rows[0] + m[2] + tf.norm(m)], axis=1)


    def program(x):
        return tf.map_fn(per_matrix, x)
    """

INTEGER = """\
    def mix(v):
        total = v[0] + v[1] * 3
        total += v[2] // 2
        return tf.stack([total, tf.maximum(v[2], total), v[1] * 2])


    def program(x):
        return tf.map_fn(mix, x)
    """


def module(body: str, signature: str = "", dtype: str = "tf.float32") -> str:
    text = "import tensorflow as tf\n\n" + textwrap.dedent(body).replace("DTYPE", dtype)
    if signature:
        text = text.replace("def program(", f"@tf.function(input_signature=[tf.TensorSpec({signature}, "
                                             f"{dtype})])\ndef program(")
    return text


def both(tmp_path, source):
    """The original and rewritten `program`, and the rewritten source."""
    result = rewrite_source(source, "m.py")
    assert [c.status for c in result.conversions] == ["converted"], result.conversions
    programs = []
    for tag, text in (("original", source), ("rewritten", result.new)):
        namespace = {}
        path = tmp_path / f"{tag}.py"
        path.write_text(text)
        exec(compile(text, str(path), "exec"), namespace)
        programs.append(namespace["program"])
    return programs[0], programs[1], result


def values_and_gradients(tf, program, x):
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = program(variable)
        outputs = out if isinstance(out, tuple) else (out,)
        # weights 1, 2, 3, ... tell the entries apart in the gradient
        total = sum(tf.reduce_sum(o * tf.reshape(tf.cast(tf.range(1, tf.size(o) + 1), o.dtype), tf.shape(o)))
                    if o.dtype.is_floating else 0.0 for o in outputs)
    gradient = tape.gradient(total, variable) if x.dtype.kind == "f" else None
    return [o.numpy() for o in outputs], None if gradient is None else gradient.numpy()


def assert_same(tf, original, rewritten, x, rtol=1e-6):
    want, want_grad = values_and_gradients(tf, original, x)
    have, have_grad = values_and_gradients(tf, rewritten, x)
    for w, h in zip(want, have):
        assert h.dtype == w.dtype
        if w.size:
            assert h.shape == w.shape
        np.testing.assert_allclose(h, w, rtol=rtol, atol=0)
    if want_grad is not None:
        np.testing.assert_allclose(have_grad, want_grad, rtol=rtol, atol=0)


def boxes(n, dtype):
    rng = np.random.default_rng(n)
    centre = rng.uniform(-50, 850, (n, 2))
    size = rng.uniform(5, 300, (n, 2))
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("signature", ["", "[None, 4]"])
def test_box_body_with_tuple_output_is_written_for_the_batch(tf, tmp_path, dtype, signature):
    original, rewritten, result = both(tmp_path, module(BOX, signature, f"tf.{dtype}"))
    assert "map_fn" not in result.new and "vectorized_map" not in result.new
    assert "[:, -1]" in result.new and "axis=1" in result.new
    assert result.conversions[0].assumed == "body written for the whole batch"
    for n in (7, 1):
        assert_same(tf, original, rewritten, boxes(n, dtype))
    empty = rewritten(np.zeros((0, 4), dtype))
    assert empty[0].shape == (0, 4) and empty[1].shape == (0,)


EXTREMES = [0.0, -0.0, 100.0, -100.0, 1e-3, -1e-3, 3.5, -2.0, 89.0, -89.0, np.inf, -np.inf]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("signature", ["", "[None]"])
def test_cond_becomes_a_selection_exact_in_values_and_gradients(tf, tmp_path, dtype, signature):
    """exp(100.) overflows in float32 in the branch that is not selected: its gradient must not
    leak into the selected one (a plain tf.where would give 0 * inf = NaN there)."""
    original, rewritten, result = both(tmp_path, module(ELU, signature, f"tf.{dtype}"))
    rewritten_program = result.new.split("def program")[1]
    assert "> 0.0" in rewritten_program and "tf.cond" not in rewritten_program and "map_fn" not in result.new
    x = np.array(EXTREMES, dtype)
    assert_same(tf, original, rewritten, x)
    want, want_grad = values_and_gradients(tf, original, x)
    assert np.isfinite(want_grad).all()  # the case the selection must keep finite
    # NaN goes to the else branch in both; its gradient is NaN in both
    nan = np.array([np.nan, 1.0], dtype)
    np.testing.assert_array_equal(values_and_gradients(tf, rewritten, nan)[1],
                                  values_and_gradients(tf, original, nan)[1])
    assert rewritten(np.zeros((0,), dtype)).shape == (0,)


def test_cond_rewrite_as_emitted(tf, tmp_path):
    source = module(ELU, "[None]")
    _, _, result = both(tmp_path, source)
    before = "    return tf.map_fn(elu_one, x)\n"
    after = ("    x_positive = x > 0.0\n"
             "    return tf.where(\n"
             "        x_positive, x, ALPHA * (tf.exp(tf.where(x_positive, tf.zeros_like(x), x)) - 1.0)\n"
             "    )\n")
    assert before in source and result.new == source.replace(before, after)


def test_locals_keep_their_names_unless_that_would_shadow_a_name_read(tf, tmp_path):
    source = module(BOX, "[None, 4]")
    _, _, result = both(tmp_path, source)
    before = "    return tf.map_fn(clip_box, boxes, fn_output_signature=(tf.float32, tf.float32))\n"
    after = ("    ymin = tf.clip_by_value(boxes[:, 0], 0.0, IMG_H)\n"
             "    xmin = tf.clip_by_value(boxes[:, 1], 0.0, IMG_W)\n"
             "    ymax = tf.clip_by_value(boxes[:, 2], 0.0, IMG_H)\n"
             "    xmax = tf.clip_by_value(boxes[:, -1], 0.0, IMG_W)\n"
             "    area = tf.maximum(ymax - ymin, 0.0) * tf.maximum(xmax - xmin, 0.0)\n"
             "    return (tf.stack([ymin, xmin, ymax, xmax], axis=1), area)\n")
    assert before in source and result.new == source.replace(before, after)
    # a local named as the mapped tensor: bound by that name, it would hide the tensor
    shadowing = source.replace("ymin", "boxes")
    original, rewritten, result = both(tmp_path, shadowing)
    assert "    boxes = " not in result.new.split("def program")[1]
    assert_same(tf, original, rewritten, boxes(5, "float32"))


def test_cond_on_vectors_masks_each_branch(tf, tmp_path):
    """A per-row predicate selecting between row-valued branches: log of the rows the other
    branch takes (negative, zero) is NaN or -inf there and must not reach values or gradients."""
    original, rewritten, result = both(tmp_path, module(LOG_OR_SCALE, "[None, 3]"))
    assert "tf.reshape(" in result.new and "map_fn" not in result.new
    x = np.array([[1.0, 2.0, 3.0], [-1.0, -2.0, 0.5], [0.0, 0.0, 0.0], [4.0, 0.0, 1.0]], np.float32)
    assert_same(tf, original, rewritten, x)
    assert np.isfinite(values_and_gradients(tf, rewritten, x[:2])[1]).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matrix_elements_with_helper_reductions_and_axes(tf, tmp_path, dtype):
    original, rewritten, result = both(tmp_path, module(MATRIX, "[None, 3, 5]", f"tf.{dtype}"))
    assert "axis=2" in result.new and "axis=-1" in result.new and "map_fn" not in result.new
    x = np.random.default_rng(3).standard_normal((6, 3, 5)).astype(dtype)
    assert_same(tf, original, rewritten, x, rtol=1e-6)
    assert rewritten(np.zeros((0, 3, 5), dtype)).shape == (0, 5, 3)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "float32"])
def test_integer_elements(tf, tmp_path, dtype):
    original, rewritten, result = both(tmp_path, module(INTEGER, "", f"tf.{dtype}"))
    assert "map_fn" not in result.new
    x = np.random.default_rng(5).integers(0 if dtype == "uint8" else -50, 50, (9, 3)).astype(dtype)
    assert_same(tf, original, rewritten, x)


def test_runs_under_tf_function_and_in_dataset_map(tf, tmp_path):
    original, rewritten, _ = both(tmp_path, module(ELU))
    x = np.array(EXTREMES[:10] * 3, np.float32).reshape(5, 6)
    dataset = tf.data.Dataset.from_tensor_slices(x)
    want = np.stack([e.numpy() for e in dataset.map(original)])
    have = np.stack([e.numpy() for e in dataset.map(rewritten)])
    np.testing.assert_allclose(have, want, rtol=1e-6)
    traced = tf.function(rewritten)
    np.testing.assert_allclose(traced(x[0]).numpy(), want[0], rtol=1e-6)
    assert not graph_ops(traced.get_concrete_function(tf.TensorSpec([None], tf.float32))) & LOOP_OPS


FALLBACKS = {
    "an op without a rule": ("def f(v):\n    return tf.linalg.matvec(tf.eye(4), v) + v\n",
                             "`tf.linalg.matvec` has no batching rule"),
    "a scalar against a vector of the element in a call": ("def f(v):\n    return tf.maximum(v, v[0])\n",
                                                           "combines values of different shapes"),
    "a tuple output the map does not declare": ("def f(v):\n    return v * 2.0, v[0]\n",
                                                "outputs do not match the map's output signature"),
    "a tensor constant": ("def f(v):\n    return v * SCALE\n", "`SCALE` is not a number"),
    "a number shadowed where the map is called": ("def f(v):\n    return v * ALPHA\n",
                                                  "`ALPHA` names a local where the map is called"),
}


@pytest.mark.parametrize("body, reason", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_ops_without_a_rule_keep_vectorized_map_and_say_which(tf, tmp_path, body, reason):
    source = ("import tensorflow as tf\n\nSCALE = tf.constant(2.0)\nALPHA = 1.5\n\n\n" + body +
              "\n\n@tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])\n"
              "def program(x):\n    ALPHA = 3.0\n    return tf.map_fn(f, x) * ALPHA\n")
    result = rewrite_source(source, "m.py")
    (conversion,) = result.conversions
    assert conversion.status == "converted" and "tf.vectorized_map(f, x)" in result.new
    assert conversion.assumed.startswith("mapped with tf.vectorized_map: ") and reason in conversion.assumed


ROW_CASES = {
    "a cond on one entry of each row": "tf.cond(v[0] > 0.0, lambda: v, lambda: tf.sqrt(-v) - v[1])",
    "a scalar of the row against the row": "v * v[0] - tf.reduce_max(v, axis=0)",
    "the norm of the row": "v / tf.maximum(tf.norm(v), 1e-12)",
}


@pytest.mark.parametrize("expression", ROW_CASES.values(), ids=ROW_CASES.keys())
def test_per_row_scalars_broadcast_against_the_row(tf, tmp_path, expression):
    """Per row, a scalar broadcasts against the row; for the batch it gets a trailing unit axis."""
    source = module(f"def f(v):\n    return {expression}\n\n\ndef program(x):\n    return tf.map_fn(f, x)\n",
                    "[None, 4]")
    original, rewritten, result = both(tmp_path, source)
    assert "tf.reshape(" in result.new and "map_fn" not in result.new
    x = np.random.default_rng(2).standard_normal((6, 4)).astype(np.float32)
    x[3] = 0.0  # a zero row: the norm's gradient there is NaN in both
    assert_same(tf, original, rewritten, x)


@pytest.mark.parametrize("body, signature", [(BOX, "[None, 4]"), (LOG_OR_SCALE, "[None, 3]")], ids=["tuple", "cond"])
def test_verify_probes_the_declared_shape_and_keeps_the_output_signature(tf, tmp_path, body, signature):
    """--verify runs the map_fn call as written (its fn_output_signature too) on inputs of the
    declared shape: the batched body relies on the element's declared rank."""
    from rewriter.verify_sites import make_verifier

    path = str(tmp_path / "m.py")
    result = rewrite_source(module(body, signature), path, verifier=make_verifier(path))
    (conversion,) = result.conversions
    assert conversion.status == "converted" and conversion.verification["ok"], conversion.reason
    assert "map_fn" not in result.new
