"""`rewriter check`: one positive and negative (must-not-fire) cases per rule, formats, order."""
import json
import textwrap

import pytest

from rewriter.check import RULES, Diagnostic, check_source, filtered, render
from rewriter.pipeline import RewriteOptions

HEADER = "import numpy as np\nimport tensorflow as tf\n"


def check(body: str, **kwargs) -> list:
    return check_source(HEADER + textwrap.dedent(body), "m.py", **kwargs)


def codes(diagnostics, code=None) -> list:
    return [d for d in diagnostics if code is None or d.code == code]


def at(diagnostics, code) -> list:
    return [(d.line, d.col) for d in diagnostics if d.code == code]


# Options that keep the engine's own tf.map_fn vectorizer out, to test the elementwise analysis.
NO_MAP_FN_FIX = RewriteOptions(ignore=frozenset({"RW004"}))


# -- RWC001 -------------------------------------------------------------------------------------

CONVERTIBLE = """
def standardize_rows(x):
    mu = x.mean(axis=1, keepdims=True)
    sd = x.std(axis=1, keepdims=True)
    return ((x - mu) / (sd + 1e-6)).astype(np.float32)

@tf.function(input_signature=[tf.TensorSpec([None, 128], tf.float32)])
def program(x):
    return tf.numpy_function(standardize_rows, [x], tf.float32)
"""


def test_rwc001_convertible_site_is_fixable():
    found = codes(check(CONVERTIBLE), "RWC001")
    assert len(found) == 1
    d = found[0]
    assert (d.line, d.col) == (11, 12) and d.fixable
    assert d.message == ("`tf.numpy_function` of `standardize_rows` can be rewritten to native TensorFlow: "
                         "run `rewriter fix`")


def test_rwc001_site_left_reports_the_reason():
    found = codes(check("""
        from helpers import load_wav

        def program(path):
            return tf.py_function(load_wav, [path], tf.float32)
    """), "RWC001")
    assert len(found) == 1
    d = found[0]
    assert not d.fixable
    assert "`tf.py_function` of `load_wav` stays in Python" in d.message
    assert "not a function defined in this file" in d.message and "[RW105]" in d.message


def test_rwc001_not_tensorflow_does_not_fire():
    diagnostics = check("""
        class Fake:
            def numpy_function(self, *args):
                return args

        def program(x):
            tf = Fake()
            return tf.numpy_function(lambda v: np.exp(v), [x], np.float32)
    """)
    assert codes(diagnostics, "RWC001") == []


def test_rwc001_deselected_sites_are_not_reported():
    assert codes(check(CONVERTIBLE, options=RewriteOptions(ignore=frozenset({"RW001"}))), "RWC001") == []


# -- RWC002 -------------------------------------------------------------------------------------

def test_rwc002_elementwise_lambda():
    found = codes(check("""
        def program(x):
            return tf.map_fn(lambda v: tf.exp(v) * 2.0 - 1, x)
    """, options=NO_MAP_FN_FIX), "RWC002")
    assert len(found) == 1
    assert (found[0].line, found[0].col) == (5, 12)
    assert "vectorize: apply the body to the whole tensor" in found[0].message
    assert not found[0].fixable


def test_rwc002_elementwise_def_with_cond_and_module_constant():
    found = codes(check("""
        ALPHA = 1.7

        def elu_one(v):
            \"\"\"ELU of one scalar.\"\"\"
            neg = ALPHA * (tf.math.exp(v) - 1.0)
            return tf.cond(v > 0.0, lambda: v, lambda: neg)

        def program(x):
            return tf.map_fn(elu_one, x)
    """, options=NO_MAP_FN_FIX), "RWC002")
    assert len(found) == 1
    assert "`elu_one`" in found[0].message and "tf.where in place of tf.cond" in found[0].message


def test_rwc002_numpy_ufuncs_count_as_elementwise():
    found = codes(check("""
        def program(x):
            return tf.map_fn(lambda v: np.sqrt(v) + np.maximum(v, 0), x)
    """, options=NO_MAP_FN_FIX), "RWC002")
    assert len(found) == 1


