"""Semantic pitfalls of elementwise NumPy code, each run through the rewriter and compared with
NumPy, next to the naive TF mapping, which must give a different answer on the same inputs (so
each test fails if a pattern is simplified to the naive form)."""
import numpy as np
import pytest

from rewrite_and_run import rewrite_and_run
from rewriter import facts as F
from rewriter.function import Inconsistent, Refusal, convert_function


def _source(expr, names):
    return f"import numpy as np\n\n\ndef f({', '.join(names)}):\n    return {expr}\n"


def rewrite(tf, expr, **arrays):
    """(rewrite's result, NumPy's result, rewritten text) of `expr` over the named arrays."""
    return rewrite_and_run(tf, expr, **arrays)


def refused(expr, **arrays):
    facts = {n: F.array(v.dtype, v.ndim, fresh=False) for n, v in arrays.items()}
    with pytest.raises((Refusal, Inconsistent)):  # left unchanged, with the reason
        convert_function(_source(expr, list(arrays)), "f", facts)
    return True


def same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    return got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want, equal_nan=True)


def test_round_half_to_even(tf):
    a = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 3.5], np.float64)
    got, want, _ = rewrite(tf, "np.round(a)", a=a)
    assert same(got, want) and list(want) == [0.0, 2.0, 2.0, -0.0, -2.0, 4.0]
    naive = tf.floor(tf.constant(a) + 0.5).numpy()  # "round half up"
    assert not np.array_equal(naive, want)


def test_round_decimals_computed_in_the_array_dtype(tf):
    a = np.array([2.675, 0.125, -1.005], np.float32)
    got, want, _ = rewrite(tf, "np.round(a, 2)", a=a)
    assert same(got, want)
    assert want[0] == np.float32(2.68)  # float32 2.675 * 100 rounds to 267.5, then to even 268
    # Naive: round in float64 and cast back gives 2.67.
    naive = tf.cast(tf.math.rint(tf.cast(tf.constant(a), tf.float64) * 100) / 100, tf.float32).numpy()
    assert not np.array_equal(naive, want)


def test_round_negative_decimals_on_integers(tf):
    a = np.array([15, 25, -15, -25, 35, 44], np.int32)
    got, want, _ = rewrite(tf, "np.round(a, -1)", a=a)
    assert same(got, want) and list(want) == [20, 20, -20, -20, 40, 40]
    naive = (tf.math.floordiv(tf.constant(a) + 5, 10) * 10).numpy()  # half up
    assert not np.array_equal(naive, want)


def test_integer_floor_division_and_remainder_of_negatives(tf):
    a, b = np.array([-7, 7, -7], np.int32), np.array([2, -2, -2], np.int32)
    got, want, _ = rewrite(tf, "a // b", a=a, b=b)
    assert same(got, want) and list(want) == [-4, -4, 3]
    assert not np.array_equal(tf.truncatediv(tf.constant(a), tf.constant(b)).numpy(), want)
    got, want, _ = rewrite(tf, "a % b", a=a, b=b)
    assert same(got, want) and list(want) == [1, -1, -1]
    assert not np.array_equal(tf.truncatemod(tf.constant(a), tf.constant(b)).numpy(), want)


def test_float_floor_division_is_not_floor_of_quotient(tf):
    a, b = np.array([1.0]), np.array([0.1])
    assert np.floor_divide(a, b)[0] == 9.0
    assert tf.math.floordiv(tf.constant(a), tf.constant(b)).numpy()[0] == 10.0  # naive
    # No faithful spelling through the `//` operator: it is refused, the site stays NumPy.
    assert refused("a // b", a=a, b=b)
    assert refused("np.floor_divide(a, b)", a=a, b=b)
    assert refused("np.divmod(a, b)", a=a, b=b)


def test_astype_int_truncates_toward_zero(tf):
    a = np.array([-1.0, 1.0, -3.0, 3.0])
    got, want, _ = rewrite(tf, "(a * 1.5).astype(np.int64)", a=a)
    assert same(got, want) and list(want) == [-1, 1, -4, 4]
    naive = tf.cast(tf.floor(tf.constant(a) * 1.5), tf.int64).numpy()
    assert not np.array_equal(naive, want)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_small_int_true_division_is_float64(tf, dtype):
    a, b = np.array([1, 2, 100], dtype), np.array([3, 3, 7], dtype)
    got, want, _ = rewrite(tf, "a / b", a=a, b=b)
    assert want.dtype == np.float64 and same(got, want)
    naive = tf.constant(a) / tf.constant(b)
    assert naive.dtype == tf.float32 and not np.array_equal(naive.numpy(), want)


