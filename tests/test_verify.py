"""Tests for rewriter.verification: wrong rewrites must be caught, right ones must pass."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from rewriter.verification import VerifyResult, verify, verify_distribution

# --------------------------------------------------------------------------
# wrong rewrites the verifier must catch
# --------------------------------------------------------------------------


def test_wrong_op_sin_vs_cos_fails_values_and_gradient():
    x = np.random.default_rng(0).standard_normal((6, 10))
    r = verify(np.sin, tf.cos, x)
    assert not r.ok and not r.values_ok
    assert r.grad_ok is False
    assert r.max_abs_err > 0.1
    text = str(r)
    assert "FAILED" in text
    assert "output 0: value mismatch" in text
    assert "trial 0 (example" in text


def test_std_ddof1_original_vs_reduce_std_fails_with_expected_error():
    x = np.random.default_rng(1).standard_normal((6, 10))
    r = verify(lambda a: np.std(a, axis=-1, ddof=1), lambda a: tf.math.reduce_std(a, axis=-1), x)
    assert not r.values_ok
    # the rewrite is smaller by sqrt((n-1)/n); n=10 in the example is the worst trial
    assert r.max_rel_err == pytest.approx(1 - math.sqrt(9 / 10), rel=1e-6)
    assert any("value mismatch" in f for f in r.failures)


def test_unique_vs_unsorted_tf_unique_fails_exactly():
    x = np.array([3, 1, 2, 3, 1, 5, 0])  # first-occurrence order differs from sorted order
    r = verify(np.unique, lambda a: tf.unique(a).y, x)
    assert not r.values_ok
    assert "exact comparison for int64" in str(r)
    assert "original 0, rewrite 3" in str(r)
    assert r.grad_ok is None and "integer" in r.grad_skipped


def test_stop_gradient_rewrite_fails_gradient_with_none_message():
    x = np.random.default_rng(2).standard_normal((4, 5))
    r = verify(np.sin, lambda a: tf.stop_gradient(tf.sin(a)), x)
    assert r.values_ok
    assert r.grad_ok is False and not r.ok
    assert any("is None" in f and "input 0" in f for f in r.failures)


def test_partial_stop_gradient_in_standardisation_fails_gradient():
    x = np.random.default_rng(3).standard_normal((8, 16))

    def original(a):
        return (a - a.mean(1, keepdims=True)) / a.std(1, keepdims=True)

    def rewrite(a):
        m, v = tf.nn.moments(a, axes=[1], keepdims=True)
        return (a - m) / tf.stop_gradient(tf.sqrt(v))

    r = verify(original, rewrite, x)
    assert r.values_ok
    assert r.grad_ok is False
    assert r.grad_err > 1e-3
    assert any("gradient mismatch for output 0 w.r.t. input 0" in f for f in r.failures)


def test_wrong_custom_gradient_fails():
    @tf.custom_gradient
    def bad_square(a):
        return a * a, lambda dy: dy * a  # should be 2 * a * dy

    x = np.random.default_rng(4).standard_normal(20)
    r = verify(np.square, bad_square, x)
    assert r.values_ok
    assert r.grad_ok is False
    assert r.grad_err > 0.1
    assert "gradient mismatch" in str(r)


def test_float64_original_computed_in_float32_fails_dtype():
    x = np.random.default_rng(5).standard_normal((5, 7))
    r = verify(np.exp, lambda a: tf.exp(tf.cast(a, tf.float32)), x)
    assert not r.values_ok
    assert any("dtype mismatch: original float64, rewrite float32" in f for f in r.failures)


def test_float32_computation_cast_back_to_float64_fails_values_unless_rtol_given():
    x = np.random.default_rng(6).standard_normal((5, 7))

    def rewrite(a):
        return tf.cast(tf.exp(tf.cast(a, tf.float32)), tf.float64)

    r = verify(np.exp, rewrite, x)
    assert not r.values_ok
    assert 1e-9 < r.max_rel_err < 1e-6  # float32 rounding, far above the float64 tolerance
    assert verify(np.exp, rewrite, x, rtol=1e-6).ok  # explicit tolerance overrides


def test_misplaced_nan_fails_with_position():
    x = np.array([-1.3, 0.0, 2.1, -3.2, 4.4])
    r = verify(lambda a: np.where(a < 0, np.nan, a), lambda a: tf.where(a <= 0, np.nan, a), x)
    assert not r.values_ok
    assert "NaN positions differ at 1 element(s): (1) original 0.0 rewrite nan" in str(r)


def test_inf_sign_mismatch_fails():
    x = np.array([0.0, 1.5, 2.5])
    r = verify(np.log, lambda a: -tf.math.log(1 / a), x, grad=False)
    assert r.values_ok  # -log(1/a) == log(a), and -log(inf) == -inf
    r = verify(np.log, lambda a: tf.abs(tf.math.log(a)), x, grad=False)
    assert not r.values_ok
    assert "inf positions/signs differ at 1 element(s): (0) original -inf rewrite inf" in str(r)


def test_wrong_output_order_of_two_outputs_fails_both():
    x = np.random.default_rng(7).standard_normal((6, 10))
    r = verify(
        lambda a: (a.min(axis=1), a.max(axis=1)),
        lambda a: (tf.reduce_max(a, axis=1), tf.reduce_min(a, axis=1)),
        x,
    )
    assert not r.values_ok
    assert any(f.startswith("output 0: value mismatch") for f in r.failures)
    assert any(f.startswith("output 1: value mismatch") for f in r.failures)


def test_output_count_mismatch_fails():
    x = np.arange(6.0) + 0.5
    r = verify(lambda a: (a.min(), a.max()), tf.reduce_min, x)
    assert not r.values_ok
    assert "output count mismatch: original returned 2 output(s), rewrite 1" in str(r)


def test_hard_coded_size_is_caught_by_resized_variant():
    x = np.random.default_rng(8).standard_normal((6, 4))
    r = verify(lambda a: a.sum(axis=0) / a.shape[0], lambda a: tf.reduce_sum(a, axis=0) / 6.0, x)
    assert not r.values_ok
    text = str(r)
    assert "resized" in text
    assert "trial 0" not in text  # the example alone passes


def test_naive_softplus_is_caught_by_large_magnitude_variant():
    x = np.random.default_rng(9).standard_normal(50)
    r = verify(lambda a: np.logaddexp(0, a), lambda a: tf.math.log(1 + tf.exp(a)), x)
    assert not r.values_ok
    assert "inf positions/signs differ" in str(r) and "large magnitudes" in str(r)


def test_int32_vs_int64_output_fails():
    x = np.random.default_rng(10).standard_normal((5, 6)).astype(np.float32)
    r = verify(lambda a: np.argmax(a, 1), lambda a: tf.argmax(a, 1, output_type=tf.int32), x)
    assert not r.values_ok
    assert "dtype mismatch: original int64, rewrite int32" in str(r)


def test_rewrite_that_raises_is_reported():
    x = np.ones((3, 3)) + 0.25
    r = verify(np.sin, lambda a: tf.matmul(a, tf.ones((2, 2), tf.float64)), x)
    assert not r.ok
    assert "rewrite raised" in str(r)


def test_randint_off_by_one_upper_bound_fails_distribution_check():
    def original():
        return np.random.randint(0, 10, size=2000)

    def int32_rewrite():
        return tf.random.uniform([2000], maxval=11, dtype=tf.int32)

    r = verify_distribution(original, int32_rewrite, n=20000)
    assert r.kind == "distribution" and not r.values_ok and not r.ok
    text = str(r)
    assert "support differs" in text and "rewrite range [0, 10]" in text
    assert "dtype mismatch: original int64, rewrite int32" in text

    # with the dtype right, the bound alone still fails
    r64 = verify_distribution(
        original, lambda: tf.random.uniform([2000], maxval=11, dtype=tf.int64), n=20000
    )
    assert not r64.values_ok
    assert any("support differs" in f for f in r64.failures)
    assert not any("dtype" in f for f in r64.failures)


def test_normal_vs_uniform_fails_ks():
    r = verify_distribution(
        lambda: np.random.normal(size=1000),
        lambda: tf.random.uniform([1000], -1.7, 1.7, dtype=tf.float64),
        n=20000,
    )
    assert not r.values_ok
    assert r.statistic > r.critical
    assert "KS statistic" in str(r)


# --------------------------------------------------------------------------
# right rewrites the verifier must pass
# --------------------------------------------------------------------------


def test_float32_reduce_sum_over_a_million_elements_passes():
    x = np.random.default_rng(11).standard_normal(10**6).astype(np.float32)
    r = verify(np.sum, tf.reduce_sum, x)
    assert r.ok, str(r)
    assert r.values_ok and r.grad_ok is True
    assert r.trials == 4


def test_softmax_float32_and_float64_pass():
    def softmax(a):
        e = np.exp(a - a.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    x = np.random.default_rng(12).standard_normal((8, 12))
    r64 = verify(softmax, tf.nn.softmax, x)
    assert r64.ok, str(r64)
    assert r64.max_rel_err < 1e-12 and r64.grad_err < 1e-6
    r32 = verify(softmax, tf.nn.softmax, x.astype(np.float32))
    assert r32.ok, str(r32)
    assert r32.grad_ok is True


def test_matmul_float64_passes_with_gradients_for_both_inputs():
    rng = np.random.default_rng(13)
    a, b = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    r = verify(np.matmul, tf.matmul, a, b)
    assert r.ok, str(r)
    assert r.trials == 4  # resized variants keep the shared inner dimension consistent
    assert r.grad_ok is True and r.grad_err < 1e-6
    assert r.grad_skipped is None


def test_two_output_function_passes():
    x = np.random.default_rng(14).standard_normal((6, 10))
    r = verify(
        lambda a: (a.min(axis=1), a.max(axis=1)),
        lambda a: (tf.reduce_min(a, axis=1), tf.reduce_max(a, axis=1)),
        x,
    )
    assert r.ok, str(r)
    assert r.grad_ok is True


def test_integer_outputs_pass_and_skip_gradient_explicitly():
    x = np.random.default_rng(15).standard_normal((5, 6))
    r = verify(lambda a: np.argmax(a, axis=1), lambda a: tf.argmax(a, axis=1), x)
    assert r.ok and r.values_ok
    assert r.grad_ok is None
    assert "output 0 (int64): integer/bool output" in r.grad_skipped


def test_integer_index_input_passes_and_is_skipped_for_gradient():
    rng = np.random.default_rng(16)
    params, idx = rng.standard_normal((10, 3)), np.array([0, 4, 9, 2])
    r = verify(lambda p, i: p[i], lambda p, i: tf.gather(p, i), params, idx)
    assert r.ok, str(r)
    assert r.trials == 4  # fresh indices stay below the original max + 1
    assert r.grad_ok is True
    assert "input 1 (int64): integer/bool input" in r.grad_skipped


def test_scalar_inputs_pass_python_scalar_constant_numpy_scalar_differentiated():
    x = np.random.default_rng(17).standard_normal((4, 5))
    r = verify(
        lambda a, s, p: s * np.sin(a) * p, lambda a, s, p: s * tf.sin(a) * p, x, 2.5, np.float64(3.0)
    )
    assert r.ok, str(r)
    assert "input 1 is a Python float (treated as a constant)" in r.grad_skipped
    # a rewrite that does not differentiate the NumPy scalar is caught
    bad = verify(
        lambda a, s, p: s * np.sin(a) * p,
        lambda a, s, p: s * tf.sin(a) * tf.stop_gradient(p),
        x,
        2.5,
        np.float64(3.0),
    )
    assert bad.grad_ok is False
    assert any("w.r.t. input 2 is None" in f for f in bad.failures)


def test_tensor_inputs_pass():
    x = tf.constant(np.random.default_rng(18).standard_normal((3, 4)))
    r = verify(np.tanh, tf.tanh, x)
    assert r.ok, str(r)
    assert r.grad_ok is True


def test_tf_function_rewrite_passes():
    x = np.random.default_rng(19).standard_normal((16, 8)).astype(np.float32)

    @tf.function
    def rewrite(a):
        m, v = tf.nn.moments(a, axes=[1], keepdims=True)
        return (a - m) / tf.sqrt(v)

    r = verify(lambda a: (a - a.mean(1, keepdims=True)) / a.std(1, keepdims=True), rewrite, x)
    assert r.ok, str(r)


def test_kinks_at_the_example_do_not_raise_false_alarms():
    x = np.array([-1.5, 0.0, 2.3, 0.0, 0.7])
    for original, rewrite in [
        (lambda a: np.maximum(a, 0), tf.nn.relu),
        (np.abs, tf.abs),
        (lambda a: np.clip(a, -1.0, 1.0), lambda a: tf.clip_by_value(a, -1.0, 1.0)),
    ]:
        r = verify(original, rewrite, x)
        assert r.ok and r.grad_ok is True, str(r)
    r = verify(np.sort, tf.sort, np.array([3.5, 1.2, 3.5, 2.1]))  # tie
    assert r.ok and r.grad_ok is True, str(r)


def test_variants_outside_the_domain_are_dropped_or_mapped():
    x = np.random.default_rng(20).uniform(0.5, 2.0, size=(4, 6))
    r = verify(np.log, tf.math.log, x)
    assert r.ok, str(r)
    assert r.trials == 4
    assert any("original returned NaN/inf" in n for n in r.notes)
    mapped = verify(np.log, tf.math.log, x, domain=lambda args: tuple(np.abs(a) + 0.1 for a in args))
    assert mapped.ok and mapped.trials == 4 and not mapped.notes


def test_device_is_reported_and_validated():
    x = np.linspace(-1, 1, 7)
    r = verify(np.sin, tf.sin, x)
    assert r.device.endswith("CPU:0") or "GPU" in r.device
    r_cpu = verify(np.sin, tf.sin, x, device="/CPU:0")
    assert r_cpu.device.endswith("device:CPU:0")
    assert "CPU:0" in str(r_cpu)
    with pytest.raises(ValueError, match="unknown device"):
        verify(np.sin, tf.sin, x, device="/TPU:3")


def test_grad_false_and_to_dict_is_json_ready():
    x = np.random.default_rng(21).standard_normal(5)
    r = verify(np.cos, tf.cos, x, grad=False, trials=2)
    assert isinstance(r, VerifyResult)
    assert r.ok and r.grad_ok is None and r.grad_skipped == "grad=False" and r.trials == 2
    d = r.to_dict()
    assert d["ok"] is True and d["values_ok"] is True
    json.dumps(d, allow_nan=False)
    with pytest.raises(Exception):
        r.values_ok = False  # frozen


def test_randint_and_normal_rewrites_pass_distribution_check():
    r = verify_distribution(
        lambda: np.random.randint(0, 10, size=2000),
        lambda: tf.random.uniform([2000], maxval=10, dtype=tf.int64),
        n=20000,
    )
    assert r.ok, str(r)
    assert r.values_ok and r.grad_ok is None and math.isnan(r.max_abs_err)
    assert "not a claim of numerical equality" in str(r)
    r = verify_distribution(
        lambda: np.random.normal(size=1000),
        lambda: tf.random.normal([1000], dtype=tf.float64),
        n=20000,
    )
    assert r.ok, str(r)
    assert r.statistic < r.critical
    json.dumps(r.to_dict(), allow_nan=False)
