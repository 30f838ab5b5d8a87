"""Semantic pitfalls of the reductions family: each test runs the rewrite on inputs that expose
one difference between NumPy and the obvious TensorFlow call, checks the rewrite against NumPy,
and checks that the obvious (naive) TensorFlow mapping gets those inputs wrong."""
import warnings

import numpy as np
import pytest

from rewriter import facts as F
from rewriter.function import convert_function

NAN = np.nan


def rewrite(tf, expression, **arrays):
    """The rewritten `lambda arrays: expression` as a callable on tensors, and its source."""
    names = list(arrays)
    source = f"import numpy as np\n\n\ndef f({', '.join(names)}):\n    return {expression}\n"
    facts = {n: F.array(np.asarray(v).dtype, np.ndim(v), fresh=False) for n, v in arrays.items()}
    converted = convert_function(source, "f", facts)
    namespace = {"tf": tf, "np": np}
    exec(converted.text, namespace)
    return namespace["f"], converted.text


def check(tf, expression, **arrays):
    """Run NumPy and the rewrite on `arrays`; assert same dtype, shape and values (NaN too).
    Returns NumPy's answer."""
    fn, text = rewrite(tf, expression, **arrays)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = np.asarray(eval(expression, {"np": np}, dict(arrays)))
    got = np.asarray(fn(*[tf.constant(v) for v in arrays.values()]))
    assert got.dtype == want.dtype, text
    assert got.shape == want.shape, text
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=text)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True, err_msg=text)
    return want


def differs(naive, want):
    """The naive TF value differs from NumPy's (dtype, shape, or a value)."""
    naive = np.asarray(naive)
    if naive.dtype != want.dtype or naive.shape != want.shape:
        return True
    return not np.allclose(naive.astype(np.float64), want.astype(np.float64), equal_nan=True)


def test_std_ddof_is_not_reduce_std(tf):
    a = np.array([[1.0, 2.0, 4.0, 7.0], [0.5, -1.0, 3.0, 3.0]])
    want = check(tf, "np.std(a, axis=1, ddof=1)", a=a)
    assert differs(tf.math.reduce_std(tf.constant(a), axis=1), want)
    want = check(tf, "np.var(a, ddof=1)", a=a)
    assert differs(tf.math.reduce_variance(tf.constant(a)), want)


def test_var_with_ddof_above_count_is_inf_not_negative(tf):
    # NumPy divides by max(n - ddof, 0); scaling reduce_variance by n / (n - ddof) goes negative.
    a = np.array([[1.0, 3.0], [2.0, 2.0]])
    want = check(tf, "np.var(a, axis=1, ddof=3)", a=a)
    assert np.isinf(want[0]) and np.isnan(want[1])
    n = 2.0
    naive = tf.math.reduce_variance(tf.constant(a), axis=1) * n / (n - 3)
    assert differs(naive, want)


def test_int_mean_is_float64(tf):
    a = np.array([1, 2, 2, 2], dtype=np.int32)
    want = check(tf, "np.mean(a)", a=a)
    assert want.dtype == np.float64 and want == 1.75
    assert differs(tf.reduce_mean(tf.constant(a)), want)  # integer mean truncates to 1


def test_int32_sum_accumulates_in_int64(tf):
    a = np.array([2**31 - 1, 1], dtype=np.int32)
    want = check(tf, "np.sum(a)", a=a)
    assert want == 2**31 and want.dtype == np.int64
    assert differs(tf.reduce_sum(tf.constant(a)), want)  # wraps around in int32
    want = check(tf, "np.cumsum(a)", a=a)
    assert differs(tf.cumsum(tf.constant(a)), want)


def test_bool_sum_counts(tf):
    a = np.array([[True, False, True], [True, True, True]])
    want = check(tf, "np.sum(a, axis=1)", a=a)
    np.testing.assert_array_equal(want, [2, 3])
    with pytest.raises(Exception):  # TF has no sum kernel for bool
        tf.reduce_sum(tf.constant(a), axis=1)


