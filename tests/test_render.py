"""The render stage: emitted statements read like code a person wrote, and compute the same.

Each case renders a rewritten text against its original and checks the exact text, then runs
both versions of the function on the same inputs where it computes something.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from rewriter import pipeline
from rewriter.code_quality import measure
from rewriter.line_length import line_length_for
from rewriter.render import render

ORIGINAL = '''\
import numpy as np
import tensorflow as tf


def f(x):
    return np.sum(x)
'''


def rendered(body: str, original: str = ORIGINAL, line_length: int = 88) -> str:
    new = ORIGINAL.replace("    return np.sum(x)\n", textwrap.indent(textwrap.dedent(body), "    "))
    return render(original, new, line_length)


def function_body(text: str) -> str:
    return textwrap.dedent(text.split("def f(x):\n", 1)[1])


def run(text: str, x):
    namespace: dict = {}
    exec(compile(text, "<rendered>", "exec"), namespace)
    return namespace["f"](x)


def test_an_applied_lambda_becomes_a_named_local():
    out = rendered("return (lambda m: tf.where(m > 1.0, m, 1.0))(tf.cast(tf.size(x), tf.float64))\n")
    assert function_body(out) == ("x_size_float64 = tf.cast(tf.size(x), tf.float64)\n"
                                  "return tf.where(x_size_float64 > 1.0, x_size_float64, 1.0)\n")


def test_a_lambda_argument_becomes_a_local_def_with_a_blank_line_after():
    out = rendered("return tf.vectorized_map(lambda row: row / tf.norm(row), x)\n")
    assert function_body(out) == ("def per_row(row):\n    return row / tf.norm(row)\n\n"
                                  "return tf.vectorized_map(per_row, x)\n")


def test_a_lambda_the_user_wrote_stays_a_lambda():
    original = ORIGINAL.replace("np.sum(x)", "tf.map_fn(lambda row: row * 2.0, x)")
    out = rendered("return tf.vectorized_map(lambda row: row * 2.0, x)\n", original)
    assert function_body(out) == "return tf.vectorized_map(lambda row: row * 2.0, x)\n"


def test_an_expression_computed_twice_is_computed_once_under_a_name():
    out = rendered("lo = tf.where(tf.reduce_any(tf.math.is_nan(x)), 0.0, tf.reduce_min(x))\n"
                   "hi = tf.where(tf.reduce_any(tf.math.is_nan(x)), 0.0, tf.reduce_max(x))\n"
                   "return hi - lo\n")
    assert function_body(out) == ("x_has_nan = tf.reduce_any(tf.math.is_nan(x))\n"
                                  "lo = tf.where(x_has_nan, 0.0, tf.reduce_min(x))\n"
                                  "hi = tf.where(x_has_nan, 0.0, tf.reduce_max(x))\n"
                                  "return hi - lo\n")
    x = np.array([3.0, -1.0, 2.0])
    assert float(run(out, x)) == 4.0


def test_arithmetic_on_constants_is_written_where_it_is_used():
    """`M * M` of module constants costs nothing: a local for it is noise; `x * x` is shared."""
    original = ORIGINAL.replace("\n\ndef f(x):", "M = 32\nN = M // 4\n\n\ndef f(x):")
    body = ("a = tf.reshape(x, [M * M, N - 1])\nb = tf.zeros([M * M, N - 1]) + x * x\n"
            "return a + b + x * x\n")
    out = render(original, original.replace("    return np.sum(x)\n", textwrap.indent(body, "    ")), 88)
    assert function_body(out) == ("a = tf.reshape(x, [M * M, N - 1])\nx_times_x = x * x\n"
                                  "b = tf.zeros([M * M, N - 1]) + x_times_x\n"
                                  "return a + b + x_times_x\n")


def test_a_value_already_assigned_to_a_name_is_read_from_it():
    out = rendered("n = tf.shape(x)[0]\nreturn tf.range(tf.shape(x)[0]) * 2\n")
    assert function_body(out) == "n = tf.shape(x)[0]\nreturn tf.range(n) * 2\n"


def test_random_draws_are_never_shared_or_moved():
    body = ("a = tf.random.uniform(tf.shape(x)) + tf.random.uniform(tf.shape(x))\n"
            "return (lambda u: u * 2)(tf.random.uniform([]))\n")
    out = rendered(body)
    assert "tf.random.uniform(tf.shape(x_shape))" not in out
    assert out.count("tf.random.uniform(") == 3
    assert "lambda u" in out  # its argument draws a number: it stays where it was


def test_nothing_is_shared_across_an_assignment_to_what_it_reads():
    out = rendered("a = tf.abs(x) * 2\nx = x + 1\nreturn tf.abs(x) * 2 + a\n")
    assert function_body(out) == "a = tf.abs(x) * 2\nx = x + 1\nreturn tf.abs(x) * 2 + a\n"


def test_nothing_is_shared_across_a_call_that_may_change_values():
    out = rendered("a = tf.abs(x) * 2\nupdate(x)\nreturn tf.abs(x) * 2 + a\n")
    assert "return tf.abs(x) * 2 + a" in out


def test_an_expression_only_in_a_branch_is_not_computed_before_it():
    out = rendered("return tf.reduce_sum(x) if flag else tf.reduce_sum(x) * 2\n")
    assert function_body(out) == "return tf.reduce_sum(x) if flag else tf.reduce_sum(x) * 2\n"


def test_a_long_line_is_laid_out_at_the_line_length():
    long_sum = " + ".join(f"tf.reduce_sum(x * {k}.0)" for k in range(1, 8))
    out = rendered(f"return {long_sum}\n", line_length=60)
    assert all(len(line) <= 60 for line in out.splitlines())
    assert function_body(out).startswith("return (\n")
    assert float(run(out, np.ones(3))) == float(run(rendered(f"return {long_sum}\n", line_length=400), np.ones(3)))


def test_the_users_statements_stay_byte_identical():
    original = ORIGINAL.replace("    return np.sum(x)\n", "    y = x   *  2  # spacing kept\n    return np.sum(y)\n")
    new = original.replace("np.sum(y)", "(lambda t: t + t)(tf.reduce_sum(y))")
    out = render(original, new)
    assert "    y = x   *  2  # spacing kept\n" in out
    assert "y_sum = tf.reduce_sum(y)\n" in out


def test_comments_inside_a_rendered_statement_are_kept():
    original = ORIGINAL.replace("return np.sum(x)", "return np.sum(x)  # the total")
    new = original.replace("np.sum(x)", "(lambda t: t * t)(tf.reduce_sum(x))")
    assert "    return x_sum * x_sum  # the total\n" in render(original, new)


def test_two_space_files_get_two_space_blocks():
    original = ORIGINAL.replace("    return np.sum(x)", "  return np.sum(x)")
    new = original.replace("  return np.sum(x)", "  return tf.vectorized_map(lambda row: row / tf.norm(row), x)")
    assert "  def per_row(row):\n    return row / tf.norm(row)\n\n  return tf.vectorized_map(per_row, x)\n" \
        in render(original, new)


def test_quotes_follow_the_file():
    single = ORIGINAL.replace("return np.sum(x)", "return np.sum(x, dtype='float32')")
    double = ORIGINAL.replace("return np.sum(x)", 'return np.sum(x, dtype="float32")')
    body = "return (lambda t: t + t)(tf.constant(float('nan')))"
    assert "float('nan')" in render(single, single.replace("return np.sum(x, dtype='float32')", body))
    assert 'float("nan")' in render(double, double.replace('return np.sum(x, dtype="float32")', body))


def test_names_do_not_shadow_the_files_names():
    original = ORIGINAL.replace("def f(x):", "x_sum = 3\n\n\ndef f(x):")
    new = original.replace("np.sum(x)", "(lambda t: t + x_sum)(tf.reduce_sum(x))")
    out = render(original, new)
    assert "x_sum2 = tf.reduce_sum(x)\n    return x_sum2 + x_sum\n" in out


@pytest.mark.parametrize("table, expected", [
    ("[tool.black]\nline-length = 100\n", 100),
    ("[tool.ruff]\nline-length = 120\n", 120),
    ("[tool.black]\nline-length = 79\n[tool.ruff]\nline-length = 120\n", 79),
    ("[project]\nname = 'x'\n", 88),
    ("not toml [", 88),
])
def test_the_line_length_comes_from_the_projects_formatter(tmp_path: Path, table, expected):
    (tmp_path / "pyproject.toml").write_text(table)
    (tmp_path / "pkg").mkdir()
    assert line_length_for(str(tmp_path / "pkg" / "m.py")) == expected


def test_fix_wraps_at_the_projects_line_length(tmp_path: Path):
    source = ORIGINAL.replace("return np.sum(x)", "return np.sum(x ** 2, axis=1) / np.sum(x ** 2)") + \
        "\n\ndef g(x):\n    return tf.numpy_function(f, [x], tf.float64)  # rewriter: args=x:float64[None,None]\n"
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 40\n")
    path = tmp_path / "m.py"
    path.write_text(source)
    result = pipeline.rewrite_source(source, str(path))
    assert result.new != source
    assert not measure(source, result.new, 40).problems()
    added = [line.split("  #")[0] for line in result.new.splitlines() if line not in source.splitlines()]
    assert len(added) > 3 and max(map(len, added)) <= 40


def test_a_local_def_the_rewrite_wrote_has_blank_lines_around_it_and_none_after_its_def_line():
    original = ORIGINAL.replace("    return np.sum(x)\n", "    y = np.sum(x)\n    return y\n")
    new = original.replace("    y = np.sum(x)\n",
                           "    y = tf.reduce_sum(x)\n    def _step(a):\n        return a\n")
    new = new.replace("    return y\n", "    return tf.vectorized_map(lambda row: tf.vectorized_map("
                                         "lambda v: v * 2.0, row), _step(y))\n")
    out = render(original, new)
    assert "    y = tf.reduce_sum(x)\n\n    def _step(a):\n        return a\n\n" in out
    assert "def per_row(row):\n        def per_v(v):" in out


def test_the_dispatch_tests_the_smaller_set_and_leaves_the_wider_to_else():
    source = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf


        def spectrum(x):
            return np.abs(np.fft.rfft(x)) ** 2


        def program(x):
            return tf.numpy_function(spectrum, [x], tf.float64)
        """)
    new = pipeline.rewrite_source(source, "s.py").new
    body = new.split("def spectrum_tf(x):", 1)[1]
    assert "    if x.dtype == tf.float64:\n" in body and "    else:\n" in body, body


def test_random_image_ops_and_dropout_are_never_shared():
    out = rendered("a = tf.image.random_flip_left_right(x) + tf.image.random_flip_left_right(x)\n"
                   "return tf.nn.dropout(a, 0.5) - tf.nn.dropout(a, 0.5)\n")
    assert out.count("tf.image.random_flip_left_right(x)") == 2 and out.count("tf.nn.dropout(a, 0.5)") == 2
