"""Loops whose body calls a helper defined in the same file: `for i in range(len(x)):
out[i] = standardize(x[i])`. The helper is lifted to all rows at once, and with nothing
declaring the input, every rank gets its own copy of the helper (a row of a matrix and a
row of a 3-d batch reduce over different axes)."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from program_runs import load_rewritten, mismatch, outcome
from rewriter.pipeline import rewrite_source

STANDARDIZE = """\
    def standardize(features):
        centered = features - features.mean()
        return centered / (features.std() + 1e-6)
    """

CENTER_THEN_SCALE = """\
    def center(v):
        return v - v.mean()


    def center_then_scale(row):
        centered = center(row)
        return centered / (np.sqrt((centered ** 2).mean()) + 1e-6)
    """

SHIFT_TO_ZERO = """\
    def shift_to_zero(row):
        return row - row.min()
    """


def _row_loop_program(helper: str, tout: str) -> str:
    name = helper.rsplit("def ", 1)[1].split("(", 1)[0]
    return textwrap.dedent(f"""\
        import numpy as np
        import tensorflow as tf


        {textwrap.dedent(helper).replace(chr(10), chr(10) + " " * 8).rstrip()}


        def per_row(batch):
            out = np.empty_like(batch)
            for i in range(len(batch)):
                out[i] = {name}(batch[i])
            return out


        def program(batch):
            return tf.numpy_function(per_row, [batch], {tout})
        """)


PROGRAMS = {
    "standardize-float32": (STANDARDIZE, "tf.float32", "float32"),
    "standardize-float64": (STANDARDIZE, "tf.float64", "float64"),
    "helper-calling-a-helper": (CENTER_THEN_SCALE, "tf.float32", "float32"),
    "shift-int32": (SHIFT_TO_ZERO, "tf.int32", "int32"),
    "shift-int64": (SHIFT_TO_ZERO, "tf.int64", "int64"),
}


def _samples(dtype):
    """Every rank the loop accepts, no rows and one row, in the program's dtype and another."""
    values = np.random.default_rng(5).integers(-40, 40, (3, 2, 4, 5)).astype(dtype) / (
        8 if np.dtype(dtype).kind == "f" else 1)
    samples = {f"rank {rank}": values[(0,) * (4 - rank)] for rank in (1, 2, 3, 4)}
    samples.update({"no rows": values[0, 0, :0], "one row": values[0, 0, :1], "rank 0": values[0, 0, 0, 0],
                    "other dtype": values[0].astype("float64" if dtype != "float64" else "float32")})
    return samples.items()


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    texts = {name: _row_loop_program(helper, tout) for name, (helper, tout, _) in PROGRAMS.items()}
    return load_rewritten(tmp_path_factory.mktemp("loop_helpers"), texts)


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_row_loop_calling_a_helper_gives_the_loops_values_for_every_rank(tf, programs, name):
    original, rewritten, result = programs[name]
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    traced_original, traced_rewritten = tf.function(original.program), tf.function(rewritten.program)
    problems = []
    for label, value in _samples(PROGRAMS[name][2]):
        for how, first, second in (("eager", original.program, rewritten.program),
                                   ("tf.function", traced_original, traced_rewritten)):
            problem = mismatch(outcome(first, value), outcome(second, value), 1e-6)
            if problem:
                problems.append(f"{label}, {how}: {problem}")
    assert not problems, problems


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
def test_every_rank_of_the_usual_dtype_runs_in_the_graph(tf, programs, rank):
    from rewriter.corpus import CALLBACK_OPS

    _, rewritten, result = programs["standardize-float32"]
    graph = tf.function(rewritten.program).get_concrete_function(tf.TensorSpec([None] * rank, tf.float32)).graph
    assert not {op.type for op in graph.get_operations()} & CALLBACK_OPS, result.new


def test_each_rank_calls_its_own_copy_of_the_helper(programs):
    _, _, result = programs["standardize-float32"]
    copies = [line.split("(")[0] for line in result.new.splitlines() if line.startswith("def standardize_tf")]
    assert copies == ["def standardize_tf", "def standardize_tf2", "def standardize_tf3", "def standardize_tf4"]
    assert "axis=[-1]" in result.new and "axis=[-2, -1]" in result.new
    assert rewrite_source(result.new, "again.py").new == result.new


def test_gradients_match_a_per_row_loop_in_tf(tf, programs):
    _, rewritten, _ = programs["standardize-float64"]
    batch = tf.Variable(np.random.default_rng(2).standard_normal((4, 6)))
    weights = tf.constant(np.random.default_rng(3).standard_normal((4, 6)))

    def per_row_in_tf(x):
        rows = []
        for i in range(4):
            centered = x[i] - tf.reduce_mean(x[i])
            rows.append(centered / (tf.math.reduce_std(x[i]) + 1e-6))
        return tf.stack(rows)

    gradients = []
    for fn in (rewritten.program, per_row_in_tf):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(fn(batch) * weights)
        gradients.append(tape.gradient(loss, batch).numpy())
    np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-9, atol=1e-12)


