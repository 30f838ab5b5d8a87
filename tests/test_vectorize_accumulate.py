"""Loops that keep a flag, a count or a running best over the rows of an array become
reductions with NumPy's values and dtypes: `tf.reduce_any`/`tf.reduce_all` for flags, and for
`if v > best: best = v` the row Python keeps (the first of the largest, never a NaN, the sign
of a zero included). Loops where a reduction would change a result stay loops or are refused."""
import textwrap
import warnings

import numpy as np
import pytest

from graph_ops import LOOP_OPS, graph_ops, loop_ops
from rewriter import facts as F
from rewriter.function import Refusal, convert_function
from rewriter.pipeline import rewrite_source

FLOATS, INTS = ("float32", "float64"), ("int32", "int64")

# name: (loop body of `def f(x)`, dtypes of x it applies to)
SHAPES = {
    "any-flag": ("""
        found = False
        for r in x:
            if r.sum() > 1.0:
                found = True
        return found""", FLOATS + INTS),
    "any-flag-break": ("""
        found = False
        for r in x:
            if r.max() > 2:
                found = True
                break
        return found""", FLOATS + INTS),
    "any-flag-in-arithmetic": ("""
        found = False
        for r in x:
            if r.max() > 2:
                found = True
        return found * 2.5, found""", FLOATS),
    "all-flag": ("""
        ok = True
        for r in x:
            if r.min() < -1:
                ok = False
        return ok""", FLOATS + INTS),
    "all-flag-break-in-else": ("""
        ok = True
        for r in x:
            if r.sum() < 4:
                pass
            else:
                ok = False
                break
        return ok""", FLOATS + INTS),
    "any-flag-after-continue": ("""
        found = False
        for r in x:
            if r.min() < 0:
                continue
            found = True
        return found""", FLOATS + INTS),
    "or-assign": ("""
        found = False
        for r in x:
            found |= r.max() > 1
        return found""", FLOATS + INTS),
    "and-assign-under-if": ("""
        ok = True
        mask = np.zeros(3, dtype=bool)
        for r in x:
            if r.sum() > 0:
                ok &= r.min() > -2
            mask |= r > 1
        return ok, mask""", FLOATS + INTS),
    "count-bools": ("""
        n = 0
        share = 0.0
        for r in x:
            n += r.sum() > 0
            share += r.max() > 1
        return n, share""", FLOATS + INTS),
    "best-if-greater": ("""
        best = -np.inf
        for r in x:
            if r.max() > best:
                best = r.max()
        return best""", FLOATS),
    "best-if-mirrored-greater-equal": ("""
        best = -np.inf
        for r in x:
            if best <= r.max():
                best = r.max()
        return best""", FLOATS),
    "least-if-less": ("""
        least = np.inf
        for r in x:
            if r.min() < least:
                least = r.min()
        return least""", FLOATS),
    "least-if-less-equal-nan-start": ("""
        least = np.nan
        for r in x:
            if r.min() <= least:
                least = r.min()
        return least""", FLOATS),
    "builtin-max-zero-start": ("""
        best = 0
        for r in x:
            best = max(best, r.max())
        return best""", FLOATS + INTS + ("uint8",)),
    "builtin-min": ("""
        least = 1
        for r in x:
            least = min(least, r.min())
        return least""", FLOATS + INTS),
    "builtin-max-value-first-ints": ("""
        best = 0
        for r in x:
            best = max(r.sum(), best)
        return best""", INTS),
    "argmax-first": ("""
        best = -np.inf
        best_i = -1
        for i, r in enumerate(x):
            if r.max() > best:
                best = r.max()
                best_i = i
        return best, best_i""", FLOATS),
    "argmin-last": ("""
        least = 5
        where = -1
        for i, r in enumerate(x):
            if least >= r.min():
                where = i
                least = r.min()
        return least, where""", FLOATS + INTS),
}


def _source(body):
    return "import numpy as np\n\n\ndef f(x):" + textwrap.indent(textwrap.dedent(body), "    ") + "\n"