def test_rwc002_engine_vectorizable_map_fn_is_fixable():
    source = """
        def program(x):
            return tf.map_fn(lambda v: tf.exp(v) * 2.0, x)
    """
    from rewriter.pipeline import rewrite_source

    engine = rewrite_source(HEADER + textwrap.dedent(source))
    found = codes(check(source), "RWC002")
    assert len(found) == 1
    converted = any(c.site.kind == "map_fn" and c.status == "converted" for c in engine.conversions)
    assert found[0].fixable == converted
    assert "vectoriz" in found[0].message


@pytest.mark.parametrize("body", [
    # a reduction over the element: not elementwise
    "def program(x):\n    return tf.map_fn(lambda row: row / tf.norm(row), x)\n",
    # a module-level array of unknown shape would broadcast differently over the whole tensor
    "W = np.ones(3)\ndef program(x):\n    return tf.map_fn(lambda v: v * W, x)\n",
    # the result does not depend on the element
    "def program(x):\n    return tf.map_fn(lambda v: tf.exp(1.0), x)\n",
    # a structure of tensors
    "def program(x, y):\n    return tf.map_fn(lambda t: t[0] + t[1], (x, y))\n",
    # a function from elsewhere
    "from helpers import f\ndef program(x):\n    return tf.map_fn(f, x)\n",
    # decoding per element
    "def program(s):\n    return tf.map_fn(lambda v: tf.io.decode_png(v), s, fn_output_signature=tf.uint8)\n",
])
def test_rwc002_must_not_fire(body):
    assert codes(check(body, options=NO_MAP_FN_FIX), "RWC002") == []


def test_rwc002_map_fn_spelled_alike_but_not_tensorflow():
    diagnostics = check_source(textwrap.dedent("""
        import mylib as tf

        def program(x):
            return tf.map_fn(lambda v: v * 2.0, x)
    """), "m.py")
    assert diagnostics == []


# -- RWC003 -------------------------------------------------------------------------------------

def test_rwc003_apply_along_axis_through_any_import():
    diagnostics = check("""
        from numpy import apply_along_axis as along

        def ranks(scores):
            a = np.apply_along_axis(lambda r: np.argsort(r), 1, scores)
            return along(np.sort, 0, a)
    """)
    assert at(diagnostics, "RWC003") == [(7, 9), (8, 12)]
    assert all("once per 1-D slice" in d.message for d in codes(diagnostics, "RWC003"))


def test_rwc003_must_not_fire_on_other_functions():
    diagnostics = check_source(textwrap.dedent("""
        import numpy as np

        def apply_along_axis(f, axis, a):
            return a

        def program(a):
            np = object()
            return apply_along_axis(sum, 1, a), np.apply_along_axis(sum, 1, a)
    """), "m.py")
    assert codes(diagnostics, "RWC003") == []


# -- RWC004 -------------------------------------------------------------------------------------

def test_rwc004_numpy_array_captured_by_dataset_map():
    diagnostics = check("""
        MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
        TABLE = np.load("table.npy").astype(np.float32) / 255.0

        def prep(image):
            return (image - MEAN) * TABLE[0]

        ds = tf.data.Dataset.from_tensor_slices(files)
        ds = ds.shuffle(100).batch(8)
        ds = ds.map(prep, num_parallel_calls=tf.data.AUTOTUNE)
        other = tf.data.TFRecordDataset(files).map(lambda t: t + MEAN)
        WINDOW = np.sqrt(np.hanning(400))
        frames = tf.keras.utils.audio_dataset_from_directory("wav").map(lambda w: w * WINDOW)
    """)
    found = codes(diagnostics, "RWC004")
    assert [(d.line, d.col, d.message.split("`")[1]) for d in found] == [
        (8, 21, "MEAN"), (8, 29, "TABLE"), (13, 58, "MEAN"), (15, 79, "WINDOW")]
    assert "tf.constant(MEAN)" in found[0].message


