"""Defs inside a wrapped NumPy function (issue 13 item 4): lifted when apply_along_axis or
np.vectorize takes them, kept as TF defs when called, reading the enclosing function's locals
as Python does (when they run). The rewritten program must return what the original returns
for every input it accepts, eagerly, under tf.function and in Dataset.map; what a nested def
can do that a call cannot show is refused with its reason."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from program_runs import load_rewritten, mismatch, outcome, variants_of
from rewriter import autograph_numpy
from rewriter import facts as F
from rewriter.function import convert_function
from rewriter.pipeline import rewrite_source

# name -> (the NumPy function, named `features`, and a sample input)
PROGRAMS = {
    "apply_along_axis_of_a_def_and_a_clipping_closure": ("""\
        def features(x):
            floor = x.mean()

            def energy(row):
                return np.sum(row ** 2)

            def clip(v):
                return np.maximum(v, floor)

            return np.apply_along_axis(energy, 1, clip(x)).astype(np.float32)
        """, np.array([[1.0, -2.0, 3.5, 0.25], [4.0, 0.5, -1.0, 2.0], [0.0, 1.5, 2.5, -3.0]], np.float32)),
    "apply_along_axis_of_a_two_statement_def_kept_and_called_on_the_rows": ("""\
        def features(x):
            floor = x.std()

            def energy(row):
                centered = row - row.mean()
                return np.sum(np.maximum(centered, floor) ** 2)

            return np.apply_along_axis(energy, 1, x).astype(np.float32)
        """, np.array([[1.0, -2.0, 3.5, 0.25], [4.0, 0.5, -1.0, 2.0], [0.0, 1.5, 2.5, -3.0]], np.float32)),
    "vectorize_of_a_def_reading_a_gain": ("""\
        def features(x):
            gain = 1.0 / (x.std() + 1e-6)

            def squash(v):
                return np.tanh(v * gain)

            return np.vectorize(squash)(x).astype(np.float32)
        """, np.array([[1.0, -2.0, 3.5], [4.0, 0.5, -1.0]], np.float32)),
    "vectorize_of_a_two_statement_def": ("""\
        def features(x):
            gain = 1.0 / (x.std() + 1e-6)

            def squash(v):
                scaled = v * gain
                return scaled / (1.0 + np.abs(scaled))

            return np.vectorize(squash)(x).astype(np.float32)
        """, np.array([[1.0, -2.0, 3.5], [4.0, 0.5, -1.0]], np.float32)),
    "comprehension_over_rows_of_a_two_statement_def": ("""\
        def features(x):
            scale = np.abs(x).max() + 1.0

            def peak(row):
                centered = row - row.mean()
                return np.max(np.abs(centered)) / scale

            return np.array([peak(r) for r in x]).astype(np.float32)
        """, np.array([[1.0, -2.0, 3.5], [4.0, 0.5, -1.0], [0.0, 0.0, 2.0]], np.float32)),
    "comprehension_of_a_def_mapped_row_by_row": ("""\
        def features(x):
            def second_largest(row):
                return np.sort(row)[-2]

            return np.array([second_largest(r) for r in x]).astype(np.float32)
        """, np.array([[1.0, -2.0, 3.5], [4.0, 0.5, -1.0], [0.0, 0.0, 2.0]], np.float32)),
    "closure_rebound_between_two_calls": ("""\
        def features(x):
            offset = x.min()

            def shift(v):
                return v - offset

            low = shift(x)
            offset = x.max()
            return (low + shift(x)).astype(np.float32)
        """, np.array([[1.0, -2.0], [4.0, 0.5]], np.float32)),
}

DTYPES = ("uint8", "int16", "int32", "float32", "float64")


def _program_text(body: str) -> str:
    return (f"import numpy as np\nimport tensorflow as tf\n\n\n{textwrap.dedent(body)}\n\n"
            "def program(x):\n    return tf.numpy_function(features, [x], tf.float32)\n")


def _inputs(sample):
    """The sample in each dtype of real pipelines, with no rows, and in the other ranks and
    dtypes a caller could feed."""
    out = []
    for dtype in DTYPES:
        values = sample if np.dtype(dtype).kind == "f" else np.clip(np.round(sample * 10), 0, 100)
        out.append((dtype, values.astype(dtype)))
        out.append((f"{dtype}, no rows", values[:0].astype(dtype)))
    return out + variants_of(sample)


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """name -> (original module, rewritten module, rewrite result)."""
    texts = {name: _program_text(body) for name, (body, _) in PROGRAMS.items()}
    return load_rewritten(tmp_path_factory.mktemp("nested"), texts)


@pytest.mark.parametrize("name", PROGRAMS)
def test_converts_and_a_second_run_changes_nothing(programs, name):
    _, _, result = programs[name]
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    assert rewrite_source(result.new, f"{name}.py").new == result.new


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_input_gives_the_originals_result_eagerly(programs, name):
    original, rewritten, _ = programs[name]
    problems = [f"{label}: {problem}" for label, value in _inputs(PROGRAMS[name][1])
                if (problem := mismatch(outcome(original.program, value), outcome(rewritten.program, value)))]
    assert not problems, problems


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_input_gives_the_originals_result_under_tf_function(tf, programs, name):
    original, rewritten, _ = programs[name]
    traced_original, traced_rewritten = tf.function(original.program), tf.function(rewritten.program)
    problems = [f"{label}: {problem}" for label, value in _inputs(PROGRAMS[name][1])
                if (problem := mismatch(outcome(traced_original, value), outcome(traced_rewritten, value)))]
    assert not problems, problems


@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_in_dataset_map(tf, programs, dtype):
    original, rewritten, _ = programs["apply_along_axis_of_a_def_and_a_clipping_closure"]
    clips = (np.random.default_rng(0).standard_normal((5, 3, 4)) * 30).astype(dtype)

    def mapped(program):
        return np.stack([y.numpy() for y in tf.data.Dataset.from_tensor_slices(clips).map(program)])

    want, got = mapped(original.program), mapped(rewritten.program)
    # float32 sums of squares: NumPy and TF add in different orders
    assert got.dtype == want.dtype and np.allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("name, dtypes", [
    ("apply_along_axis_of_a_def_and_a_clipping_closure", ("float32", "float64", "uint8")),
    ("comprehension_over_rows_of_a_two_statement_def", ("float32", "float64")),  # its ranks fill the branches
])
def test_the_rewrite_is_native_for_the_common_dtypes(tf, programs, name, dtypes):
    from rewriter.corpus import CALLBACK_OPS

    _, rewritten, _ = programs[name]
    for dtype in dtypes:
        graph = tf.function(rewritten.program).get_concrete_function(tf.TensorSpec([None, 4], dtype)).graph
        assert not {op.type for op in graph.get_operations()} & CALLBACK_OPS, dtype


def test_a_def_only_the_vectorizer_used_is_gone_and_a_called_def_stays(programs):
    new = programs["apply_along_axis_of_a_def_and_a_clipping_closure"][2].new
    rewritten = new[new.index("def features_tf"):]
    assert "def energy" not in rewritten and "def clip(v):" in rewritten and "tf.maximum(v, floor)" in rewritten


def test_a_def_mapped_row_by_row_is_handed_to_vectorized_map_itself(programs):
    new = programs["comprehension_of_a_def_mapped_row_by_row"][2].new
    assert "tf.vectorized_map(second_largest, x)" in new and "lambda" not in new


HUBER_LOSS = """\
import numpy as np