def test_python_float_is_weak_but_a_float64_array_is_not(tf):
    a = np.array([1.0, 3.0, 7.0], np.float32)
    got, want, _ = rewrite(tf, "a * 0.1", a=a)
    assert want.dtype == np.float32 and same(got, want)
    naive = tf.cast(a, tf.float64) * 0.1  # treating 0.1 as NumPy's default float64
    assert naive.dtype != tf.float32
    b = np.array(0.1)  # float64, 0-d: strong under NEP 50
    got, want, _ = rewrite(tf, "a * b", a=a, b=b)
    assert want.dtype == np.float64 and same(got, want)
    with pytest.raises(Exception):
        tf.constant(a) * tf.constant(b)  # naive: TF refuses to mix the dtypes


def test_bool_arithmetic(tf):
    a, b = np.array([True, True, False]), np.array([True, False, False])
    assert np.array_equal(a + a, [True, True, False])  # bool + bool is logical or in NumPy
    with pytest.raises(Exception):
        tf.add(tf.constant(a), tf.constant(a))  # naive
    assert refused("a + a", a=a)
    assert refused("np.add(a, b)", a=a, b=b)
    got, want, _ = rewrite(tf, "np.multiply(a, b)", a=a, b=b)  # logical and
    assert same(got, want)
    with pytest.raises(Exception):
        tf.multiply(tf.constant(a), tf.constant(b))
    got, want, _ = rewrite(tf, "np.bitwise_xor(a, b)", a=a, b=b)
    assert same(got, want)
    with pytest.raises(Exception):
        tf.bitwise.bitwise_xor(tf.constant(a), tf.constant(b))
    got, want, _ = rewrite(tf, "np.maximum(a, b)", a=a, b=b)
    assert same(got, want)
    with pytest.raises(Exception):
        tf.maximum(tf.constant(a), tf.constant(b))
    # `a < b` on bools would be spliced as a TF comparison, which has no bool kernel: refused.
    with pytest.raises(Exception):
        tf.constant(a) < tf.constant(b)
    assert refused("a < b", a=a, b=b)


def test_int32_plus_float32_is_float64(tf):
    a, b = np.array([16777217, 3], np.int32), np.array([0.0, 0.5], np.float32)
    got, want, _ = rewrite(tf, "a + b", a=a, b=b)
    assert want.dtype == np.float64 and same(got, want)
    naive = (tf.cast(a, tf.float32) + tf.constant(b)).numpy()
    assert not np.array_equal(naive, want)


def test_abs_of_int8_minimum_wraps_and_uint8(tf):
    a = np.array([-128, -5, 7], np.int8)
    got, want, _ = rewrite(tf, "np.abs(a)", a=a)
    assert same(got, want) and want[0] == -128
    assert np.array_equal(tf.abs(tf.constant(a)).numpy(), want)  # TF wraps the same way
    u = np.array([0, 200, 255], np.uint8)
    got, want, _ = rewrite(tf, "abs(u)", u=u)
    assert same(got, want)
    with pytest.raises(Exception):
        tf.abs(tf.constant(u))  # naive: no uint8 kernel


def test_fmod_takes_the_dividend_sign_remainder_the_divisor(tf):
    a, b = np.array([-7.5, 7.5, -7, 7]), np.array([2.0, -2.0, 2, -2])
    got, want, _ = rewrite(tf, "np.fmod(a, b)", a=a, b=b)
    assert same(got, want) and list(want) == [-1.5, 1.5, -1, 1]
    assert not np.array_equal(tf.math.floormod(tf.constant(a), tf.constant(b)).numpy(), want)
    got, want, _ = rewrite(tf, "np.remainder(a, b)", a=a, b=b)
    assert same(got, want)
    assert not np.array_equal(tf.truncatemod(tf.constant(a), tf.constant(b)).numpy(), want)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nan_to_num_defaults_are_the_largest_finite(tf, dtype):
    a = np.array([np.nan, np.inf, -np.inf, 1.5], dtype)
    got, want, _ = rewrite(tf, "np.nan_to_num(a)", a=a)
    assert same(got, want) and want[1] == np.finfo(dtype).max
    x = tf.constant(a)
    naive = tf.where(tf.math.is_nan(x), tf.zeros_like(x), x).numpy()  # NaN only
    assert not np.array_equal(naive, want)