@pytest.mark.parametrize("body", [
    # already a tensor
    "MEAN = tf.constant([1.0, 2.0])\nds = tf.data.Dataset.range(3).map(lambda t: t - MEAN)\n",
    # not a Dataset: a process pool's map
    "MEAN = np.array([1.0])\nresults = pool.map(lambda t: t - MEAN, items)\n",
    # the receiver is not known to be a Dataset
    "MEAN = np.array([1.0])\nds = make().map(lambda t: t - MEAN)\n",
    # an array made inside the function is not captured
    "def prep(t):\n    mean = np.array([1.0])\n    return t - mean\nds = tf.data.Dataset.range(3).map(prep)\n",
    # a module-level Python number is cheap to capture
    "SCALE = 255.0\nds = tf.data.Dataset.range(3).map(lambda t: t / SCALE)\n",
    # read by NumPy at run time, inside tf.numpy_function
    "MEAN = np.array([1.0])\nds = tf.data.Dataset.range(3).map(\n"
    "    lambda t: tf.numpy_function(lambda v: v - MEAN, [t], tf.float64))\n",
])
def test_rwc004_must_not_fire(body):
    assert codes(check(body), "RWC004") == []


# -- RWC005 -------------------------------------------------------------------------------------

def test_rwc005_numpy_random_in_tf_function():
    diagnostics = check("""
        rng = np.random.default_rng(0)

        @tf.function
        def augment(x):
            noise = np.random.normal(0.0, 0.1, size=3)
            return x + noise + rng.uniform()

        def step(x):
            return x + np.random.rand()
        fast_step = tf.function(step)
    """)
    found = codes(diagnostics, "RWC005")
    assert [(d.line, d.col) for d in found] == [(8, 13), (9, 24), (12, 16)]
    assert "runs once, when the function is traced" in found[0].message
    assert "`np.random.normal`" in found[0].message and "`rng.uniform`" in found[1].message


def test_rwc005_must_not_fire_outside_tracing():
    diagnostics = check("""
        def noisy(x):
            return x + np.random.normal(size=x.shape).astype(np.float32)

        @tf.function
        def augment(x):
            y = tf.numpy_function(noisy, [x], tf.float32)
            z = tf.numpy_function(lambda v: v + np.random.rand(), [x], tf.float64)
            return y + tf.random.normal(tf.shape(x)) + tf.cast(z, tf.float32)

        def eager(x):
            return x + np.random.rand()
    """)
    assert codes(diagnostics, "RWC005") == []


# -- RWC006 -------------------------------------------------------------------------------------

def test_rwc006_scalar_arithmetic_without_parameters():
    diagnostics = check("""
        import math
        RATE = 0.5

        @tf.function
        def schedule():
            warm = 10 * RATE
            return math.sqrt(warm) + abs(-2.0)
    """)
    assert at(diagnostics, "RWC006") == [(7, 2)]
    assert "tracing costs more than it saves" in codes(diagnostics, "RWC006")[0].message


def test_rwc006_parameters_only_ever_given_numbers():
    diagnostics = check("""
        @tf.function
        def lerp(a, b, t):
            return a + (b - a) * t

        print(lerp(1.0, 2.0, 0.5))
    """)
    assert at(diagnostics, "RWC006") == [(4, 2)]


@pytest.mark.parametrize("body", [
    # uses a TF op
    "@tf.function\ndef f():\n    return tf.constant(2.0) * 3\n",
    # parameters may be tensors (no call passing numbers)
    "@tf.function\ndef f(x):\n    return x * 2 + 1\n",
    # called with a tensor
    "@tf.function\ndef f(x):\n    return x * 2 + 1\ny = f(tf.ones(3))\n",
    # declared tensor inputs
    "@tf.function(input_signature=[tf.TensorSpec([], tf.float32)])\ndef f(x):\n    return x * 2\ny = f(1.0)\n",
    # not a tf.function
    "def f():\n    return 2 * 3\n",
])
def test_rwc006_must_not_fire(body):
    assert codes(check(body), "RWC006") == []


# -- RWC007 -------------------------------------------------------------------------------------

