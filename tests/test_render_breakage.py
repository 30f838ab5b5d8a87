"""Breakage hunt on the render stage (and the dispatch / helpers that came with it): small
realistic programs are rewritten, then the original and the rewrite run on the same inputs and
must return the same values, or raise where the original raised.

The first tests are the bugs this hunt found, now fixed: a shared local bound in a statement
that shares its line (`;`), a one-line `if c: stmt` / `for ...: stmt` body losing its header, a
new local overwriting a per-row def's parameter, and `.astype` left on a tensor after branches
of two dtypes. The others guard the risky cases that turned out fine.
"""
from __future__ import annotations

import textwrap
import unittest.mock

import numpy as np
import pytest

from program_runs import load_module, mismatch, outcome
from rewriter import pipeline
from rewriter.pipeline import rewrite_source
from rewriter.render import render


def rewritten(source: str) -> str:
    result = rewrite_source(textwrap.dedent(source), "program.py")
    assert result.changed, [(c.status, c.code, c.reason) for c in result.conversions]
    return result.new


def unrendered(source: str) -> str:
    """The rewrite without the render stage's tidying (its helpers still defined: the text calls them)."""
    from rewriter.render_helpers import define_helpers

    with unittest.mock.patch.object(pipeline, "render", lambda original, new, *rest: define_helpers(new, "tf")[0]):
        return rewrite_source(textwrap.dedent(source), "program.py").new


def same_outcomes(tmp_path, source: str, function: str, inputs, new: str | None = None):
    """The original and its rewrite on each input: no difference (returns the rewrite's text)."""
    source = textwrap.dedent(source)
    new = rewritten(source) if new is None else new
    original, rewrite = load_module(tmp_path, source), load_module(tmp_path, new)
    for args in inputs:
        want = outcome(getattr(original, function), *args)
        got = outcome(getattr(rewrite, function), *args)
        assert want[0] == "ok", want
        assert mismatch(want, got) == "", (args, want, got)
    return new


F32 = np.float32


# -- bugs ------------------------------------------------------------------------------------

SEMICOLON = """\
import numpy as np
import tensorflow as tf

def g(x):
    a = np.abs(x).sum() + 1.0; b = 2.0
    c = np.abs(x).sum() * b
    return (a + c).astype(np.float32)

def f(x):
    return tf.numpy_function(g, [x], tf.float32)  # rewriter: args=float32[None]
"""


def test_a_shared_value_first_computed_in_a_statement_sharing_its_line(tmp_path):
    same_outcomes(tmp_path, SEMICOLON, "f", [(np.array([1.0, -2.0, 3.0], F32),)])


def test_a_shared_value_first_computed_in_a_statement_sharing_its_line_decorator(tmp_path):
    from rewriter import autograph_numpy

    module = load_module(tmp_path, SEMICOLON)
    x = np.array([1.0, -2.0, 3.0], F32)
    assert mismatch(outcome(module.g, x), outcome(autograph_numpy(module.g), x)) == ""


ONE_LINE_IF = """\
import numpy as np
import tensorflow as tf

def clean(x, y):
    if x[0] > 5.0: return np.nan_to_num(x / y)
    return x

def f(x, y):
    return tf.numpy_function(clean, [x, y], tf.float32)  # rewriter: args=float32[None], float32[None]
"""


def test_a_one_line_if_body_keeps_its_if(tmp_path):
    x, y = np.array([1.0, 0.0, -1.0], F32), np.array([0.0, 0.0, 2.0], F32)
    same_outcomes(tmp_path, ONE_LINE_IF, "f", [(x, y), (x + 10, y)])


def test_a_one_line_for_body_keeps_its_loop(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    def clean(x, y):
        out = x
        for _ in range(2): out = out + np.nan_to_num(x / y)
        return out

    def f(x, y):
        return tf.numpy_function(clean, [x, y], tf.float32)  # rewriter: args=float32[None], float32[None]
    """
    same_outcomes(tmp_path, source, "f", [(np.array([1.0, 2.0, -1.0], F32), np.array([1.0, 0.5, 2.0], F32))])


def test_a_local_in_a_per_row_def_does_not_overwrite_the_row(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    def g(x):
        return np.stack([np.where(r > 0, r, 0.0) / (np.sort(np.where(r > 0, r, 0.0))[-1] + 1.0) - r
                         for r in x]).astype(np.float32)

    def f(x):
        return tf.numpy_function(g, [x], tf.float32)  # rewriter: args=float32[None, None]
    """
    new = rewritten(source)
    assert "def per_r(r):" in new
    same_outcomes(tmp_path, source, "f", [(np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], F32),)], new)


