"""Review round s23: the newest rewrites run against the original on the inputs people hit at the
edges (no rows, one row, block-edge lengths, ties, NaN, inf, -0.0, huge values, negative and
duplicate indices): the Kronecker product only multiplied by (`kron_matmul`), the blocked scan of
running max/min/and/or, the row scatter of `target[b, row, col, k] = ...` loops, branch values
linear in the element, and the render stage's sharing of repeated expressions."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from program_runs import load_numpy_function_programs, load_rewritten, mismatch, outcome
from rewriter.pipeline import rewrite_source

_HEAD = "import numpy as np\nimport tensorflow as tf\n\n\n"
EAGER_AND_TRACED = {"eager": lambda fn: fn, "tf.function": tf.function}


def _differences(original, rewritten, cases, wraps=EAGER_AND_TRACED, exact=False) -> list:
    """Why the rewrite's outcome differs from the original's, for each case and wrap."""
    found = []
    for label, inputs in cases.items():
        for how, wrap in wraps.items():
            want = outcome(wrap(original), *[np.copy(x) for x in inputs])
            got = outcome(wrap(rewritten), *[np.copy(x) for x in inputs])
            problem = mismatch(want, got)
            if not problem and exact and want[0] == "ok" and not np.array_equal(want[1], got[1], equal_nan=True):
                problem = "values not exactly equal"
            if problem:
                found.append(f"{label} ({how}): {problem}")
    return found


# -- kron_matmul: an inf in a factor ----------------------------------------------------------

KRON = _HEAD + """\
def program(x, a, b):
    w = tf.numpy_function(np.kron, [a, b], tf.DTYPE)  # rewriter: args=DTYPE[None,None], DTYPE[None,None]
    w.set_shape([None, None])
    return tf.matmul(x, w)


def program_at(x, a, b):
    w = tf.numpy_function(np.kron, [a, b], tf.DTYPE)  # rewriter: args=DTYPE[None,None], DTYPE[None,None]
    return x @ w
"""


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kron_product_with_an_inf_or_nan_factor(tmp_path, dtype):
    """w = kron(a, b) holds inf * 0 = NaN where a has inf and b a zero, and x @ w sums that NaN
    in; contracting x with b first multiplied the inf by x's sum (inf where the original gives
    NaN). Factors with inf or NaN now build w; finite ones still never do."""
    ((original, rewritten, result),) = load_rewritten(tmp_path, {"kron": KRON.replace("DTYPE", dtype)}).values()
    assert "kron_matmul(x, a, b" in result.new and "np.kron" not in result.new.split("def program")[-1]
    inf, nan = np.inf, np.nan
    cases = {
        "inf in a, zero in b": ([[0, 1]], [[inf]], [[0], [1]]),
        "-inf in b, zero in a": ([[1, 1, 2, 0]], [[0, 1], [2, 0]], [[-inf, 1], [1, 1]]),
        "nan in b": ([[0, 1]], [[1]], [[nan], [1]]),
        "inf in x": ([[inf, 0]], [[1]], [[0], [1]]),
        "finite, no rows": (np.zeros([0, 4]), np.ones([2, 3]), np.ones([2, 2])),
        "finite, empty factor": (np.zeros([3, 0]), np.zeros([0, 2]), np.ones([2, 2])),
        "finite, batch of rows": (np.arange(24.0).reshape(2, 3, 4) - 7, np.arange(6.0).reshape(2, 3), -np.eye(2)),
    }
    cases = {label: tuple(np.asarray(v, dtype) for v in values) for label, values in cases.items()}
    for name in ("program", "program_at"):
        assert _differences(getattr(original, name), getattr(rewritten, name), cases) == [], name


def test_kron_matmul_with_an_inf_complex_factor():
    """The helper itself on complex factors (which the rewrite may hand it): as x @ kron(a, b)."""
    from rewriter.tf_helpers import kron_matmul

    x = np.array([[0, 1, 2j, 1]], np.complex128)
    a = np.array([[np.inf + 0j, 1]], np.complex128)
    b = np.array([[0, 1j], [1, 2], [0, 1], [1, 1]], np.complex128)
    with np.errstate(all="ignore"):
        want = x @ np.kron(a, b)
    got = kron_matmul(x, a, b).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~np.isnan(want)], want[~np.isnan(want)])


def test_kron_product_with_finite_factors_still_compiles_and_has_gradients(tmp_path):
    ((_, rewritten, _),) = load_rewritten(tmp_path, {"kron": KRON.replace("DTYPE", "float32")}).values()
    rng = np.random.default_rng(0)
    x, a, b = (rng.standard_normal(s).astype(np.float32) for s in ([5, 6], [2, 3], [3, 4]))
    reference = x @ np.kron(a, b)
    compiled = tf.function(rewritten.program, jit_compile=True)(x, a, b)
    np.testing.assert_allclose(compiled.numpy(), reference, rtol=1e-4, atol=1e-4)
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(rewritten.program(variable, a, b))
    np.testing.assert_allclose(tape.gradient(total, variable).numpy(), np.kron(a, b).sum(1)[None].repeat(5, 0),
                               rtol=1e-4, atol=1e-4)


# -- blocked scan of running max / min --------------------------------------------------------

RUNNING = _HEAD + """\
def program(x, init):
    out = tf.TensorArray(x.dtype, size=tf.shape(x)[0])
    running = init
    for t in tf.range(tf.shape(x)[0]):
        running = UPDATE
        out = out.write(t, running)
    return out.stack()
