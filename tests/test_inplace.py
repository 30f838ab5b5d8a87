"""In-place updates become functional TF only when the array is provably local."""
import numpy as np
import pytest

from rewriter import facts as F
from rewriter.function import Refusal, convert_function

UPDATES = {
    "mask-scalar": "y = x * 1.0\n    y[y > 0.5] = 0\n    return y",
    "mask-int-into-float": "y = np.zeros(x.shape)\n    y[x > 0] = 3\n    return y",
    "trailing-slice-divide": "y = x.copy()\n    y[..., :2] /= 255\n    return y",
    "column": "y = x + 0\n    y[:, 0] = -1.5\n    return y",
    "negative-row": "y = x + 0\n    y[-1] = 7\n    return y",
    "stepped-block-add": "y = x + 0\n    y[1:3, ::2] += 0.5\n    return y",
    "negative-slice-bounds": "y = x + 0\n    y[-2:, :-1] *= 2\n    return y",
    "out-of-range-slice": "y = x + 0\n    y[10:] = 0\n    y[:, -100:1] = 1\n    return y",
    "float-into-int-truncates": "y = np.zeros(x.shape, dtype=np.int64)\n    y[x > 0] = 2.7\n    return y",
    "name-augassign": "y = x * 2\n    y += 1\n    y **= 2\n    return y",
    "row-from-another-array": "y = x * 1.0\n    y[0] = x[1]\n    y[-1] = x[0] * 2\n    return y",
}


@pytest.mark.parametrize("body", UPDATES.values(), ids=UPDATES.keys())
def test_updates_match_numpy(tf, body):
    source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
    converted = convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)})
    assert "tf.where" in converted.text or "tf.tensor_scatter_nd_update" in converted.text or "y = y" in converted.text
    x = np.random.default_rng(2).standard_normal((4, 5))
    expected = {"np": np}
    exec(source, expected)
    got = {"tf": tf, "np": np}
    exec(converted.text, got)
    want = expected["f"](x.copy())
    have = got["f"](tf.constant(x))
    assert have.dtype == tf.as_dtype(want.dtype)
    np.testing.assert_allclose(have.numpy(), want, rtol=1e-12)


REFUSED = {
    "parameter-is-not-local": "x[0] = 1\n    return x",
    "aliased-array": "y = x * 1.0\n    z = y\n    y[0] = 1\n    return z",
    "view-of-parameter": "y = x[1:]\n    y[0] = 1\n    return x",
    "array-value-into-region": "y = x * 1.0\n    y[0:2] = x[1:3]\n    return y",
    "computed-bound": "y = x * 1.0\n    n = 2\n    y[: n + len(y) - 4] = 0\n    return y",
}


@pytest.mark.parametrize("body", REFUSED.values(), ids=REFUSED.keys())
def test_updates_that_cannot_be_proven_local_are_refused(body):
    source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
    with pytest.raises(Refusal):
        convert_function(source, "f", {"x": F.array("float64", 2, fresh=False)})


# -- updates of the wrapped function's own inputs ------------------------------------------------
# numpy_function hands its function arrays of its own, so updating them in place is local to the
# function; what it still must not do is change what another name (an alias, a view) sees.

PARAMETER_UPDATES = {
    "clip-negative": ("def f(x):\n    x[x < 0] = 0\n    return x", "tf.float32",
                      np.array([[-1.5, 2.0, 0.0], [3.0, -0.5, 4.0]], np.float32)),
    "scale-colour-channels": ("def f(img):\n    img[..., :3] /= 255.0\n    return img", "tf.float32",
                              np.arange(32, dtype=np.float32).reshape(2, 4, 4) * 8),
    "center-first-column": ("def f(x):\n    x[:, 0] -= x[:, 0].mean()\n    return x", "tf.float64",
                            np.array([[1.0, 2.0], [4.0, -1.0], [7.0, 0.5]])),
    "divide-whole-array": ("def f(x):\n    x /= 255.0\n    x += 1\n    return x", "tf.float32",
                           np.array([[0.0, 51.0], [255.0, 127.5]], np.float32)),
    "py-function-copy": ("def f(t):\n    x = t.numpy()\n    x[x < 0] = 0\n    return x", "tf.float32",
                         np.array([-2.0, 3.0, -0.25], np.float32)),
}


def _parameter_program(name) -> str:
    body, tout, _ = PARAMETER_UPDATES[name]
    wrapper = "py_function" if "numpy()" in body else "numpy_function"
    return f"import numpy as np\nimport tensorflow as tf\n\n\n{body}\n\n\n" \
           f"def program(x):\n    return tf.{wrapper}(f, [x], {tout})\n"