def test_log2_log10_cbrt_exact_at_integers(tf):
    powers2 = 2.0 ** np.arange(-60, 60)
    got, want, _ = rewrite(tf, "np.log2(a)", a=powers2)
    assert same(got, want) and np.array_equal(want, np.arange(-60, 60))
    naive = (tf.math.log(tf.constant(powers2)) / np.log(2)).numpy()
    assert not np.array_equal(naive, want)
    powers10 = 10.0 ** np.arange(0, 23)
    got, want, _ = rewrite(tf, "np.log10(a)", a=powers10)
    assert same(got, want)
    assert not np.array_equal((tf.math.log(tf.constant(powers10)) / np.log(10)).numpy(), want)
    cubes = np.arange(-20, 21).astype(np.float64) ** 3
    got, want, _ = rewrite(tf, "np.cbrt(a)", a=cubes)
    assert same(got, want)
    x = tf.constant(cubes)
    assert not np.array_equal((tf.sign(x) * tf.pow(tf.abs(x), 1 / 3)).numpy(), want)


def test_clip_of_unsigned_with_a_negative_bound(tf):
    a = np.array([0, 1, 5, 255], np.uint8)
    got, want, _ = rewrite(tf, "np.clip(a, -1, 3)", a=a)
    assert same(got, want) and list(want) == [0, 1, 3, 3]
    naive = tf.clip_by_value(tf.constant(a), tf.cast(-1, tf.uint8), tf.constant(3, tf.uint8)).numpy()
    assert not np.array_equal(naive, want)


def test_integer_power_to_a_negative_exponent_is_refused(tf):
    a = np.array([2, 3], np.int64)
    assert refused("np.power(a, -1)", a=a)
    assert refused("np.power(a, a)", a=a)
    got, want, _ = rewrite(tf, "np.power(a, 3)", a=a)
    assert same(got, want)


def test_hypot_does_not_overflow(tf):
    a, b = np.array([3e19, 1e-30], np.float32), np.array([4e19, 1e-30], np.float32)
    got, want, _ = rewrite(tf, "np.hypot(a, b)", a=a, b=b)
    assert same(got, want) and np.isfinite(want).all()
    x, y = tf.constant(a), tf.constant(b)
    naive = tf.sqrt(tf.square(x) + tf.square(y)).numpy()
    assert not np.array_equal(naive, want)
    assert refused("np.hypot(a, b)", a=a.astype(np.float64), b=b.astype(np.float64))


def test_logaddexp_of_equal_infinities(tf):
    a = np.array([-np.inf, np.inf, 1000.0, 0.0])
    b = np.array([-np.inf, np.inf, 1000.0, -40.0])
    got, want, _ = rewrite(tf, "np.logaddexp(a, b)", a=a, b=b)
    assert same(got, want)
    x, y = tf.constant(a), tf.constant(b)
    naive = (tf.maximum(x, y) + tf.math.log1p(tf.exp(-tf.abs(x - y)))).numpy()
    assert not np.array_equal(naive, want, equal_nan=True)


def test_fmax_ignores_nan_maximum_propagates_it(tf):
    a, b = np.array([np.nan, 1.0, np.nan]), np.array([2.0, np.nan, np.nan])
    got, want, _ = rewrite(tf, "np.fmax(a, b)", a=a, b=b)
    assert same(got, want) and list(want[:2]) == [2.0, 1.0]
    assert not np.array_equal(tf.maximum(tf.constant(a), tf.constant(b)).numpy(), want, equal_nan=True)
    got, want, _ = rewrite(tf, "np.maximum(a, b)", a=a, b=b)
    assert same(got, want) and np.isnan(want).all()


def test_signbit_and_copysign_see_negative_zero(tf):
    a = np.array([-0.0, 0.0, -1.0, 2.0])
    got, want, _ = rewrite(tf, "np.signbit(a)", a=a)
    assert same(got, want) and list(want) == [True, False, True, False]
    assert not np.array_equal(tf.less(tf.constant(a), 0).numpy(), want)  # naive: x < 0
    ones = np.ones(4)
    got, want, _ = rewrite(tf, "np.copysign(b, a)", a=a, b=ones)
    assert same(got, want) and list(want) == [-1.0, 1.0, -1.0, 1.0]
    assert not np.array_equal((tf.sign(tf.constant(a)) * ones).numpy(), want)