def loss(pred, target):
    def huber(d):
        a = np.abs(d)
        return np.where(a < 1.0, 0.5 * d ** 2, a - 0.5)

    return np.mean(huber(pred - target))
"""


def test_gradient_flows_through_a_nested_def_loss(tf):
    rng = np.random.default_rng(3)
    pred, target = rng.standard_normal(6) * 2, rng.standard_normal(6)
    converted = convert_function(HUBER_LOSS, "loss", {n: F.array(np.float64, 1, fresh=False) for n in ("pred", "target")})
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    original = {}
    exec(HUBER_LOSS, original)
    variable = tf.Variable(pred)
    with tf.GradientTape() as tape:
        value = namespace["loss"](variable, tf.constant(target))
    got = tape.gradient(value, variable).numpy()
    step = 1e-6  # central differences of the original, in float64
    want = np.array([(original["loss"](pred + step * e, target) - original["loss"](pred - step * e, target)) / (2 * step)
                     for e in np.eye(len(pred))])
    assert np.isclose(value.numpy(), original["loss"](pred, target))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)


REFUSED = {
    "default value": ("def f(v, k=2.0):\n    return v * k\n\nreturn f(x)", "has default values"),
    "*args": ("def f(*v):\n    return v[0]\n\nreturn f(x)", "*args"),
    "decorator": ("@staticmethod\ndef f(v):\n    return v\n\nreturn f(x)", "has decorators"),
    "recursion": ("def f(v):\n    return f(v[1:]) if len(v) else v\n\nreturn f(x)", "recursion"),
    "nonlocal": ("k = 1.0\n\ndef f(v):\n    nonlocal k\n    k = 2.0\n    return v * k\n\nreturn f(x)", "`nonlocal`"),
    "global": ("def f(v):\n    global K\n    return v * K\n\nreturn f(x)", "`global`"),
    "returned": ("def f(v):\n    return v * 2\n\nreturn f", "returned or stored"),
    "stored": ("def f(v):\n    return v * 2\n\nfs = [f]\nreturn fs[0](x)", "returned or stored"),
    "in a loop": ("for _ in range(2):\n    def f(v):\n        return v * 2\nreturn f(x)", "inside a loop"),
    "calls another nested def": ("def g(v):\n    return v * 2\n\ndef f(v):\n    return g(v) + 1\n\nreturn f(x)",
                                 "uses nested def `g`"),
    "two rewrites": ("def f(v):\n    return np.sqrt(v)\n\nreturn f(x) + f(x.astype(np.int32))",
                     "one def cannot hold both rewrites"),
    "a branching def run per row": ("def f(row):\n    if row.sum() > 0:\n        return row.max()\n    return row.min()\n\n"
                                    "return np.apply_along_axis(f, 0, x[None]).astype(np.float64)",  # the reason survives `.astype`
                                    "not run per row or per element"),
    "closure rebound to another dtype between calls": ("k = x.mean()\n\ndef f(v):\n    return v + k\n\n"
                                                       "a = f(x)\nk = x.astype(np.int32)\nreturn a + f(x)",
                                                       "one def cannot hold both rewrites"),
    "closure shadowed by a comprehension": ("r = x.mean()\n\ndef f(v):\n    return v * r\n\n"
                                            "return np.array([f(r) for r in x])", "`r` names both"),
}


@pytest.mark.parametrize("body, reason", REFUSED.values(), ids=REFUSED.keys())
def test_what_a_call_cannot_show_is_refused_with_its_reason(body, reason):
    source = ("import numpy as np\nimport tensorflow as tf\n\nK = 2.0\n\n\ndef features(x):\n"
              + textwrap.indent(body, "    ") + "\n\n\ndef program(x):\n"
              "    return tf.numpy_function(features, [x], tf.float64)  # rewriter: args=float64[None]\n")
    result = rewrite_source(source, "case.py")
    assert result.new == source
    assert [c.status for c in result.conversions] == ["left"]
    assert reason in result.conversions[0].reason, result.conversions[0].reason


SHADOWED_GLOBAL = """\
import numpy as np
import tensorflow as tf

