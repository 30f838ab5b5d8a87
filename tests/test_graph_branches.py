"""A rewritten function that branches or loops on a tensor compiles only through AutoGraph. A
Keras layer's `call`, or a `Dataset.map` whose pipeline is built inside a `tf.function`, traces
the functions it calls without AutoGraph, where the original (NumPy behind numpy_function) ran.
Such functions are emitted converted by AutoGraph when they are defined (`@autograph_converted`,
a helper around tf.autograph.to_graph),
so their branches are graph ops wherever they are traced, and eager calls stay eager; these tests
run each program in those places and compare it with the original."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from program_runs import load_numpy_function_programs, load_rewritten, mismatch, outcome
from rewriter.pipeline import rewrite_source

_HEAD = "import numpy as np\nimport tensorflow as tf\n\n\n"

# name -> (the NumPy function, Tout, a sample input); each branches or loops on its data
PROGRAMS = {
    "if_on_a_sum": ("""\
        def rescale(x):
            if x.sum() > 0:
                x = x * 2.0
            return x.astype(np.float32)
        """, "tf.float32", np.array([[1.0, -0.5], [2.0, 0.25]], np.float32)),
    "if_else_on_a_max": ("""\
        def clip_peaks(frame):
            peak = np.abs(frame).max()
            if peak > 1.0:
                out = frame / peak
            else:
                out = frame
            return out.astype(np.float32)
        """, "tf.float32", np.array([0.5, -3.0, 2.0], np.float32)),
    "while_on_a_value": ("""\
        def doubled_until_large(x):
            total = x.sum()
            while total < 100.0:
                total = total * 2.0
            return np.float32(total)
        """, "tf.float32", np.array([1.5, 2.0], np.float32)),
    "loop_over_a_length": ("""\
        def triangle(x):
            out = np.zeros_like(x)
            for i in range(len(x)):
                out = out + x * i
            return out.astype(np.float32)
        """, "tf.float32", np.array([1.0, 2.0, 4.0], np.float32)),
}


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    return load_numpy_function_programs(tmp_path_factory.mktemp("graph_branches"), PROGRAMS)


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_function_branching_on_a_tensor_is_converted_by_autograph_once(programs, name):
    result = programs[name][2]
    (conversion,) = result.conversions
    assert conversion.status == "converted", conversion.reason
    assert "@autograph_converted\ndef " in result.new
    assert any(note.startswith("converted by AutoGraph at import (tf.autograph.to_graph): line ") for note in conversion.notes), conversion.notes


@pytest.mark.parametrize("name", PROGRAMS)
def test_runs_where_autograph_is_off_as_the_original_does(tf, programs, name):
    """`tf.function(..., autograph=False)` traces the program as a Keras layer or a nested
    Dataset.map does: the caller is not converted."""
    original, rewritten, _ = programs[name]
    value = PROGRAMS[name][2]
    for wrap in (lambda f: f, tf.function, lambda f: tf.function(f, autograph=False)):
        problem = mismatch(outcome(wrap(original.program), value), outcome(wrap(rewritten.program), value))
        assert not problem, problem


def test_dataset_built_inside_a_tf_function(tf, programs):
    original, rewritten, _ = programs["if_else_on_a_max"]
    frames = np.array([[0.5, -3.0, 2.0], [0.1, 0.2, -0.3]], np.float32)

    def first_batch(program):
        @tf.function
        def run(data):
            return tf.data.Dataset.from_tensor_slices(data).map(lambda v: program(v)).batch(2).get_single_element()
        return run(frames).numpy()

    np.testing.assert_array_equal(first_batch(rewritten.program), first_batch(original.program))


def test_inside_a_keras_layer(tf, programs):
    original, rewritten, _ = programs["if_on_a_sum"]
    x = np.array([[1.0, -0.5], [-2.0, 0.25]], np.float32)

    def predicted(program):
        class Rescale(tf.keras.layers.Layer):
            def call(self, inputs):
                out = program(inputs)
                out.set_shape(inputs.shape)
                return out

        model = tf.keras.Sequential([tf.keras.Input((2,)), Rescale()])
        return model.predict(x, verbose=0)

    np.testing.assert_array_equal(predicted(rewritten.program), predicted(original.program))


def test_random_flip_in_a_dataset_built_inside_a_tf_function(tf, tmp_path):
    """The corpus's augmentation, as people chain it: NumPy draws decide a flip."""
    text = _HEAD + textwrap.dedent("""\
        def augment(img):
            if np.random.rand() < 0.5:
                img = img[:, ::-1, :]
            return np.clip(img + np.random.uniform(-0.2, 0.2), 0.0, 1.0)


        def program(image):
            out = tf.numpy_function(augment, [image], tf.float32)
            out.set_shape(image.shape)
            return out
        """)
    _, rewritten, result = load_rewritten(tmp_path, {"flip": text})["flip"]
    assert "@autograph_converted\ndef augment_tf(img):" in result.new
    images = (0.3 + 0.4 * np.random.default_rng(0).random((4, 5, 6, 3))).astype(np.float32)  # never clipped

    @tf.function
    def run(data):
        return tf.data.Dataset.from_tensor_slices(data).map(rewritten.program).batch(4).get_single_element()

    out = run(images).numpy()
    flipped = [np.allclose(o - o.mean(), i - i.mean(), atol=1e-5) or
               np.allclose(o - o.mean(), i[:, ::-1] - i[:, ::-1].mean(), atol=1e-5) for o, i in zip(out, images)]
    assert out.shape == images.shape and all(flipped)


