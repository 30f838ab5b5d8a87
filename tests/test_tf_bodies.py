"""Wrappers whose body is already TensorFlow: a loss written with tf.reduce_sum inside
tf.numpy_function, tf.signal.stft(...).numpy() then NumPy in a py_function. The TF calls stay;
their results are TF tensors in the original, so operators on them follow TF's rules (no
promotion, raising where TF raises), and the rewrite must do what the original did for every
input dtype and rank: eagerly, under tf.function and in Dataset.map. Once unwrapped, gradients
flow where the wrapper blocked them, and the report says so."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from program_runs import load_module, load_rewritten, mismatch, outcome, variants_of
from rewriter.convert import GRADIENT_NOTE
from rewriter.pipeline import rewrite_source
from test_fix_sites import FIXES

# name -> (the function, the wrapper, Tout, a sample input)
PROGRAMS = {
    "reduce_sum_then_python_floats": ("""\
        def energy(x):
            s = tf.reduce_sum(x * x)
            return np.float32(s / (s + 1.0))
        """, "numpy_function", "tf.float32", np.array([[0.5, 1.5], [2.0, -1.0]], np.float32)),
    "tf_max_divides_a_numpy_array": ("""\
        def normalize(x):
            peak = tf.reduce_max(x, axis=-1, keepdims=True)
            return np.float32(x / peak)
        """, "numpy_function", "tf.float32", np.array([[1.0, 4.0], [2.0, 8.0]], np.float32)),
    "keras_mean_of_squares": ("""\
        def mean_square(x):
            return K.mean(K.square(x), axis=-1) + K.epsilon()
        """, "numpy_function", "tf.float32", np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.0]], np.float32)),
    "stft_log_magnitude": ("""\
        def log_spec(x):
            s = tf.signal.stft(x, 8, 4).numpy()
            return np.log(np.abs(s) + 1e-6).astype(np.float32)
        """, "py_function", "tf.float32", np.sin(np.arange(32) / 3.0).astype(np.float32)),
    "rfft_magnitude_of_a_numpy_array": ("""\
        def magnitude(x):
            return np.abs(tf.signal.rfft(x).numpy())
        """, "numpy_function", "tf.float32", np.cos(np.arange(16) / 2.0).astype(np.float32)),
    "py_function_input_plus_a_python_float": ("""\
        def bump(x):
            return x * 2 + 1.5
        """, "py_function", "tf.float32", np.array([[0.5, 1.5], [2.0, -1.0]], np.float32)),
    "py_function_returns_a_tf_result": ("""\
        def flip(x):
            return abs(-x) * 3
        """, "py_function", "tf.float32", np.array([[0.5, -1.5], [2.0, -1.0]], np.float32)),
    "matmul_gram": ("""\
        def gram(x):
            g = tf.matmul(x, x, transpose_b=True)
            return np.float32(g / 2)
        """, "numpy_function", "tf.float32", np.array([[0.5, -1.5], [2.0, -1.0]], np.float32)),
    "numpy_total_plus_a_tf_result": ("""\
        def accumulate(x):
            total = np.zeros(x.shape)
            total += tf.nn.relu(x)
            return total
        """, "numpy_function", "tf.float32", np.array([[0.5, -1.5], [2.0, -1.0]], np.float32)),
    "label_shift": ("""\
        def shift(label):
            return label.numpy() - 3
        """, "py_function", "tf.int64", np.array([3, 5, 9], np.int64)),
}


def _program_text(body: str, wrapper: str, tout: str) -> str:
    name = body.split("def ", 1)[1].split("(", 1)[0]
    return (f"import numpy as np\nimport tensorflow as tf\nfrom tensorflow.keras import backend as K\n\n\n"
            f"{textwrap.dedent(body)}\n\ndef program(x):\n    return tf.{wrapper}({name}, [x], {tout})\n")


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """name -> (original module, rewritten module, rewrite result)."""
    return load_rewritten(tmp_path_factory.mktemp("tf_bodies"), {
        name: _program_text(body, wrapper, tout) for name, (body, wrapper, tout, _) in PROGRAMS.items()})


@pytest.mark.parametrize("name", PROGRAMS)
def test_converts_and_a_second_run_changes_nothing(programs, name):
    _, _, result = programs[name]
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    assert "raise" not in result.new
    assert rewrite_source(result.new, f"{name}.py").new == result.new


def _problems(original, rewritten, sample):
    problems = []
    for label, value in variants_of(sample):
        rtol = 2e-3 if value.dtype == np.float16 else 1e-5
        want, got = outcome(original, value), outcome(rewritten, value)
        problem = mismatch(want, got, rtol)
        if want[0] == "raised" and got[0] != "raised":  # TF's rules raised: no quiet promotion
            problem = f"the original raised {want[1]}, the rewrite ran"
        if problem:
            problems.append(f"{label}: {problem}")
    return problems


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_dtype_and_rank_gives_the_originals_result_eagerly(programs, name):
    original, rewritten, _ = programs[name]
    assert not _problems(original.program, rewritten.program, PROGRAMS[name][3])


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_dtype_gives_the_originals_result_under_tf_function(tf, programs, name):
    original, rewritten, _ = programs[name]
    assert not _problems(tf.function(original.program), tf.function(rewritten.program), PROGRAMS[name][3])


@pytest.mark.parametrize("name", ["stft_log_magnitude", "reduce_sum_then_python_floats"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dataset_map_gives_the_originals_result(tf, programs, name, dtype):
    original, rewritten, _ = programs[name]
    rows = np.random.default_rng(0).standard_normal((3, 32)).astype(dtype)

    def mapped(program):
        return np.stack([x.numpy() for x in tf.data.Dataset.from_tensor_slices(rows).map(program)])

    want, got = mapped(original.program), mapped(rewritten.program)
    assert got.dtype == want.dtype and np.allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_rewrite_is_native_for_float32(tf, programs, name):
    from rewriter.corpus import CALLBACK_OPS

    _, rewritten, _ = programs[name]
    sample = PROGRAMS[name][3]
    graph = tf.function(rewritten.program).get_concrete_function(
        tf.TensorSpec([None] * sample.ndim, tf.as_dtype(sample.dtype))).graph
    assert not {op.type for op in graph.get_operations()} & CALLBACK_OPS


def test_tf_rules_on_a_tf_result_divide_an_int_array_in_float32_or_float64(programs):
    """`x / peak` with peak a TF tensor is TF's `/`: uint8 and int16 give float32, int32 float64
    (NumPy would give float64 for all); np.float32 then rounds either way, so the outcome
    compared is the same: what matters is that no variant promotes the NumPy way."""
    original, rewritten, result = programs["tf_max_divides_a_numpy_array"]
    for dtype in ("uint8", "int16", "int32", "float64"):
        x = np.array([[1, 3], [2, 7]], dtype)
        assert not mismatch(outcome(original.program, x), outcome(rewritten.program, x)), dtype
    assert "tf.cast(x, tf.float64) / " not in result.new


def test_a_python_float_meeting_an_int_tf_result_raises_in_both(programs):
    """`s + 1.0` with s an int32 TF tensor raises in the original; the rewrite must not run."""
    original, rewritten, _ = programs["reduce_sum_then_python_floats"]
    x = np.array([1, 2], np.int32)
    assert outcome(original.program, x)[0] == "raised"
    assert outcome(rewritten.program, x)[0] == "raised"


def test_a_py_function_input_follows_tf_rules_not_numpys(programs):
    """py_function hands its function TF tensors: `x * 2 + 1.5` on an int32 one raises there
    (NumPy would give float64), so the rewrite must not quietly promote."""
    original, rewritten, result = programs["py_function_input_plus_a_python_float"]
    for dtype in ("int32", "int64", "uint8"):
        x = np.array([1, 2], dtype)
        assert outcome(original.program, x)[0] == "raised", dtype
        assert outcome(rewritten.program, x)[0] == "raised", dtype
    assert "tf.cast(x, tf.float64)" not in result.new
    assert outcome(original.program, np.array([1.0], np.float64))[0] == "raised"  # a float64 result is no Tout
    assert outcome(rewritten.program, np.array([1.0], np.float64))[0] == "raised"


def test_the_report_says_gradients_now_flow(programs):
    for name in ("reduce_sum_then_python_floats", "stft_log_magnitude", "keras_mean_of_squares"):
        (conversion,) = programs[name][2].conversions
        kind = PROGRAMS[name][1]
        assert GRADIENT_NOTE.format(kind=kind) in conversion.notes, (name, conversion.notes)
    (label_shift,) = programs["label_shift"][2].conversions  # an int64 output has no gradient anyway
    assert not any("gradients" in note for note in label_shift.notes)


def test_verbose_fix_prints_the_gradient_note(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "loss.py"
    path.write_text(_program_text(*PROGRAMS["reduce_sum_then_python_floats"][:3]))
    run = subprocess.run([sys.executable, "-m", "rewriter", "fix", str(path), "--diff", "-v"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert GRADIENT_NOTE.format(kind="numpy_function") in run.stdout + run.stderr


TVERSKY = textwrap.dedent(FIXES["tf-body-in-numpy-function"][0]).replace(
    "    # rewriter: args=float32[None, None], float32[None, None]\n", "")
"""The loss of the before/after example, with nothing declared."""


def test_the_rewritten_loss_has_the_gradient_of_a_hand_written_one(tf, tmp_path):
    result = rewrite_source(TVERSKY, "tversky.py")
    assert [c.status for c in result.conversions] == ["converted"]
    original, rewritten = load_module(tmp_path, TVERSKY), load_module(tmp_path, result.new)

    def reference(y_true, y_pred):
        tp = tf.reduce_sum(y_true * y_pred)
        fn = tf.reduce_sum(y_true * (1 - y_pred))
        fp = tf.reduce_sum((1 - y_true) * y_pred)
        return 1 - (tp + 1.0) / (tp + 0.7 * fn + 0.3 * fp + 1.0)

    rng = np.random.default_rng(3)
    y_true = tf.constant((rng.random((2, 8, 8)) > 0.5).astype(np.float32))
    y_pred = tf.Variable(rng.random((2, 8, 8)).astype(np.float32))

    def gradient(loss):
        with tf.GradientTape() as tape:
            value = loss(y_true, y_pred)
        return value, tape.gradient(value, y_pred)

    want_value, want_grad = gradient(reference)
    for loss in (rewritten.loss, tf.function(rewritten.loss)):
        value, grad = gradient(loss)
        np.testing.assert_allclose(value.numpy(), want_value.numpy(), rtol=1e-6)
        np.testing.assert_allclose(grad.numpy(), want_grad.numpy(), rtol=1e-5, atol=1e-7)
    assert gradient(original.loss)[1] is None  # what the note is about: numpy_function blocked it