k = 2.0


def energy(row):
    return np.sum(row * k)


def features(x):
    k = x.astype(np.float64)
    return np.apply_along_axis(energy, 1, x) + k.sum()


def program(x):
    return tf.numpy_function(features, [x], tf.float64)  # rewriter: args=float64[None,None]
"""


def test_a_body_is_not_written_where_a_local_means_another_value_than_its_global():
    """`energy`'s `k` is the global 2.0; written into `features`, it would read the local array."""
    result = rewrite_source(SHADOWED_GLOBAL, "case.py")
    assert [c.status for c in result.conversions] == ["left"]
    assert "`k` in the function passed here means something else" in result.conversions[0].reason


@autograph_numpy
def gated_energy(x):
    floor = x.mean()

    def gate(v):
        return np.maximum(v, floor)

    def energy(row):
        centered = row - row.mean()
        return np.sum(centered ** 2)

    return np.apply_along_axis(energy, 1, gate(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_decorator_converts_nested_defs_and_gradients_flow(tf, dtype):
    x = (np.random.default_rng(5).standard_normal((4, 6)) * 3).astype(dtype)
    got = gated_energy(x)
    want = gated_energy.original(x)
    assert gated_energy.report[-1]["status"] == "converted", gated_energy.report
    assert got.dtype == tf.as_dtype(want.dtype)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5 if dtype == "float32" else 1e-12)
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(gated_energy(variable))
    gradient = tape.gradient(loss, variable).numpy()
    if dtype == "float64":  # against central differences of the original
        step = 1e-6

        def total(v):
            return gated_energy.original(v).sum()

        want = np.array([(total(x + step * e) - total(x - step * e)) / (2 * step)
                         for e in np.eye(x.size).reshape(-1, *x.shape)]).reshape(x.shape)
        np.testing.assert_allclose(gradient, want, rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(gradient))
