"""The NumPy-exact helpers (`rewriter/tf_helpers.py`): against NumPy itself, and how a
rewritten file gets them (once, in one marked block, under a name the file does not use)."""
from __future__ import annotations

import ast
import re
import textwrap
import warnings

import numpy as np
import pytest

from rewriter import helper_source
from rewriter.code_quality import measure
from rewriter.pipeline import rewrite_source

LENGTHS = (-3, 0, 1, 2, 3, 8, 101)
WINDOWS = ("hanning", "hamming", "blackman", "bartlett")


@pytest.fixture(scope="module")
def helpers(tf):
    from rewriter import tf_helpers

    return tf_helpers


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("given_as", ["python int", "int32", "int64", "traced int32"])
def test_windows_match_numpy(tf, helpers, name, given_as):
    helper = getattr(helpers, f"np_{name}")
    if given_as == "traced int32":
        helper = tf.function(helper, input_signature=[tf.TensorSpec([], tf.int32)])
    for m in LENGTHS:
        argument = m if given_as == "python int" else tf.constant(m, {"int64": tf.int64}.get(given_as, tf.int32))
        got = helper(argument).numpy()
        want = getattr(np, name)(m)
        assert got.dtype == want.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-16, err_msg=f"M={m}")


@pytest.mark.parametrize("beta", [0.0, 6.0, 8.6, 3, "float32 tensor"])
def test_kaiser_matches_numpy(tf, helpers, beta):
    for m in LENGTHS:
        argument = tf.constant(np.float32(2.5)) if beta == "float32 tensor" else beta
        want = np.kaiser(m, np.float32(2.5) if beta == "float32 tensor" else beta)
        got = helpers.np_kaiser(tf.constant(m), argument).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16, err_msg=f"M={m}, beta={beta}")


def test_every_helper_says_which_call_it_stands_for():
    for name, text in helper_source._sources().items():
        definition = ast.parse(text).body[0]
        docstring = ast.get_docstring(definition)
        if name.startswith("np_"):
            assert docstring.startswith(f"np.{name[3:]}("), name
        elif name.startswith("py_"):  # a Python builtin on a tensor
            assert docstring.startswith(f"{name[3:]}("), name
        else:  # what a TF wrapper returned, or was multiplied by; the order NumPy sorts in, what a loop wrote,
            # a NumPy idiom; the AutoGraph conversion a function gets
            assert docstring.startswith(("tf.numpy_function(", "tf.matmul(x, w) for w = tf.numpy_function(",
                                         "tf.autograph.to_graph(",
                                         "np.sort's order", "max() or min()", "`for` loop", "exp(z - z.max(")), name
        code = text.replace(definition.body[0].value.value, "")  # the docstring as written, not dedented
        assert "import" not in text and "np." not in code, "helpers need only tf"
        assert re.fullmatch(r"[a-z_]+", name), "helper names are letters and underscores (a clash adds digits)"


def test_helpers_read_like_code_a_reviewer_would_merge():
    for name, text in helper_source._sources().items():
        header = "import tensorflow as tf\n"
        assert measure(header, header + "\n\n" + text).problems() == [], name


SOURCE = '''\
import numpy as np
import tensorflow as tf


def spectrum(frames):
    return np.abs(np.fft.rfft(frames * np.hanning(frames.shape[-1]))) ** 2


@tf.function
def program(frames):
    return tf.numpy_function(spectrum, [frames], tf.float64)  # rewriter: args=frames:float64[None,None]
'''


def test_a_file_gets_each_helper_once_in_one_block_after_its_imports():
    new = rewrite_source(SOURCE, "m.py").new
    assert new.count(helper_source.BLOCK_START) == 1 and new.count("def np_hanning(") == 1
    assert new.index("import tensorflow as tf") < new.index(helper_source.BLOCK_START) < new.index("def spectrum")
    assert "np_hanning(tf.shape(frames)[-1])" in new
    assert "__rw_" not in new
    assert "import tensorflow as tf\n\n\n# -- rewriter helpers" in new
    assert "# -- end of rewriter helpers --\n\n\ndef spectrum" in new
    assert rewrite_source(new, "m.py").new == new, "a second run changes nothing"