@pytest.fixture(scope="module")
def parameter_programs(tmp_path_factory):
    """name -> (original module, rewritten module, rewrite result)."""
    from program_runs import load_rewritten

    folder = tmp_path_factory.mktemp("parameter_updates")
    return {name: load_rewritten(folder, {name: _parameter_program(name)})[name] for name in PARAMETER_UPDATES}


def _sweep(original, rewritten, sample, wrap=lambda fn: fn):
    """Problems of the rewrite against the original over dtypes and ranks, and on no rows."""
    from program_runs import problems, variants_of

    values = variants_of(sample, dtypes=("uint8", "int16", "int32", "int64", "float32", "float64", "bool"))
    values.append(("no rows", sample[:0]))
    return problems(original.program, rewritten.program, [(label, (value,)) for label, value in values], wrap)


@pytest.mark.parametrize("name", PARAMETER_UPDATES)
def test_parameter_updates_convert_and_match_numpy_eagerly(parameter_programs, name):
    original, rewritten, result = parameter_programs[name]
    assert [c.status for c in result.conversions] == ["converted"], result.conversions[0].reason
    assert "tf.where" in result.new or "x = x / 255.0" in result.new
    assert not _sweep(original, rewritten, PARAMETER_UPDATES[name][2])


@pytest.mark.parametrize("name", PARAMETER_UPDATES)
def test_parameter_updates_match_numpy_under_tf_function(tf, parameter_programs, name):
    original, rewritten, _ = parameter_programs[name]
    assert not _sweep(original, rewritten, PARAMETER_UPDATES[name][2], wrap=tf.function)


def test_parameter_updates_in_dataset_map(tf, parameter_programs):
    from program_runs import through_dataset_map

    original, rewritten, _ = parameter_programs["scale-colour-channels"]
    images = np.random.default_rng(3).integers(0, 256, (5, 4, 4, 4)).astype(np.float32)
    want, got = (through_dataset_map(tf, module.program, images) for module in (original, rewritten))
    assert got.dtype == want.dtype == np.float32 and np.array_equal(got, want)


def test_a_dtype_numpy_cannot_update_in_place_runs_the_original(parameter_programs):
    """`img[..., :3] /= 255.0` raises on an integer image in NumPy (same-kind casting): that
    dtype must reach the original, never a float body."""
    _, _, result = parameter_programs["scale-colour-channels"]
    assert "img.dtype != tf.float32" in result.new


NOT_PRIVATE = {
    "alias-before-update": "def f(x):\n    y = x\n    x[x < 0] = 0\n    return y\n\n\n"
                           "def program(a):\n    return tf.numpy_function(f, [a], tf.float32)",
    "view-before-update": "def f(x):\n    v = x[0]\n    x[x < 0] = 0\n    return v\n\n\n"
                          "def program(a):\n    return tf.numpy_function(f, [a], tf.float32)",
    "update-through-a-view": "def f(x):\n    v = x[:, 0]\n    v[v < 0] = 0\n    return x\n\n\n"
                             "def program(a):\n    return tf.numpy_function(f, [a], tf.float32)",
    "one-input-passed-twice": "def f(x, y):\n    x[x < 0] = 0\n    return x + y\n\n\n"
                              "def program(a):\n    return tf.numpy_function(f, [a, a], tf.float32)",
    "py-function-tensor": "def f(x):\n    x[x < 0] = 0\n    return x\n\n\n"
                          "def program(a):\n    return tf.py_function(f, [a], tf.float32)",
    "bound-by-partial": "def f(x, table):\n    table[0] = 1\n    return x + table\n\n\n"
                        "def program(a):\n    return tf.numpy_function(functools.partial(f, table=TABLE), [a], tf.float32)",
    "default-argument": "def f(x, table=TABLE):\n    table[0] = 1\n    return x + table\n\n\n"
                        "def program(a):\n    return tf.numpy_function(f, [a], tf.float32)",
    "module-array": "def f(x):\n    TABLE[0] = 1\n    return x + TABLE\n\n\n"
                    "def program(a):\n    return tf.numpy_function(f, [a], tf.float32)",
}


@pytest.mark.parametrize("program", NOT_PRIVATE.values(), ids=NOT_PRIVATE.keys())
def test_updates_of_arrays_the_function_does_not_own_alone_are_left(program):
    """NumPy's update reaches the alias, the view, the other input of the same buffer, the
    array shared by every call; a TF rewrite would update a copy. (A py_function's input is a
    tensor: item assignment raises on it.)"""
    from rewriter.pipeline import rewrite_source

    text = "import functools\n\nimport numpy as np\nimport tensorflow as tf\n\n" \
           f"TABLE = np.zeros(3, np.float32)\n\n\n{program}\n"
    result = rewrite_source(text, "program.py")
    assert [c.status for c in result.conversions] == ["left"]
    assert result.new == text