def test_a_function_without_tensor_branches_stays_a_plain_function():
    text = _HEAD + textwrap.dedent("""\
        def prepare(x):
            if x.ndim == 3:
                x = x[None]
            for k in range(2):
                x = x + k
            return x.astype(np.float32)


        def program(x):
            return tf.numpy_function(prepare, [x], tf.float32)
        """)
    result = rewrite_source(text, "plain.py")
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    assert "@tf.autograph" not in result.new
    assert not any("AutoGraph" in note for note in result.conversions[0].notes)


def test_rewritten_in_place_the_decorator_goes_above_the_def():
    """A declared site rewrites the function itself: the decorator goes on it."""
    text = _HEAD + textwrap.dedent("""\
        def grow(x):
            total = x.sum()
            while total < 100.0:
                total = total * 2.0
            return total


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def program(x):
            return tf.numpy_function(grow, [x], tf.float32)
        """)
    result = rewrite_source(text, "in_place.py")
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    assert "\n\n\n@autograph_converted\ndef grow(x):\n" in result.new, result.new
    assert rewrite_source(result.new, "in_place.py").new == result.new  # a second run changes nothing


def test_a_lambda_branching_on_a_tensor_is_left():
    text = _HEAD + "def program(x):\n    return tf.numpy_function(lambda v: v * (v.sum() if float(v.max()) else v.min()), [x], tf.float64)\n"
    result = rewrite_source(text, "lam.py")
    (conversion,) = result.conversions
    assert (conversion.status, conversion.code) == ("left", "RW111"), conversion.reason
    assert result.new == text


def test_a_helper_branching_on_a_tensor_is_converted_itself(tf, tmp_path):
    """Traced without AutoGraph, a converted caller does not convert the functions it calls:
    the helper's copy carries the decorator, the caller (no branch of its own) none."""
    text = _HEAD + textwrap.dedent("""\
        def _unit_peak(x):
            if np.abs(x).max() > 1.0:
                x = x / np.abs(x).max()
            return x


        def prepare(x):
            return (_unit_peak(x) * 2).astype(np.float32)


        def program(x):
            return tf.numpy_function(prepare, [x], tf.float32)
        """)
    original, rewritten, result = load_rewritten(tmp_path, {"helper": text})["helper"]
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    assert "@autograph_converted\ndef _unit_peak_tf(x):" in result.new
    assert result.new.count("@autograph_converted\n") == 1
    for value in (np.array([0.5, -3.0], np.float32), np.array([[0.25]], np.float64)):
        for wrap in (lambda f: f, lambda f: tf.function(f, autograph=False)):
            problem = mismatch(outcome(wrap(original.program), value), outcome(wrap(rewritten.program), value))
            assert not problem, problem


def test_an_early_return_on_a_tensor_keeps_one_body_at_the_top(tf, tmp_path):
    """AutoGraph compiles `if t: return ...` at the top of a function, not nested in a dispatch's
    branch on the dtype: such a site gets one body, and other dtypes run the original."""
    text = _HEAD + textwrap.dedent("""\
        def doubled_if_positive(x):
            if x.sum() > 0:
                return (x * 2).astype(np.float32)
            return x.astype(np.float32)


        def program(x):
            return tf.numpy_function(doubled_if_positive, [x], tf.float32)
        """)
    original, rewritten, result = load_rewritten(tmp_path, {"early": text})["early"]
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    copy = result.new.split("def doubled_if_positive_tf(x):\n", 1)[1]
    assert copy.startswith("    if x.dtype not in (") and "\n    if tf.reduce_sum(x) > 0:\n        return " in copy
    for value in (np.array([1.0, -0.5], np.float32), np.array([-3, 1], np.int32), np.array([2, 1], np.uint8)):
        for wrap in (lambda f: f, tf.function, lambda f: tf.function(f, autograph=False)):
            problem = mismatch(outcome(wrap(original.program), value), outcome(wrap(rewritten.program), value))
            assert not problem, problem