def test_a_second_site_needing_a_helper_reuses_the_block():
    first = rewrite_source(SOURCE, "m.py").new
    more = first + textwrap.dedent('''

        def taper(x):
            return x * np.hamming(x.shape[-1]) * np.hanning(x.shape[-1])


        @tf.function
        def program2(x):
            return tf.numpy_function(taper, [x], tf.float64)  # rewriter: args=x:float64[None]
        ''')
    new = rewrite_source(more, "m.py").new
    assert new.count(helper_source.BLOCK_START) == 1
    assert new.count("def np_hanning(") == 1 and new.count("def np_hamming(") == 1
    block = new.split(helper_source.BLOCK_START)[1].split(helper_source.BLOCK_END)[0]
    assert "def np_hamming(" in block


def test_a_helper_takes_another_name_when_the_file_uses_its_own():
    source = SOURCE.replace("def spectrum", "def np_hanning(n):\n    return n\n\n\ndef spectrum")
    new = rewrite_source(source, "m.py").new
    assert "def np_hanning2(m):" in new and "np_hanning2(tf.shape(frames)[-1])" in new
    assert "def np_hanning(n):\n    return n\n" in new


def test_helpers_speak_the_files_tensorflow_alias():
    source = SOURCE.replace("import tensorflow as tf", "import tensorflow as tfl").replace("tf.", "tfl.")
    new = rewrite_source(source, "m.py").new
    assert "tfl.cast(tfl.maximum(m, 0), tfl.float64)" in new and " tf." not in new


def test_the_rewritten_file_runs_and_matches_the_original(tf):
    new = rewrite_source(SOURCE, "m.py").new
    original, rewritten = {}, {}
    exec(compile(SOURCE, "original", "exec"), original)
    exec(compile(new, "rewritten", "exec"), rewritten)
    frames = np.random.default_rng(0).normal(size=(3, 9))
    np.testing.assert_allclose(rewritten["program"](frames).numpy(), original["program"](frames).numpy(),
                               rtol=1e-12, atol=1e-12)


# -- interp, sort, argsort, searchsorted, digitize ------------------------------------------

REAL_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
FLOAT_DTYPES = ("float16", "float32", "float64")