"""
UPDATES = {
    "maximum of a step expression": "tf.maximum(running, x[t] * 2)",
    "maximum, running second": "tf.maximum(x[t] - 1, running)",
    "minimum of a negation": "tf.math.minimum(running, -x[t])",
}
STEPS = (0, 1, 7, 9, 17, 65)


def _running_programs(folder):
    loaded = load_rewritten(folder, {f"p{k}": RUNNING.replace("UPDATE", u) for k, u in enumerate(UPDATES.values())})
    for original, rewritten, result in loaded.values():
        assert "tf.gather" in result.new.split("def program")[-1] and "for t in tf.range" not in result.new
    return [(o, r) for o, r, _ in loaded.values()]


def _running_inputs(pool, dtypes=("float32", "int32"), steps_tried=STEPS):
    rng = np.random.default_rng(5)
    cases = {}
    for steps in steps_tried:
        for dtype in dtypes:
            values = rng.choice(pool, size=(steps, 3)) if dtype.startswith("float") else rng.integers(-3, 3, (steps, 3))
            cases[f"{steps} steps, {dtype}"] = (values.astype(dtype), np.zeros(3, dtype))
    return cases


SPECIALS = np.array([-2, -0.0, 0.0, 1, 1, np.nan, np.inf, -np.inf, 1e38])


def test_running_max_and_min_are_exact_at_block_edges(tmp_path):
    """Eagerly and traced, every running value equals the loop's, NaN where NaN."""
    for original, rewritten in _running_programs(tmp_path):
        assert _differences(original.program, rewritten.program, _running_inputs(SPECIALS), exact=True) == []


def test_running_max_and_min_under_xla_without_nan(tmp_path):
    jit = {"jit_compile": lambda fn: tf.function(fn, jit_compile=True)}
    finite = np.array([-2, -0.0, 0.0, 1, 1, 3, 1e38, -1e38])
    cases = _running_inputs(finite, ("float32",), (1, 9, 17))  # no steps: the loop does not compile
    for original, rewritten in _running_programs(tmp_path):
        assert _differences(original.program, rewritten.program, cases, wraps=jit) == []


@pytest.mark.xfail(strict=True, reason="XLA's maximum/minimum do not propagate NaN (max(0, nan) = 0, "
                                       "max(nan, 0) = nan), so the result depends on the grouping: "
                                       "the scan's windows and blocks group differently from the loop")
def test_running_max_under_xla_with_nan(tmp_path):
    (original, rewritten), *_ = _running_programs(tmp_path)
    x = np.array([[np.nan, 1, -np.inf], [0, np.nan, 1], [2, 2, np.nan]], np.float32)
    jit = {"jit_compile": lambda fn: tf.function(fn, jit_compile=True)}
    assert _differences(original.program, rewritten.program, {"nan": (x, np.zeros(3, np.float32))}, wraps=jit) == []


def test_running_max_and_min_gradients_on_ties(tmp_path):
    """Ties between steps and with the initial value: each running value's gradient goes where
    the loop's goes (both arguments of tf.maximum / tf.minimum are read in the loop's order)."""
    rng = np.random.default_rng(8)
    for original, rewritten in _running_programs(tmp_path):
        for steps in (9, 17, 40):
            x = rng.integers(-1, 2, (steps, 3)).astype(np.float32)
            weights = tf.constant(rng.standard_normal((steps, 3)).astype(np.float32))
            gradients = []
            for module in (original, rewritten):
                variables = tf.Variable(x), tf.Variable(np.zeros(3, np.float32))
                with tf.GradientTape() as tape:
                    total = tf.reduce_sum(tf.function(module.program)(*variables) * weights)
                gradients.append([g.numpy() for g in tape.gradient(total, variables)])
            for want, got in zip(*gradients):
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# -- row scatter of target[b, row, col, k] = ... ----------------------------------------------