def test_sum_initial_starts_an_empty_reduction(tf):
    a = np.zeros((0, 3), dtype=np.float32)
    want = check(tf, "np.max(a, axis=0, initial=-2.0)", a=a)
    np.testing.assert_array_equal(want, [-2.0, -2.0, -2.0])
    assert differs(tf.reduce_max(tf.constant(a), axis=0), want)  # -inf without the initial value
    check(tf, "np.sum(a, axis=0, initial=5.0)", a=a)


def test_median_of_even_count_averages_middle_values(tf):
    a = np.array([[4.0, 1.0, 3.0, 2.0], [10.0, -1.0, 0.0, 5.0]], dtype=np.float32)
    want = check(tf, "np.median(a, axis=1)", a=a)
    np.testing.assert_array_equal(want, [2.5, 2.5])
    n = a.shape[1]
    naive = tf.sort(tf.constant(a), axis=1)[:, n // 2]
    assert differs(naive, want)
    check(tf, "np.median(a)", a=a)
    check(tf, "np.median(a.astype(np.int64), axis=0, keepdims=True)", a=a)


def test_median_with_nan_is_nan(tf):
    # TF's sort misplaces NaN; NumPy's median of a slice holding NaN is NaN.
    a = np.array([[NAN, 5.0, 1.0, 2.0, 4.0], [4.0, 1.0, 3.0, 2.0, 0.0]])
    want = check(tf, "np.median(a, axis=1)", a=a)
    assert np.isnan(want[0]) and want[1] == 2.0
    assert differs(tf.sort(tf.constant(a), axis=1)[:, 2], want)


def test_percentile_linear_interpolation_with_q_list(tf):
    a = np.array([[7.0, 1.0, 4.0, 9.0, 2.5], [0.0, -3.0, 8.0, 1.0, 1.0]], dtype=np.float32)
    want = check(tf, "np.percentile(a, [10, 50, 95], axis=1)", a=a)
    assert want.shape == (3, 2) and want.dtype == np.float64
    # Nearest rank (what a sort-and-index mapping gives) is not NumPy's linear method.
    s = tf.sort(tf.constant(a), axis=1)
    index = np.round((a.shape[1] - 1) * np.array([0.1, 0.5, 0.95])).astype(int)
    naive = tf.transpose(tf.gather(s, index, axis=1))
    assert differs(naive, want)
    # Scalar q keeps the input's float dtype; a list of q gives float64.
    assert check(tf, "np.quantile(a, 0.3)", a=a).dtype == np.float32
    check(tf, "np.quantile(a, [0.0, 0.25, 1.0], axis=0)", a=a)


def test_quantile_of_small_ints_wraps_the_difference_like_numpy(tf):
    # NumPy takes b - a in the input dtype before interpolating: int8 100 - (-100) wraps.
    a = np.array([-100, 100], dtype=np.int8)
    want = check(tf, "np.quantile(a, 0.25)", a=a)
    exact = -100 + 0.25 * 200
    assert want != exact


def test_quantile_with_nan_slice_is_nan(tf):
    a = np.array([[1.0, NAN, 3.0], [1.0, 2.0, 3.0]])
    want = check(tf, "np.percentile(a, 50, axis=1)", a=a)
    assert np.isnan(want[0]) and want[1] == 2.0


def test_cumsum_axis_none_flattens(tf):
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    want = check(tf, "np.cumsum(a)", a=a)
    assert want.shape == (6,)
    assert differs(tf.cumsum(tf.constant(a)), want)
    check(tf, "a.cumprod()", a=a + 1)


@pytest.mark.parametrize("expression", ["np.cumprod(a, axis=-1)", "np.cumprod(a)", "np.multiply.accumulate(a, axis=1)"])
def test_cumprod_gradient_is_right_at_zeros(tf, expression):
    # d/dx1 of x0 + x0 x1 + x0 x1 x2 + x0 x1 x2 x3 at x = (2, 0, 3, 4) is 2 + 6 + 24 = 32;
    # tf.math.cumprod's gradient gives 0 there.
    a = np.array([[2.0, 0.0, 3.0, 4.0]])
    check(tf, expression, a=a)
    fn, text = rewrite(tf, expression, a=a)
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(fn(x))
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), [[1.0, 32.0, 0.0, 0.0]], err_msg=text)
    with tf.GradientTape() as tape:
        tape.watch(x)
        naive = tf.reduce_sum(tf.math.cumprod(x, axis=-1))
    assert tape.gradient(naive, x).numpy()[0, 1] != 32.0


