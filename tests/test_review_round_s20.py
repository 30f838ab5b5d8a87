"""Review round s20: programs as people write them (no declarations) whose rewrite did not do
what the original does: an integer array compared with an out-of-range Python int, a reduction
over an axis of a 0-d input, and a doubling scan whose partial sums overflowed. Each test
compares the rewritten program against the original on the input that showed the difference,
eagerly and under tf.function; all three are fixed, and the tests keep them fixed."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
import tensorflow as tf

from program_runs import load_rewritten, mismatch, outcome

_HEAD = "import numpy as np\nimport tensorflow as tf\n\n\n"

PROGRAMS = {
    # NumPy compares a uint8 array with a Python int by value (NEP 50): x < -1 is all False.
    "uint8_below_negative_literal": ("""\
        def f(x):
            return (x < -1).astype(np.float32)


        def program(x):
            return tf.numpy_function(f, [x], tf.float32)
        """, (np.array([3, 1, 0, 7], np.uint8),)),
    "uint8_not_equal_out_of_range_literal": ("""\
        def f(x):
            return (x != 300).astype(np.float32)


        def program(x):
            return tf.numpy_function(f, [x], tf.float32)
        """, (np.array([44, 1], np.uint8),)),
    "uint8_count_below_negative_in_a_loop": ("""\
        def f(x):
            total = 0.0
            for v in x:
                if v < -1:
                    total += 1
            return np.float32(total)


        def program(x):
            return tf.numpy_function(f, [x], tf.float32)
        """, (np.array([3, 1, 0, 7], np.uint8),)),
    # the same with a Python int whose value is known only when the program runs
    "uint8_above_a_python_int_read_from_an_input": ("""\
        def f(x, n):
            return (x > int(n)).astype(np.float32)


        def program(x, n):
            return tf.numpy_function(f, [x, n], tf.float32)
        """, (np.array([3, 1, 0, 7], np.uint8), np.int64(-1))),
    # NumPy reduces a 0-d array over axis 0 / -1; tf.reduce_* raises on it.
    "max_over_last_axis_of_a_0d_input": ("""\
        def f(x):
            return x.max(axis=-1).astype(np.float32)


        def program(x):
            return tf.numpy_function(f, [x], tf.float32)
        """, (np.array(3.0, np.float32),)),
    "softmax_idiom_on_a_0d_input": ("""\
        def f(z):
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


        def program(z):
            return tf.numpy_function(f, [z], tf.float32)
        """, (np.array(3.0, np.float32),)),
    # linear_recurrence's pairwise path: partial sums of finite addends overflow to +inf and
    # -inf in different groups and meet as NaN, where the loop stays at inf.
    "recurrence_whose_sums_overflow": ("""\
        def f(x):
            y = np.zeros(len(x), np.float32)
            prev = np.float32(0.0)
            for t in range(len(x)):
                prev = x[t] + np.float32(0.5) * prev
                y[t] = prev
            return y


        def program(x):
            return tf.numpy_function(f, [x], tf.float32)
        """, (np.array([3e38, 3e38, -3e38, -3e38], np.float32),)),
}


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    texts = {name: _HEAD + textwrap.dedent(body) for name, (body, _) in PROGRAMS.items()}
    return load_rewritten(tmp_path_factory.mktemp("review_s20"), texts)


def _runs_as_the_original(programs, name):
    original, rewritten, result = programs[name]
    assert [c.status for c in result.conversions] == ["converted"]  # the rewrite is what is tested
    args = PROGRAMS[name][1]
    for wrap in (lambda fn: fn, tf.function):
        want = outcome(wrap(original.program), *args)
        assert want[0] == "ok", want
        assert not mismatch(want, outcome(wrap(rewritten.program), *args))


@pytest.mark.parametrize("name", ["uint8_below_negative_literal", "uint8_not_equal_out_of_range_literal",
                                  "uint8_count_below_negative_in_a_loop", "uint8_above_a_python_int_read_from_an_input"])
def test_int_compared_with_out_of_range_python_int(programs, name):
    _runs_as_the_original(programs, name)


@pytest.mark.parametrize("name", ["max_over_last_axis_of_a_0d_input", "softmax_idiom_on_a_0d_input"])
def test_axis_reduction_of_a_0d_input(programs, name):
    _runs_as_the_original(programs, name)


def test_recurrence_whose_sums_overflow(programs):
    _runs_as_the_original(programs, "recurrence_whose_sums_overflow")