def test_rwc007_varying_python_numbers_retrace():
    diagnostics = check("""
        @tf.function
        def train_step(x, lr):
            return x * tf.constant(lr)

        train_step(data, 0.1)
        train_step(data, lr=0.01)
        for epoch in range(10):
            train_step(data, epoch)
    """)
    found = codes(diagnostics, "RWC007")
    assert [(d.line, d.col) for d in found] == [(8, 18), (9, 21), (11, 22)]
    assert "for `lr`" in found[0].message and "tf.constant(0.1)" in found[0].message
    assert "loop variable `epoch`" in found[2].message
    assert "input_signature" in found[0].message


def test_rwc007_through_a_tf_function_wrapper():
    diagnostics = check("""
        def scale(x, k):
            return x * k
        fast = tf.function(scale)
        a, b = fast(x, 2), fast(x, 3)
    """)
    assert at(diagnostics, "RWC007") == [(7, 16), (7, 28)]


@pytest.mark.parametrize("body", [
    # one value: one trace
    "@tf.function\ndef f(x, k):\n    return x * k\na = f(x, 2)\nb = f(y, 2)\n",
    # an input_signature converts numbers to tensors
    "@tf.function(input_signature=[tf.TensorSpec([], tf.float32)])\ndef f(k):\n    return k * 2\na, b = f(1.0), f(2.0)\n",
    # tensors and booleans
    "@tf.function\ndef f(x, training):\n    return x\na, b = f(tf.constant(1), True), f(tf.constant(2), False)\n",
    # not a tf.function
    "def f(k):\n    return k\na, b = f(1), f(2)\n",
])
def test_rwc007_must_not_fire(body):
    assert codes(check(body), "RWC007") == []


# -- syntax errors, noqa, selection ---------------------------------------------------------------

def test_syntax_error_is_a_single_diagnostic():
    diagnostics = check_source("import numpy as np\ndef f(:\n    pass\n", "bad.py")
    assert len(diagnostics) == 1
    d = diagnostics[0]
    assert (d.path, d.line, d.code, d.fixable) == ("bad.py", 2, "RWC900", False)
    assert d.message.startswith("syntax error: ")


def test_noqa_silences_a_line():
    body = """
        @tf.function
        def f(x):
            return x + np.random.rand()  # noqa: RWC005
        @tf.function
        def g(x):
            return x + np.random.rand()  # noqa
        @tf.function
        def h(x):
            return x + np.random.rand()  # noqa: RWC001
    """
    assert at(check(body), "RWC005") == [(12, 16)]


def test_select_and_ignore():
    body = "@tf.function\ndef f():\n    return np.random.rand() * 2\n"
    assert {d.code for d in check(body)} == {"RWC005"}
    assert check(body, ignore=["RWC005"]) == []
    assert check(body, select=["RWC006"]) == []
    assert {d.code for d in check(body, select=["RWC00"])} == {"RWC005"}
    # fix-rule prefixes don't take part in selecting checks
    assert {d.code for d in check(body, select=["RW001", "NP2"])} == {"RWC005"}
    syntax = check_source("def (", "x.py", ignore=["RWC"])
    assert [d.code for d in syntax] == ["RWC900"]
    assert filtered([Diagnostic("a", 1, 1, "RWC003", "m")], ignore=["rwc003"]) == []


def test_every_rule_is_documented():
    assert set(RULES) == {f"RWC00{i}" for i in range(1, 10)} | {"RWC900", "RWC901"}


# -- ordering and output formats ------------------------------------------------------------------

def test_diagnostics_are_sorted_by_position():
    diagnostics = check("""
        @tf.function
        def f(x):
            return x + np.random.rand() + np.apply_along_axis(np.sum, 0, x) + np.random.rand()

        rows = np.apply_along_axis(np.sum, 1, np.ones((3, 3)))
    """)
    keys = [(d.line, d.col) for d in diagnostics]
    assert keys == sorted(keys)
    assert [d.code for d in diagnostics] == ["RWC005", "RWC003", "RWC005", "RWC003"]