def _assert_same(got, want, what=""):
    """Same dtype, shape and values (NaN where NumPy has NaN; -0.0 equals 0.0, as NumPy's sort)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: {got.dtype} != {want.dtype}"
    np.testing.assert_array_equal(got, want, err_msg=what)


def _samples(dtype, shape, rng, special=True):
    """Values of `dtype` with ties; floats salted with NaN, +-inf and signed zeros."""
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if np.dtype(dtype).kind in "iu":
        low = 0 if np.dtype(dtype).kind == "u" else -5
        return rng.integers(low, 6, size=shape).astype(dtype)
    values = rng.choice([-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, 1e4], size=shape)
    values = values + rng.normal(size=shape) * (rng.random(size=shape) < 0.5)
    if special and values.size:
        flat = values.reshape(-1)
        for value in (np.nan, np.inf, -np.inf, -0.0, np.nan):
            flat[rng.integers(0, flat.size)] = value
    return values.astype(dtype)


SHAPES = ((0,), (1,), (7,), (3, 5), (2, 0, 3), (2, 3, 4))


@pytest.mark.parametrize("dtype", REAL_DTYPES)
def test_sort_matches_numpy(tf, helpers, dtype):
    rng = np.random.default_rng(1)
    for shape in SHAPES:
        a = _samples(dtype, shape, rng)
        for axis in (-1, 0, None):
            _assert_same(helpers.np_sort(tf.constant(a), axis=axis), np.sort(a, axis=axis), f"{shape} axis={axis}")
    _assert_same(helpers.np_sort(a), np.sort(a), "a NumPy array")


@pytest.mark.parametrize("dtype", REAL_DTYPES)
def test_argsort_matches_numpys_stable_order(tf, helpers, dtype):
    rng = np.random.default_rng(2)
    for shape in ((), *SHAPES):
        a = _samples(dtype, shape, rng)
        for axis in ((-1, None) if shape == () else (-1, 0, None)):
            want = np.argsort(a, axis=axis, kind="stable")
            _assert_same(helpers.np_argsort(tf.constant(a), axis=axis), want, f"{shape} axis={axis}")


def test_sort_and_argsort_put_nans_last_under_a_traced_unknown_shape(tf, helpers):
    a = np.array([[np.nan, 1.0, -0.0, np.nan, -np.inf], [3.0, np.nan, 0.0, -1.0, np.inf]])
    spec = [tf.TensorSpec(None, tf.float64)]
    sort = tf.function(helpers.np_sort, input_signature=spec)
    argsort = tf.function(helpers.np_argsort, input_signature=spec)
    _assert_same(sort(a), np.sort(a))
    _assert_same(argsort(a), np.argsort(a, kind="stable"))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + ("int8", "int64", "uint8", "bool"))
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_matches_numpy(tf, helpers, dtype, side):
    rng = np.random.default_rng(3)
    for size in (0, 1, 9):
        a = np.sort(_samples(dtype, (size,), rng))
        for shape in ((), (0,), (6,), (2, 3)):
            v = _samples(dtype, shape, rng)
            got = helpers.np_searchsorted(tf.constant(a), tf.constant(v), side=side)
            _assert_same(got, np.searchsorted(a, v, side=side), f"a={a} v={v}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + ("int16", "int32", "int64", "uint8"))
@pytest.mark.parametrize("right", [False, True])
def test_digitize_matches_numpy_for_rising_and_falling_bins(tf, helpers, dtype, right):
    rng = np.random.default_rng(4)
    bins_list = ([], [1], [-1, 0, 0, 2], [3, 1, 1, 0], [2, 2], [0, 0, 1, 250], [250, 4, 4, 0])
    for bins in bins_list:
        if dtype == "uint8" and min(bins, default=0) < 0:
            continue
        bins = np.asarray(bins, dtype=dtype)
        for shape in ((), (0,), (11,), (3, 4)):
            x = _samples(dtype, shape, rng)
            got = helpers.np_digitize(tf.constant(x), tf.constant(bins), right=right)
            _assert_same(got, np.digitize(x, bins, right=right), f"bins={bins} x={x}")


def test_digitize_tells_the_direction_of_the_bins_in_float64_as_numpy(tf, helpers):
    bins = np.array([2**62 + 1, 2**62], np.int64)  # equal as float64: NumPy takes them as rising
    x = np.array([2**62, 2**62 + 1, 2**62 + 2], np.int64)
    _assert_same(helpers.np_digitize(tf.constant(x), tf.constant(bins)), np.digitize(x, bins))


KNOTS = (([-1.0, 0.0, 2.0], [0.0, 1.0, -1.0]), ([-1.0, 0.0, 0.0, 1.0], [1.0, 2.0, 3.0, 4.0]),
         ([0.5], [7.0]), ([0, 1], [1, 2]), ([0.0, 1.0, 2.0], [1.0, np.inf, 3.0]),
         ([0.0, 1.0, np.inf], [0.0, 1.0, 2.0]), ([1e-300, 1e300], [-1e300, 1e300]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_interp_matches_numpy(tf, helpers, dtype):
    rng = np.random.default_rng(5)
    for xp, fp in KNOTS:
        for shape in ((), (0,), (13,), (3, 4)):
            if dtype == "int64":
                x = rng.integers(-3, 4, size=shape)
            else:
                x = np.array(_samples("float64", shape, rng) * 0.7)
                flat, k = x.reshape(-1), min(2, x.size, len(xp))
                flat[:k] = xp[:k]  # exactly on knots
            with np.errstate(over="ignore"):  # 1e300 as float32
                x = np.asarray(x).astype(dtype)
            want = np.interp(x, np.asarray(xp, np.float64), np.asarray(fp, np.float64))
            for given in (tf.constant(x), x):
                _assert_same(helpers.np_interp(given, xp, fp), want, f"xp={xp} fp={fp} x={x}")


def test_interp_left_right_keep_python_floats_in_float64(tf, helpers):
    x = np.array([-5.0, 0.25, 5.0, np.nan])
    for left, right in ((0.1, 0.7), (-5, 7.5), (tf.constant(0.1, tf.float64), None), (None, np.float32(0.3))):
        want = np.interp(x, [0.0, 1.0], [1.0, 2.0], left=None if left is None else np.asarray(left),
                         right=None if right is None else np.asarray(right))
        _assert_same(helpers.np_interp(x, [0.0, 1.0], [1.0, 2.0], left=left, right=right), want, f"{left} {right}")


def test_interp_traced_with_unknown_shapes(tf, helpers):
    spec = tf.TensorSpec(None, tf.float64)
    interp = tf.function(lambda x, xp, fp: helpers.np_interp(x, xp, fp), input_signature=[spec] * 3)
    x = np.array([[-1.0, 0.0, 0.3], [np.nan, 2.0, 9.0]])
    xp, fp = np.array([-1.0, 0.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0, 4.0])
    _assert_same(interp(x, xp, fp), np.interp(x, xp, fp))


def test_interp_gradients_match_finite_differences(tf, helpers):
    """Through the slopes gathered per knot pair (and the tf.cond that skips NumPy's retry
    when no value is NaN), d/dx and d/dfp are the line's, away from the knots."""
    x = np.array([-0.2, 0.05, 0.3, 0.55, 0.9, 1.2])
    xp, fp = [0.0, 0.1, 0.4, 0.8, 1.0], np.array([1e-4, 2e-3, 1e-2, 1.5e-2, 2e-2])
    theoretical, numerical = tf.test.compute_gradient(lambda x, fp: helpers.np_interp(x, xp, fp),
                                                      [tf.constant(x), tf.constant(fp)])
    for t, n in zip(theoretical, numerical):
        np.testing.assert_allclose(t, n, atol=1e-7)