# the corpus program, on a 3x3 grid of 2 classes, its target in DTYPE
TARGETS = (Path(__file__).parent.parent / "corpus" / "loop_yolo_target_building.py").read_text() \
    .replace("GRID = 13", "GRID = 3").replace("NUM_CLASSES = 20", "NUM_CLASSES = 2") \
    .replace("dtype=np.float32)", "dtype=np.DTYPE)").replace("[boxes], tf.float32)", "[boxes], tf.DTYPE)")


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_target_rows_with_duplicate_negative_and_extreme_boxes(tmp_path, dtype):
    """Several boxes in one cell (the last wins, classes pile up), a negative class or column
    (from the end), a column past the grid (clamped), padding of -0.0 and NaN, huge sizes."""
    ((original, rewritten, result),) = load_rewritten(tmp_path, {"t": TARGETS.replace("DTYPE", dtype)}).values()
    assert "scatter_last_writes(" in result.new

    def boxes(*rows):
        return np.array([list(rows)], np.float32)

    cases = {
        "no images": np.zeros((0, 2, 5), np.float32),
        "no boxes": np.zeros((2, 0, 5), np.float32),
        "one box": boxes([1, .5, .5, .2, .3]),
        "three in one cell": boxes([0, .5, .5, .2, .3], [1, .5, .5, .4, .1], [0, .5, .55, .7, .9]),
        "negative column": boxes([0, -.5, .5, .2, .3], [1, -.1, .9, .2, .3], [1, -30, .5, .2, .3]),
        "negative class": boxes([-1, .5, .5, .2, .3], [-2, .1, .1, .2, .3]),
        "class past the last": boxes([2, .5, .5, .2, .3]),
        "on the far edge": boxes([1, 1.0, 1.0, .2, .3], [0, 0.999999, 0, 1, 1]),
        "padding -0.0 and NaN width": boxes([1, .5, .5, -0.0, .3], [0, .2, .2, np.nan, 1]),
        "huge and negative sizes": boxes([1, .5, .5, 1e38, 300.7], [0, .1, .1, 2, -1.5]),
        "NaN centre": boxes([1, np.nan, .5, .2, .3]),
    }
    if dtype == "uint8":  # a float out of uint8's range converts as the C library's cast does
        del cases["huge and negative sizes"]
    cases = {label: (x,) for label, x in cases.items()}
    cases["three in one cell, float64 boxes"] = (cases["three in one cell"][0].astype(np.float64),)
    assert _differences(original.program, rewritten.program, cases) == []


# -- branch values linear in the element -----------------------------------------------------

BRANCHES = {
    "linear both ways": ("""
        def signed_total(x):
            total = 0.0
            for v in x:
                if v > 0:
                    total += 2 * v
                else:
                    total += v - 1
            return total
        """, "tf.float64"),
    "huge coefficients and inf": ("""
        def split_totals(x):
            pos = 0.0
            neg = 0.0
            for v in x:
                if v > 0:
                    pos = pos + v * 1e308
                else:
                    neg = neg + (v - np.inf)
            return np.array([pos, neg])
        """, "tf.float64"),
}


def test_branch_values_linear_in_the_element_on_special_values(tmp_path):
    loaded = load_numpy_function_programs(tmp_path, BRANCHES)
    values = [[1.5], [-0.0, 0.0, 0.5, 1e308, -1e308, 3.0, -2.5], [np.nan, 1, -1], [np.inf, -np.inf, 2.0],
              [0.5, 0.5, -1, -1, 7]]
    cases = {f"{v}, {dtype}": (np.array(v, dtype),) for v in values for dtype in ("float64", "int32")
             if dtype == "float64" or np.isfinite(v).all() and np.abs(v).max() < 1e9}
    for name, (original, rewritten, result) in loaded.items():
        assert "tf.where(" in result.new and "tf.zeros_like(x)" not in result.new, name  # selected once
        assert _differences(original.program, rewritten.program, cases) == [], name


# -- render: sharing a repeated expression ----------------------------------------------------

def test_a_product_of_upper_case_tensors_is_computed_once():
    """`X * W` of two tensors (the usual names for data and weights) is shared; only arithmetic on
    the module's number constants (`M * M`) is not worth a local (it read UPPER_CASE as constant)."""
    text = _HEAD + textwrap.dedent("""\
        def score(X, W):
            return np.max(X * W) - np.min(X * W)


        def program(X, W):
            return tf.numpy_function(score, [X, W], tf.float32)  # rewriter: args=float32[None,None], float32[None,None]
        """)
    body = rewrite_source(text, "score.py").new.split("def score")[-1]
    assert body.count("X * W") == 1, body