DIAGS = [
    Diagnostic("pkg/b.py", 3, 1, "RWC003", "later file"),
    Diagnostic("pkg/a.py", 10, 5, "RWC005", "second, 100% sure: yes\nreally", False),
    Diagnostic("pkg/a.py", 2, 7, "RWC001", "first: run `rewriter fix`", True),
]


def test_render_text():
    assert render(DIAGS, "text") == (
        "pkg/a.py:2:7: RWC001 first: run `rewriter fix`\n"
        "pkg/a.py:10:5: RWC005 second, 100% sure: yes\nreally\n"
        "pkg/b.py:3:1: RWC003 later file\n")
    assert render([], "text") == ""


def test_render_json():
    data = json.loads(render(DIAGS, "json"))
    assert [d["line"] for d in data] == [2, 10, 3]
    assert data[0] == {"path": "pkg/a.py", "line": 2, "col": 7, "code": "RWC001",
                       "message": "first: run `rewriter fix`", "fixable": True, "cell": None}
    assert json.loads(render([], "json")) == []


def test_render_github():
    lines = render(DIAGS + [Diagnostic("c,d.py", 1, 1, "RWC900", "syntax error: x")], "github").splitlines()
    assert lines[0] == "::error file=c%2Cd.py,line=1,col=1,title=RWC900::syntax error: x"
    assert lines[1] == "::warning file=pkg/a.py,line=2,col=7,title=RWC001::first: run `rewriter fix`"
    assert lines[2] == "::warning file=pkg/a.py,line=10,col=5,title=RWC005::second, 100%25 sure: yes%0Areally"
    assert len(lines) == 4


def test_render_notebook_cells_and_unknown_format():
    d = Diagnostic("nb.ipynb", 2, 1, "RWC003", "m", cell=3)
    assert render([d], "text") == "nb.ipynb:cell 3:2:1: RWC003 m\n"
    assert "title=RWC003 (cell 3)" in render([d], "github")
    with pytest.raises(ValueError, match="unknown format"):
        render([d], "xml")


def test_columns_count_characters():
    diagnostics = check_source(HEADER + "s = 'é'; r = np.apply_along_axis(sum, 0, x)\n", "u.py")
    assert at(diagnostics, "RWC003") == [(3, 14)]


def test_a_tf_range_loop_that_fix_converts_is_reported_fixable():
    source = textwrap.dedent("""\
        import tensorflow as tf


        @tf.function
        def parity(n):
            r = 0
            for i in tf.range(n):
                if i % 2 == 0:
                    r += i
                else:
                    r -= i
            return r
        """)
    (diagnostic,) = check_source(source, "loop.py")
    assert (diagnostic.code, diagnostic.line, diagnostic.fixable) == ("RWC008", 7, True)


def test_rwc006_and_rwc007_follow_python_numbers_through_variables():
    """The textbook case: a tf.function called with variables holding Python numbers."""
    diagnostics = check("""
        @tf.function
        def tf_add(x, y):
            return x + y

        x = 3
        for step in range(10):
            y = step * 2
            tf_add(x, y)
    """)
    assert at(diagnostics, "RWC006") == [(4, 2)]
    found = codes(diagnostics, "RWC007")
    assert [(d.line, d.col) for d in found] == [(11, 15)]
    assert "`y`, a Python number that changes between calls" in found[0].message


@pytest.mark.parametrize("body", [
    # one value, through a variable: one trace
    "@tf.function\ndef f(x, k):\n    return x * k\nK = 2\na = f(x, K)\nb = f(y, K)\n",
    # a variable that may hold a tensor
    "@tf.function\ndef f(k):\n    return k * 2\nk = tf.constant(1.0)\nfor i in range(3):\n    f(k)\n",
    # a variable from a function call: anything
    "@tf.function\ndef f(k):\n    return k * 2\nfor i in range(3):\n    k = load()\n    f(k)\n",
])
def test_rwc007_through_variables_must_not_fire(body):
    assert codes(check(body), "RWC007") == []