def test_render_never_binds_a_lambda_parameters_name():
    original = "import numpy as np\nimport tensorflow as tf\n\n\ndef f(x):\n    return np.sum(x)\n"
    new = original.replace("np.sum(x)", "tf.vectorized_map(lambda row: tf.where(row > 0.0, row, 0.0) / "
                                         "tf.reduce_sum(tf.where(row > 0.0, row, 0.0)) - row, x)")
    x = np.array([[1.0, -2.0, 3.0]])
    results = []
    for text in (new, render(original, new)):
        namespace: dict = {}
        exec(compile(text, "<program>", "exec"), namespace)
        results.append(namespace["f"](x).numpy())
    np.testing.assert_allclose(results[1], results[0])


def test_astype_after_branches_of_two_dtypes(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    def g(x, y):
        if x[0] > 0:
            z = np.nan_to_num(x / y)
        else:
            z = x
        return z.astype(np.float32)

    def f(x, y):
        return tf.numpy_function(g, [x, y], tf.float32)
    """
    x, y = np.array([1.0, 0.0, -1.0], F32), np.array([0.0, 0.0, 2.0], np.float64)
    same_outcomes(tmp_path, source, "f", [(x, y), (-x, y)])


# -- risky cases that hold -------------------------------------------------------------------

NAN_TO_NUM_TWICE = """\
import numpy as np
import tensorflow as tf

def g(x, y):
    if x[0] > 0:
        z = np.nan_to_num(x / y) + np.nan_to_num(x / y) * 2.0
    else:
        z = x
    return z.astype(np.float32)

def f(x, y):
    return tf.numpy_function(g, [x, y], tf.float32)
"""


@pytest.mark.parametrize("indent, newline", [("\t", "\n"), ("  ", "\r\n"), ("    ", "\r\n")],
                         ids=["tabs", "two-spaces-crlf", "four-spaces-crlf"])
def test_tab_two_space_and_crlf_files(tmp_path, indent, newline):
    source = NAN_TO_NUM_TWICE.replace("    ", indent).replace("\n", newline)
    new = rewritten(source)
    assert rewrite_source(new, "program.py").new == new  # a second run changes nothing
    x, y = np.array([1.0, 0.0, -1.0], F32), np.array([0.0, 0.0, 2.0], F32)
    same_outcomes(tmp_path, source, "f", [(x, y), (-x, y), (x.astype(np.float64), y.astype(np.float64))], new)


def test_rendered_and_unrendered_compute_the_same(tmp_path):
    source = textwrap.dedent(NAN_TO_NUM_TWICE)
    rendered_module = load_module(tmp_path, rewritten(source))
    plain_module = load_module(tmp_path, unrendered(source))
    x, y = np.array([1.0, 0.0, -1.0], F32), np.array([0.0, 0.0, 2.0], F32)
    for args in [(x, y), (-x, y)]:
        assert mismatch(outcome(plain_module.f, *args), outcome(rendered_module.f, *args)) == ""


def test_nothing_is_shared_across_an_in_place_update(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    def g(x):
        y = x.copy()
        a = np.abs(y).sum()
        y[0] = 100.0
        b = np.abs(y).sum()
        return np.float32(a + b)

    def f(x):
        return tf.numpy_function(g, [x], tf.float32)  # rewriter: args=float32[None]
    """
    new = same_outcomes(tmp_path, source, "f", [(np.array([1.0, -2.0, 3.0], F32),)])
    assert new.count("tf.reduce_sum(tf.abs(y))") == 2


def test_random_draws_stay_two_draws(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    def g(x):
        a = np.abs(x) * (np.random.uniform(0.0, 1.0, size=x.shape) > 0.5)
        b = np.abs(x) * (np.random.uniform(0.0, 1.0, size=x.shape) > 0.5)
        return (a - b).astype(np.float32)

    def f(x):
        return tf.numpy_function(g, [x], tf.float32)  # rewriter: args=float32[None]
    """
    new = rewritten(source)
    assert new.count("tf.random.uniform(") == 2
    out = load_module(tmp_path, new).f(np.ones(200, F32)).numpy()
    assert np.any(out != 0.0)  # one draw shared by a and b would give all zeros


def test_a_file_with_its_own_np_argsort_keeps_it(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    def np_argsort(a):
        return "mine"

    def g(x):
        return np.argsort(x).astype(np.float32)

    def f(x):
        return tf.numpy_function(g, [x], tf.float32)  # rewriter: args=float32[None]

    def h(x):
        return np_argsort(x)
    """
    new = same_outcomes(tmp_path, source, "f", [(np.array([3.0, 1.0, np.nan, 2.0], F32),)])
    assert "np_argsort2(x)" in new
    assert load_module(tmp_path, new).h(1) == "mine"
    assert rewrite_source(new, "program.py").new == new


def test_tensorflow_imported_under_another_name(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tfl

    def g(x):
        m = np.median(x)
        s = np.argsort(x)
        return (x - m + s).astype(np.float32)

    def f(x):
        return tfl.numpy_function(g, [x], tfl.float32)  # rewriter: args=float32[None]
    """
    new = same_outcomes(tmp_path, source, "f", [(np.array([3.0, 1.0, 2.0, 7.0], F32),)])
    assert "import tensorflow as tf\n" not in new and " tf." not in new


def test_a_one_element_tout_list_eagerly_and_traced(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    def g(x):
        return (np.median(x) + x).astype(np.float32)

    def h(x):
        return tf.numpy_function(g, [x], [tf.float32])

    def f(x):
        return h(x), tf.function(h)(x)[0]
    """
    same_outcomes(tmp_path, source, "f", [(np.array([3.0, 1.0, 2.0], F32),), (np.array([3, 1, 2], np.int32),)])


def test_a_dataset_map_at_module_level(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    def g(x):
        return np.nan_to_num(x / 2.0 - 1.0) * np.nan_to_num(x / 2.0 - 1.0) + np.median(x)

    ds = tf.data.Dataset.from_tensor_slices(np.array([[1., 2., 3.], [4., np.nan, 6.]], np.float32))
    ds = ds.map(lambda x: tf.numpy_function(g, [x], [tf.float32]))
    OUT = [e for e in ds]

    def f():
        return [np.asarray(e) for e in OUT]
    """
    same_outcomes(tmp_path, source, "f", [()])


def test_the_decorator_keeps_the_row_in_a_per_row_def(tmp_path):
    from rewriter import autograph_numpy

    source = """\
    import numpy as np

    def g(x):
        return np.stack([np.where(r > 0, r, 0.0) / (np.sort(np.where(r > 0, r, 0.0))[-1] + 1.0) - r
                         for r in x]).astype(np.float32)
    """
    module = load_module(tmp_path, textwrap.dedent(source))
    x = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], F32)
    assert mismatch(outcome(module.g, x), outcome(autograph_numpy(module.g), x)) == ""


def test_new_locals_avoid_a_methods_later_local_and_a_read_global(tmp_path):
    source = """\
    import numpy as np
    import tensorflow as tf

    x_over_y = 5.0

    class M:
        def g(self, x, y):
            # np.nan_to_num(x) in a comment; "lambda m: m" in a string below
            label = "x_over_y # not a comment"
            z = np.nan_to_num(x / y) + np.nan_to_num(x / y) * x_over_y  # keep: (lambda m: m)(1)
            x_over_y2 = 3.0
            return (z + x_over_y2).astype(np.float32)

        def f(self, x, y):
            return tf.numpy_function(self.g, [x, y], tf.float32)  # rewriter: args=float32[None], float32[None]

    def f(x, y):
        return M().f(x, y)
    """
    x, y = np.array([1.0, 0.0, -1.0], F32), np.array([0.0, 0.0, 2.0], F32)
    new = same_outcomes(tmp_path, source, "f", [(x, y)])
    assert 'label = "x_over_y # not a comment"' in new
    assert "# np.nan_to_num(x) in a comment" in new and "# keep: (lambda m: m)(1)" in new
    assert "x_over_y = " not in new.split("class M")[1]  # the global is not shadowed