# -- max, min, median, quantile -----------------------------------------------------------

NUMERIC_DTYPES = FLOAT_DTYPES + ("int8", "int16", "int32", "int64", "uint8")
REDUCED_SHAPES = ((1,), (7,), (3, 5), (4, 0), (2, 3, 4))


def _reductions(shape):
    """(axis, keepdims) pairs NumPy reduces `shape` over without an empty slice."""
    axes = [None] if 0 not in shape else []
    axes += [a for a in range(-len(shape), len(shape)) if shape[a] != 0]
    return [(axis, keep) for axis in axes for keep in (False, True)]


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_keep_nans_as_numpy(tf, helpers, dtype, name):
    rng = np.random.default_rng(6)
    helper, numpy_fn = getattr(helpers, f"np_{name}"), getattr(np, name)
    for shape in REDUCED_SHAPES:
        a = _samples(dtype, shape, rng)
        for axis, keep in _reductions(shape):
            want = numpy_fn(a, axis=axis, keepdims=keep)
            _assert_same(helper(tf.constant(a), axis=axis, keepdims=keep), want, f"{shape} {axis} {keep}")


def test_max_keeps_nans_when_compiled_with_xla(tf, helpers):
    a = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    compiled = tf.function(lambda x: helpers.np_max(x, axis=-1), jit_compile=True)
    _assert_same(compiled(tf.constant(a)), np.max(a, axis=-1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_softmax_matches_numpys_idiom_with_nan_and_infinities(tf, helpers, dtype):
    """tf.nn.softmax alone leaves a slice with a NaN or +inf partly finite (float32 on CPU);
    NumPy's idiom makes it all NaN, as does the helper, also under XLA."""
    inf, nan = np.inf, np.nan
    special = np.array([[1, 2, 3], [nan, 1, 2], [inf, 1, 2], [-inf, 1, 2], [-inf, -inf, -inf], [inf, inf, 1],
                        [inf, -inf, 0], [nan, nan, nan], [1e4, -1e4, 0], [0, 0, 0]], dtype)
    finite = np.random.default_rng(3).standard_normal((4, 5, 6)).astype(dtype) * 5
    compiled = tf.function(helpers.numpy_softmax, jit_compile=True)
    for a in (special, special.T, finite, np.zeros((0, 3), dtype), np.array([0.5, -1.0], dtype)):
        for axis in range(-a.ndim, a.ndim):
            if a.shape[axis] == 0:
                continue  # NumPy's max raises
            with np.errstate(all="ignore"):
                shifted = np.exp(a - a.max(axis=axis, keepdims=True))
                want = shifted / shifted.sum(axis=axis, keepdims=True)
            for run in (helpers.numpy_softmax, compiled):
                got = run(tf.constant(a), axis).numpy()
                assert got.dtype == want.dtype and np.array_equal(np.isnan(got), np.isnan(want)), (a, axis)
                np.testing.assert_allclose(got, want, rtol={"float32": 1e-6, "float64": 1e-14}[dtype], atol=0)


def test_numpy_softmax_gradient_is_the_idioms(tf, helpers):
    z = tf.constant(np.random.default_rng(4).standard_normal((3, 5)))
    weights = tf.constant(np.random.default_rng(5).standard_normal((3, 5)))

    def idiom(z):
        e = tf.exp(z - tf.reduce_max(z, axis=-1, keepdims=True))
        return e / tf.reduce_sum(e, axis=-1, keepdims=True)

    gradients = []
    for softmax in (lambda z: helpers.numpy_softmax(z, -1), idiom):
        with tf.GradientTape() as tape:
            tape.watch(z)
            loss = tf.reduce_sum(weights * softmax(z))
        gradients.append(tape.gradient(loss, z).numpy())
    np.testing.assert_allclose(*gradients, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_median_matches_numpy(tf, helpers, dtype):
    rng = np.random.default_rng(7)
    for shape in ((0,), *REDUCED_SHAPES):
        a = _samples(dtype, shape, rng)
        for axis, keep in _reductions(shape) + [(None, False)] * (0 in shape):
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns on an empty axis
                want = np.median(a, axis=axis, keepdims=keep)
            _assert_same(helpers.np_median(tf.constant(a), axis=axis, keepdims=keep), want,
                         f"{shape} {axis} {keep}")


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
@pytest.mark.parametrize("q", [0.3, 0.0, 1.0, 0.5, [0.1, 0.5, 1.0], [0.25]])
def test_quantile_matches_numpy(tf, helpers, dtype, q):
    rng = np.random.default_rng(8)
    for shape in REDUCED_SHAPES:
        a = _samples(dtype, shape, rng)
        for axis in {axis for axis, _ in _reductions(shape)}:
            with np.errstate(invalid="ignore"):  # inf - inf between neighbours
                want = np.quantile(a, q, axis=axis)
            _assert_same(helpers.np_quantile(tf.constant(a), q, axis=axis), want, f"{shape} axis={axis}")


@pytest.mark.parametrize("dtype", ["float16", "float32", "int64"])
def test_a_percentile_is_the_quantile_at_q_over_100(tf, helpers, dtype):
    a = _samples(dtype, (5, 6), np.random.default_rng(9))
    for q in (30, 99.5, [0.5, 50, 95]):
        q_over_100 = np.true_divide(np.asarray(q), 100)
        q_text = float(q_over_100) if q_over_100.ndim == 0 else [float(v) for v in q_over_100]
        for axis in (None, 0, -1):
            with np.errstate(invalid="ignore"):
                want = np.percentile(a, q, axis=axis)
            _assert_same(helpers.np_quantile(tf.constant(a), q_text, axis=axis), want, f"q={q} axis={axis}")


def test_median_and_quantile_gradients_flow(tf, helpers):
    a = tf.constant([[3.0, 1.0, 2.0, 5.0], [0.5, 4.0, 1.5, 2.5]], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(a)
        median = tf.reduce_sum(helpers.np_median(a, axis=-1))
        quantile = tf.reduce_sum(helpers.np_quantile(a, [0.3, 0.9], axis=-1))
    np.testing.assert_array_equal(tape.gradient(median, a).numpy(), [[0.5, 0, 0.5, 0], [0, 0, 0.5, 0.5]])
    assert np.all(np.isfinite(tape.gradient(quantile, a).numpy()))
    assert tape.gradient(quantile, a).numpy().sum() == pytest.approx(4.0)


# -- unique ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", REAL_DTYPES)
def test_unique_matches_numpy_with_every_output(tf, helpers, dtype):
    rng = np.random.default_rng(10)
    flags = ("return_index", "return_inverse", "return_counts")
    for shape in ((), (0,), (1,), (9,), (3, 4), (2, 0, 3)):
        ar = _samples(dtype, shape, rng)
        _assert_same(helpers.np_unique(tf.constant(ar)), np.unique(ar), f"{ar}")
        for chosen in ((True, False, False), (False, True, False), (False, False, True), (True, True, True)):
            kwargs = dict(zip(flags, chosen))
            got, want = helpers.np_unique(tf.constant(ar), **kwargs), np.unique(ar, **kwargs)
            assert len(got) == len(want)
            for got_one, want_one in zip(got, want):
                _assert_same(got_one, want_one, f"{ar} {kwargs}")


def test_unique_collapses_nans_and_signed_zeros_as_numpy(tf, helpers):
    ar = np.array([np.nan, -0.0, 1.0, np.nan, 0.0, -np.inf, 1.0], np.float32)
    got = helpers.np_unique(ar, return_index=True, return_counts=True)
    for got_one, want_one in zip(got, np.unique(ar, return_index=True, return_counts=True)):
        _assert_same(got_one, want_one)


def _ranks(x):
    return np.argsort(x, axis=-1, kind="stable")


def _tapered(x):
    return x * np.hanning(x.shape[-1])


def _centred(x):
    return x - np.median(x, axis=-1, keepdims=True)


@pytest.mark.parametrize("function", [_ranks, _tapered, _centred], ids=["argsort", "hanning", "median"])
def test_a_decorated_function_that_needs_a_helper_runs(tf, function):
    """The decorator gives the helpers to the function it compiles: eagerly and in Dataset.map."""
    import warnings

    from rewriter import RewriterWarning, autograph_numpy

    x = np.array([[0.5, np.nan, -1.0, 3.0], [2.0, 0.0, 1.0, 1.0]])
    converted = autograph_numpy(function)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RewriterWarning)  # converted, not left to run NumPy
        _assert_same(converted(x), function(x))
    mapped = next(iter(tf.data.Dataset.from_tensors(x).map(converted)))
    _assert_same(mapped, function(x))

def test_a_helper_brings_the_helpers_it_calls_under_the_files_names():
    """np_argsort sorts by sort_key: a file using it gets both, and a clash renames both the
    definition and the call."""
    assert helper_source.used("y = __rw_np_argsort(x)") == ["np_argsort", "sort_key"]
    source = SOURCE.replace("np.hanning(frames.shape[-1])", "np.argsort(frames, axis=-1)[..., :1]") \
        .replace("def spectrum", "def sort_key(v):\n    return v\n\n\ndef spectrum")
    new = rewrite_source(source, "m.py").new
    block = new.split(helper_source.BLOCK_START)[1].split(helper_source.BLOCK_END)[0]
    assert "def sort_key2(a):" in block and "tf.argsort(sort_key2(a)" in block
    assert "def sort_key(v):\n    return v\n" in new