@pytest.mark.parametrize("dtype, values", [
    ("float32", [1e30, 1e30, 1e-30, 1e-30]),  # NumPy: inf from the second entry on
    ("float64", [1e300, 1e300, 1e-300, 1e-300, 3.0]),
    ("float16", [200, 3, 7, 0.1, 1e-3, 1e-3]),  # float16 subnormals at the end
    ("float32", [-1.0, 0.0, 2.0, 5.0]),  # -0.0 from the second entry on
])
def test_cumprod_multiplies_in_order(tf, dtype, values):
    # A running product regrouped (as by log-step doubling) overflows to inf or underflows to 0
    # at other entries than NumPy's, which multiplies in order; tf.math.cumprod does too.
    a = np.array(values, dtype)
    want = check(tf, "np.cumprod(a)", a=a)
    fn, text = rewrite(tf, "np.cumprod(a)", a=a)
    for signature in ([tf.TensorSpec(a.shape, dtype)], [tf.TensorSpec([None], dtype)], None):
        got = (tf.function(fn, input_signature=signature) if signature else fn)(tf.constant(a)).numpy()
        np.testing.assert_array_equal(got, want, err_msg=text)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=text)
        assert got.tobytes() == tf.math.cumprod(tf.constant(a)).numpy().tobytes()


def test_cumprod_gradient_where_the_product_overflows(tf):
    # The gradient comes from the doubling product D through `stop_gradient(D) - D`, left out
    # where D overflows (there it is inf - inf = NaN, and its gradient inf); traced with an
    # unknown length, the gradient is right at zeros as well.
    fn, text = rewrite(tf, "np.cumprod(a, axis=-1)", a=np.zeros((1, 3)))
    gradient = tf.function(lambda x: tf.gradients(tf.reduce_sum(fn(x)), x)[0],
                           input_signature=[tf.TensorSpec([None, None], tf.float32)])
    overflowing = gradient(tf.constant([[1e30, 1e30, 2.0]])).numpy()
    assert np.isfinite(overflowing).all(), (overflowing, text)
    np.testing.assert_allclose(gradient(tf.constant([[2.0, 0.0, 3.0, 4.0]])).numpy(), [[1.0, 32.0, 0.0, 0.0]],
                               err_msg=text)


def test_argmax_ties_first_index_nan_and_flattening(tf):
    a = np.array([1.0, 3.0, 3.0, 2.0])
    want = check(tf, "np.argmax(a)", a=a)
    assert want == 1
    check(tf, "np.argmin(-a)", a=a)
    # NumPy returns the first NaN; TF's argmax skips NaN.
    b = np.array([1.0, NAN, 5.0, NAN])
    want = check(tf, "np.argmax(b)", b=b)
    assert want == 1
    assert differs(tf.argmax(tf.constant(b)), want)
    assert check(tf, "np.argmin(b)", b=b) == 1
    # axis=None is the index into the flattened array (TF's default is axis 0).
    c = np.array([[0.0, 9.0], [5.0, 1.0]])
    want = check(tf, "np.argmax(c)", c=c)
    assert want == 1
    assert differs(tf.argmax(tf.constant(c)), want)
    check(tf, "np.argmax(c, axis=0, keepdims=True)", c=c)