# -- `for i in tf.range(n)` loops in TF code that call a helper ---------------------------------

RANGE_LOOPS = textwrap.dedent('''\
    import tensorflow as tf


    def scaled(v):
        """Three times, less one."""
        return v * 3 - 1


    def squared(v):
        return v * v


    def shifted_square(v):
        return squared(v) - 2


    def rows(x):
        n = tf.shape(x)[0]
        ta = tf.TensorArray(x.dtype, size=n)
        for i in tf.range(n):
            ta = ta.write(i, scaled(x[i]))
        return ta.stack()


    def counter_total(n):
        r = 0.0
        for i in tf.range(n):
            r += squared(tf.cast(i, tf.float32))
        return r


    def largest(x):
        m = x[0]
        for i in tf.range(tf.shape(x)[0]):
            m = tf.maximum(m, shifted_square(x[i]))
        return m
    ''')


@pytest.fixture(scope="module")
def range_loops(tmp_path_factory):
    (pair,) = load_rewritten(tmp_path_factory.mktemp("range_loop_helpers"), {"loops": RANGE_LOOPS}).values()
    return pair


def test_range_loops_calling_helpers_become_whole_range_ops(range_loops):
    _, _, result = range_loops
    assert [c.status for c in result.conversions] == ["converted"] * 3, [c.reason for c in result.conversions]
    assert "ta = ta.unstack(scaled(x))" in result.new
    assert "squared(tf.cast(tf.range(" in result.new and "shifted_square(x)" in result.new
    assert "for i in tf.range" not in result.new


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("steps", [0, 1, 6])
def test_a_helper_on_rows_gives_the_loops_values(tf, range_loops, dtype, steps):
    original, rewritten, _ = range_loops
    x = np.random.default_rng(steps).integers(-9, 9, (steps, 3)).astype(dtype)
    for wrap in (lambda f: f, tf.function):
        want, got = outcome(wrap(original.rows), x), outcome(wrap(rewritten.rows), x)
        assert want[0] == got[0] == "ok" and want[1].dtype == got[1].dtype, (want, got)
        np.testing.assert_array_equal(got[1], want[1])
    if steps:
        for wrap in (lambda f: f, tf.function):
            want, got = outcome(wrap(original.largest), x), outcome(wrap(rewritten.largest), x)
            assert want[0] == got[0] == "ok", (want, got)
            np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("n", [0, 1, 7, -2])
def test_a_helper_of_the_counter_gives_the_loops_total(tf, range_loops, n):
    original, rewritten, _ = range_loops
    traced = outcome(tf.function(original.counter_total), tf.constant(n))
    assert not mismatch(traced, outcome(tf.function(rewritten.counter_total), tf.constant(n)), rtol=1e-6)
    # Eagerly, a loop of no steps leaves the Python float 0.0 (the rewrite gives a float32
    # tensor of it), and the loop raises for -2 steps (the rewrite runs none).
    want, got = outcome(original.counter_total, tf.constant(n)), outcome(rewritten.counter_total, tf.constant(n))
    assert want[0] == "raised" or (got[0] == "ok" and got[1] == want[1]), (want, got)


def test_gradients_through_a_helper_match_the_loops(tf, range_loops):
    original, rewritten, _ = range_loops
    x = tf.Variable(np.random.default_rng(8).standard_normal((5, 3)))
    gradients = []
    for program in (original, rewritten):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.function(program.rows)(x) ** 2) + tf.reduce_sum(program.largest(x))
        gradients.append(tape.gradient(loss, x).numpy())
    np.testing.assert_allclose(gradients[1], gradients[0], rtol=1e-12)


@pytest.mark.parametrize("helper, reason", [
    ("def step(v):\n    return v * SCALE", "`SCALE` in a helper the step calls is not one of its parameters"),
    ("def step(v):\n    return v[0] * 2", "`v[0]` in a helper the step calls is not one of its parameters"),
    ("def step(v):\n    return step(v) + 1", "the helpers the step calls nest too deeply"),
    ("def step(v):\n    w = v * 2\n    return w", "`step(x[i])` is not elementwise in the loop counter"),
    ("def step(v, k=2):\n    return v * k", "`step(x[i])` is not elementwise in the loop counter"),
    ("def step(v):\n    return tf.reduce_mean(v) * v", "a helper the step calls reduces its rows"),
])
def test_helpers_that_are_not_elementwise_in_their_parameters_keep_the_loop(helper, reason):
    source = (f"import tensorflow as tf\n\nSCALE = 2.0\n\n\n{helper}\n\n\n"
              "def f(x):\n    ta = tf.TensorArray(tf.float32, size=tf.shape(x)[0])\n"
              "    for i in tf.range(tf.shape(x)[0]):\n        ta = ta.write(i, step(x[i]))\n    return ta.stack()\n")
    result = rewrite_source(source, "program.py")
    (conversion,) = result.conversions
    assert conversion.status == "left" and result.new == source
    assert reason in conversion.reason and conversion.code in ("RW312", "RW317"), conversion.reason