def test_heaviside_and_sinc_at_zero_and_nan(tf):
    a = np.array([-1.0, 0.0, 2.0, np.nan])
    got, want, _ = rewrite(tf, "np.heaviside(a, 0.5)", a=a)
    assert same(got, want)
    naive = tf.where(tf.constant(a) < 0, 0.0, tf.where(tf.constant(a) > 0, 1.0, 0.5)).numpy()
    assert not np.array_equal(naive, want, equal_nan=True)  # NaN became 0.5
    got, want, _ = rewrite(tf, "np.sinc(a)", a=a)
    assert same(got, want) and want[1] == 1.0
    y = tf.constant(a) * np.pi
    assert not np.array_equal((tf.sin(y) / y).numpy(), want, equal_nan=True)  # 0/0 at zero


def test_angle_of_negative_zero_and_integers(tf):
    a = np.array([-1.0, -0.0, 0.0, 3.0, np.nan])
    got, want, _ = rewrite(tf, "np.angle(a)", a=a)
    assert same(got, want) and want[1] == np.pi
    assert not np.array_equal(tf.math.angle(tf.constant(a)).numpy(), want, equal_nan=True)
    i = np.array([-3, 0, 4], np.int8)
    got, want, _ = rewrite(tf, "np.angle(a)", a=i)
    assert same(got, want) and want.dtype == np.float16


def test_modf_of_infinity(tf):
    a = np.array([-2.5, 3.25, np.inf, -np.inf])
    got, want, _ = rewrite(tf, "np.modf(a)", a=a)
    assert all(same(g, w) for g, w in zip(got, want))
    x = tf.constant(a)
    whole = tf.sign(x) * tf.floor(tf.abs(x))
    assert not np.array_equal((x - whole).numpy(), want[0], equal_nan=True)  # inf - inf


def test_isclose_is_asymmetric_and_allclose(tf):
    # The tolerance scales with |b| only: 1 + 1.000005e-5 is within rtol of itself, not of 1.
    a, b = np.array([1.0, 2.0, np.nan]), np.array([1.0 + 1.000005e-5, 2.0, np.nan])
    got, want, _ = rewrite(tf, "np.isclose(a, b, atol=0.0, equal_nan=True)", a=a, b=b)
    assert same(got, want) and list(want) == [True, True, True]
    x, y = tf.constant(a), tf.constant(b)
    naive = (tf.abs(x - y) <= 1e-5 * tf.abs(x)).numpy()  # tolerance from a, NaN never equal
    assert not np.array_equal(naive, want)
    got, want, _ = rewrite(tf, "np.allclose(a, b, atol=0.0)", a=a[:2], b=b[:2])
    assert bool(got) is want is True
    assert not bool(tf.reduce_all(tf.abs(x[:2] - y[:2]) <= 1e-5 * tf.abs(x[:2])))


@pytest.mark.parametrize("expression", ["~(a < -1)", "np.logical_not(a < -1)", "np.invert(a >= b)",
                                        "np.logical_not(a)"])
def test_negated_comparisons_keep_nan_semantics_once_traced(tf, expression):
    # Grappler rewrites tf.logical_not(x < y) into x >= y inside graphs: False where NumPy's
    # ~(x < y) is True for a NaN.
    a = np.array([np.nan, 0.0, -2.0, 1.0])
    b = np.array([1.0, np.nan, -3.0, 1.0])
    source = f"import numpy as np\n\n\ndef f(a, b):\n    return {expression}\n"
    converted = convert_function(source, "f", {"a": F.array("float64", 1, fresh=False),
                                               "b": F.array("float64", 1, fresh=False)})
    namespace = {"tf": tf}
    exec(converted.text, namespace)
    traced = tf.function(namespace["f"], input_signature=[tf.TensorSpec([None], tf.float64)] * 2)
    original = {"np": np}
    exec(source, original)
    np.testing.assert_array_equal(traced(tf.constant(a), tf.constant(b)).numpy(), original["f"](a, b))
    naive = tf.function(lambda x: tf.logical_not(x < -1), input_signature=[tf.TensorSpec([None], tf.float64)])
    assert not naive(tf.constant(a)).numpy()[0]  # the rewrite the check guards against