def test_all_any_on_floats_nan_is_true(tf):
    a = np.array([NAN, 2.0, -1.0])
    assert check(tf, "np.all(a)", a=a) == np.True_
    b = np.array([NAN, 0.0])
    assert check(tf, "np.any(b)", b=b) == np.True_
    assert check(tf, "np.all(b)", b=b) == np.False_
    with pytest.raises(Exception):  # TF's logical reductions take only bools
        tf.reduce_all(tf.constant(a))
    # A comparison-based mapping loses NaN's truth value.
    assert differs(tf.reduce_all(tf.constant(a) > 0), np.True_) or differs(
        tf.reduce_all(tf.abs(tf.constant(a)) > 0), np.True_)


def test_nan_reductions_of_all_nan_slices(tf):
    a = np.array([[NAN, NAN], [1.0, NAN]])
    want = check(tf, "np.nansum(a, axis=1)", a=a)
    np.testing.assert_array_equal(want, [0.0, 1.0])
    assert differs(tf.reduce_sum(tf.constant(a), axis=1), want)
    want = check(tf, "np.nanmax(a, axis=1)", a=a)
    assert np.isnan(want[0]) and want[1] == 1.0
    x = tf.constant(a)
    assert differs(tf.reduce_max(tf.where(tf.math.is_nan(x), -np.inf, x), axis=1), want)
    want = check(tf, "np.nanmean(a, axis=1)", a=a)
    assert np.isnan(want[0]) and want[1] == 1.0
    check(tf, "np.nanprod(a, axis=0)", a=a)
    check(tf, "np.nanmin(a)", a=a)
    check(tf, "np.nancumsum(a)", a=a)


def test_nanvar_with_no_degrees_of_freedom_is_nan(tf):
    # np.var divides by max(n - ddof, 0) (inf); np.nanvar gives NaN there.
    a = np.array([[1.0, NAN, 3.0], [2.0, NAN, NAN]])
    want = check(tf, "np.nanvar(a, axis=1, ddof=1)", a=a)
    assert want[0] == 2.0 and np.isnan(want[1])
    check(tf, "np.nanstd(a, axis=1)", a=a)


def test_nanargmax_ignores_nan(tf):
    a = np.array([[NAN, 2.0, 7.0], [-np.inf, NAN, -5.0]])
    want = check(tf, "np.nanargmax(a, axis=1)", a=a)
    np.testing.assert_array_equal(want, [2, 2])
    check(tf, "np.nanargmin(a, axis=1)", a=a)


def test_diff_of_bools_is_not_equal(tf):
    a = np.array([True, False, False, True])
    want = check(tf, "np.diff(a)", a=a)
    assert want.dtype == np.bool_
    with pytest.raises(Exception):  # TF refuses `-` on bools
        tf.constant(a)[1:] - tf.constant(a)[:-1]
    b = np.array([[1, 5, 2], [0, 0, 9]], dtype=np.uint8)
    check(tf, "np.diff(b, axis=1)", b=b)  # wraps around in uint8, as NumPy
    check(tf, "np.diff(b, n=2)", b=b)


def test_average_with_weights_along_an_axis(tf):
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    w = np.array([1.0, 0.0, 3.0])
    want = check(tf, "np.average(a, axis=0, weights=w)", a=a, w=w)
    np.testing.assert_allclose(want, [4.0, 5.0])
    assert differs(tf.reduce_mean(tf.constant(a), axis=0), want)


def test_float16_mean_accumulates_in_float32(tf):
    a = np.full(4096, 1.0, dtype=np.float16)
    a[0] = 2048.0
    want = check(tf, "np.mean(a)", a=a)
    # Summing in float16 stalls at 2048 (+1 rounds away), so the float16 mean is far off.
    assert differs(tf.reduce_sum(tf.constant(a)) / 4096, want)