def _inputs(dtype):
    """Rows of several kinds: plain, none, repeated (ties), NaN rows, signed zeros."""
    rng = np.random.default_rng(11)
    if np.dtype(dtype).kind in "iu":
        plain = rng.integers(0 if dtype == "uint8" else -3, 4, (7, 3)).astype(dtype)
        return [plain, plain[:0], np.repeat(plain[:2], 3, axis=0)]
    plain = (rng.standard_normal((7, 3)) * 2).astype(dtype)
    ties = plain.copy()
    ties[5] = ties[1] = plain[3]
    nan_rows = plain.copy()
    nan_rows[0] = np.nan
    nan_rows[4, 1] = np.nan
    zeros = np.array([[-0.0, -1, -2], [0.0, -1, -3], [-0.0, -5, 0.0], [0.0, 0.0, 0.0]], dtype)
    return [plain, plain[:0], ties, nan_rows, np.full((3, 3), np.nan, dtype), zeros, zeros[::-1].copy()]


def _both(body, dtype):
    """The original NumPy f and its rewrite (run eagerly), and the rewritten text."""
    import tensorflow as tf

    source = _source(body)
    converted = convert_function(source, "f", {"x": F.array(dtype, 2, fresh=False)})
    original, rewritten = {"np": np}, {"tf": tf, "np": np}
    exec(source, original)
    exec(converted.text, rewritten)
    return original["f"], rewritten["f"], converted.text


def _assert_same(have, want):
    """Values (NaN where NumPy has NaN, the sign of a zero), and the dtype: exactly NumPy's for
    a NumPy value; for a Python number (a start no row replaced), one it is a weak scalar of,
    which is the dtype NumPy gives when a row does replace it."""
    have = np.asarray(have)
    if isinstance(want, (bool, int, float)):
        assert np.result_type(have.dtype, want) == have.dtype, (have.dtype, type(want))
    else:
        assert have.dtype == np.asarray(want).dtype, (have.dtype, np.asarray(want).dtype)
    np.testing.assert_array_equal(have, want)
    if have.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(have), np.signbit(want))


CASES = [(name, dtype) for name, (_, dtypes) in SHAPES.items() for dtype in dtypes]


@pytest.mark.parametrize("name, dtype", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_loop_becomes_reductions_with_numpy_results(tf, name, dtype):
    body, _ = SHAPES[name]
    original, rewritten, text = _both(body, dtype)
    assert "for " not in text, text
    # traced, as it runs inside a tf.function (a bare Python float is float32 there)
    rewritten = tf.function(rewritten, input_signature=[tf.TensorSpec([None, 3], dtype)])
    for x in _inputs(dtype):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            want = original(x)
        have = rewritten(tf.constant(x))
        wants, haves = (want, have) if isinstance(want, tuple) else ((want,), (have,))
        for have_one, want_one in zip(haves, wants):
            _assert_same(have_one, want_one)


@pytest.mark.parametrize("name", ["any-flag-break", "argmax-first", "count-bools"])
def test_traced_rewrite_has_no_loop(tf, name):
    _, rewritten, _ = _both(SHAPES[name][0], "float32")
    assert not loop_ops(tf, rewritten, tf.TensorSpec([None, 3], tf.float32))


def test_best_row_gradient_matches_finite_differences(tf):
    """The kept value is gathered from its row: its gradient is the original's."""
    original, rewritten, _ = _both(SHAPES["argmax-first"][0], "float64")
    x = np.random.default_rng(3).standard_normal((5, 3))
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        best, _ = rewritten(variable)
    gradient = tape.gradient(best, variable).numpy()
    step = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (original(up)[0] - original(down)[0]) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, atol=1e-6)


PROGRAM = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    def summarize(x):
        found = False
        for r in x:
            if r.sum() > 3.0:
                found = True
                break
        best = -np.inf
        best_i = -1
        for i, r in enumerate(x):
            if r.max() > best:
                best = r.max()
                best_i = i
        return found, best, best_i


    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def program(x):
        return tf.numpy_function(summarize, [x], [tf.bool, tf.float32, tf.int64])
    """)


def test_numpy_function_site_is_converted(tf, tmp_path):
    result = rewrite_source(PROGRAM, "m.py")
    assert [c.status for c in result.conversions] == ["converted"]
    assert "return summarize(x)" in result.new and "for " not in result.new
    programs = []
    for text in (PROGRAM, result.new):
        namespace = {}
        exec(compile(text, str(tmp_path / "m.py"), "exec"), namespace)
        programs.append(namespace["program"])
    x = np.random.default_rng(9).standard_normal((8, 3)).astype(np.float32)
    x[2] = np.nan
    for want, have in zip(programs[0](x), programs[1](x)):
        assert have.dtype == want.dtype
        np.testing.assert_array_equal(have.numpy(), want.numpy())
    assert not graph_ops(programs[1].get_concrete_function()) & LOOP_OPS


# -- shapes that must not become reductions ---------------------------------------------

NOT_REDUCTIONS = {
    "int-or-is-bitwise": ("""
        bits = 0
        for r in x:
            bits |= r.sum()
        return bits""", "int64"),
    "sum-of-bools-is-a-logical-or": ("""
        seen = False
        for r in x:
            seen += r.sum() > 0
        return seen""", "float64"),
    "break-would-stop-another-sum": ("""
        found = False
        total = 0.0
        for r in x:
            total += r.sum()
            if r.max() > 1:
                found = True
                break
        return found, total""", "float64"),
    "flag-body-does-more": ("""
        found = False
        last = 0.0
        for r in x:
            if r.max() > 1:
                found = True
                last = r.sum()
        return found, last""", "float64"),
    "flag-not-a-python-bool": ("""
        found = 0
        for r in x:
            if r.max() > 1:
                found = True
        return found""", "float64"),
    "best-body-does-more": ("""
        best = -np.inf
        changes = 0
        for r in x:
            if r.max() > best:
                best = r.max()
                changes += 1
        return best, changes""", "float64"),
    "best-keeps-another-value": ("""
        best = -np.inf
        for r in x:
            if r.max() > best:
                best = r.min()
        return best""", "float64"),
    "best-start-not-exact-in-float32": ("""
        best = 0.1
        for r in x:
            if r.max() > best:
                best = r.max()
        return best""", "float32"),
    "best-of-random-draws": ("""
        best = -np.inf
        for r in x:
            if np.random.rand() > best:
                best = np.random.rand()
        return best""", "float64"),
    "counter-used-elsewhere": ("""
        best = -np.inf
        best_i = -1
        total = 0
        for i, r in enumerate(x):
            total += i
            if r.max() > best:
                best = r.max()
                best_i = i
        return best, best_i, total""", "float64"),
    "row-read-after-the-loop": ("""
        best = -np.inf
        for r in x:
            if r.max() > best:
                best = r.max()
        return best + r.sum()""", "float64"),
}


@pytest.mark.parametrize("name", NOT_REDUCTIONS, ids=list(NOT_REDUCTIONS))
def test_other_loops_stay_loops_or_are_refused(tf, name):
    body, dtype = NOT_REDUCTIONS[name]
    try:
        original, rewritten, text = _both(body, dtype)
    except Refusal:
        return  # refused: the site stays NumPy, which is also right
    assert "for " in text and not any(f in text for f in ("| tf.reduce_any", "& tf.reduce_all", "_values = ")), text
    x = np.random.default_rng(5).integers(-2, 3, (6, 3)).astype(dtype)
    if "random" not in body:
        wants, haves = original(x), rewritten(tf.constant(x))
        wants, haves = (wants, haves) if isinstance(wants, tuple) else ((wants,), (haves,))
        for have, want in zip(haves, wants):
            np.testing.assert_allclose(np.asarray(have), want)


@pytest.mark.parametrize("which", ["max", "min"])
def test_builtin_extremum_with_value_first_on_floats_is_refused(which):
    """`max(v, best)` keeps `v` on ties and lets a NaN `v` in: refused, with the reason."""
    body = f"""
        best = 0.0
        for r in x:
            best = {which}(r.max(), best)
        return best"""
    with pytest.raises(Refusal, match=rf"only `{which}\(best, v\)` becomes a reduction"):
        convert_function(_source(body), "f", {"x": F.array("float64", 2, fresh=False)})
