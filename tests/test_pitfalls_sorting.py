"""Pitfalls of sorting, searching, counting and creation: each test runs the rewrite on
inputs that expose the pitfall, compares with NumPy, and shows that the naive TF mapping
gives a different answer there (so simplifying a pattern to it fails the test)."""
import numpy as np
from rewrite_and_run import rewrite_and_run



def _rewrite(tf, expression, **arrays):
    return rewrite_and_run(tf, expression, **arrays)


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


def test_unique_is_sorted(tf):
    a = np.array([3, 1, 2, 1, 3, 0], np.int64)
    got, want, _ = _rewrite(tf, "np.unique(a)", a=a)
    _same(got, want)
    naive = tf.unique(tf.constant(a)).y.numpy()  # first-appearance order
    assert not np.array_equal(naive, want)


def test_unique_counts_follow_sorted_values(tf):
    a = np.array([2.0, np.nan, -1.0, 2.0, np.nan, 5.0])
    (values, counts), (want_values, want_counts), _ = _rewrite(tf, "np.unique(a, return_counts=True)", a=a)
    np.testing.assert_array_equal(values.numpy(), want_values)  # NaNs collapse into one, last
    _same(counts, want_counts)
    naive = tf.unique_with_counts(tf.constant(a))
    assert naive.y.shape[0] != want_values.shape[0] or not np.array_equal(naive.count.numpy(), want_counts)


def test_argsort_stable_keeps_ties_in_order(tf):
    a = np.array([2, 1, 2, 1, 2, 1, 0, 2] * 3, np.int32)
    got, want, _ = _rewrite(tf, "np.argsort(a, kind='stable')", a=a)
    _same(got, want)
    naive = tf.argsort(tf.constant(a), stable=False).numpy()
    naive_descending_reversed = tf.reverse(tf.argsort(tf.constant(a), direction="DESCENDING", stable=True), [0]).numpy()
    assert naive.dtype != want.dtype  # int32 where NumPy gives int64
    assert not np.array_equal(naive_descending_reversed, want)


def test_sort_puts_nan_last(tf):
    a = np.array([3.0, np.nan, 1.0, -np.inf, np.nan, 2.0, np.inf])
    got, want, _ = _rewrite(tf, "np.sort(a)", a=a)
    np.testing.assert_array_equal(got.numpy(), want)
    naive = tf.sort(tf.constant(a)).numpy()
    assert not np.array_equal(naive, want, equal_nan=True)


def test_argsort_puts_nan_last(tf):
    a = np.array([np.nan, np.inf, 1.0, np.nan, -0.0, 0.0, -np.inf])
    got, want, _ = _rewrite(tf, "np.argsort(a, kind='stable')", a=a)
    _same(got, want)
    naive = tf.argsort(tf.constant(a), stable=True).numpy()
    assert not np.array_equal(naive, want)


def test_searchsorted_side_right(tf):
    a = np.array([1, 2, 2, 2, 5], np.int64)
    v = np.array([2, 5, 0], np.int64)
    got, want, _ = _rewrite(tf, "np.searchsorted(a, v, side='right')", a=a, v=v)
    _same(got, want)
    naive = tf.searchsorted(tf.constant(a), tf.constant(v)).numpy()  # TF's default side is 'left'
    assert not np.array_equal(naive, want)


def test_searchsorted_compares_python_float_as_float64(tf):
    a = np.array([np.float32(0.1), np.float32(0.5)], np.float32)
    got, want, _ = _rewrite(tf, "np.searchsorted(a, 0.1, side='right')", a=a)
    _same(got, want)
    naive = tf.searchsorted(tf.constant(a), tf.constant([0.1], tf.float32), side="right").numpy()[0]
    assert naive != want


def test_digitize_right_flag(tf):
    x = np.array([0.0, 1.0, 1.5, 2.0, 3.0])
    bins = np.array([0.0, 1.0, 2.0])
    for right in (False, True):
        got, want, _ = _rewrite(tf, f"np.digitize(x, bins, right={right})", x=x, bins=bins)
        _same(got, want)
        naive = tf.searchsorted(tf.constant(bins), tf.constant(x), side="right" if right else "left").numpy()
        assert not np.array_equal(naive, want)


def test_digitize_decreasing_bins(tf):
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0])
    for expression in ("np.digitize(x, [2.0, 1.0, 0.0])", "np.digitize(x, bins)"):
        got, want, _ = _rewrite(tf, expression, x=x, bins=np.array([2.0, 1.0, 0.0]))
        _same(got, want)
        naive = tf.searchsorted(tf.constant([2.0, 1.0, 0.0], tf.float64), tf.constant(x), side="right").numpy()
        assert not np.array_equal(naive, want)


def test_histogram_drops_outside_and_closes_last_bin(tf):
    a = np.array([-5.0, 0.0, 0.5, 1.0, 1.5, 2.0, 9.0])
    (counts, edges), (want_counts, want_edges), _ = _rewrite(tf, "np.histogram(a, bins=4, range=(0.0, 2.0))", a=a)
    _same(counts, want_counts)
    _same(edges, want_edges)
    naive = tf.histogram_fixed_width(tf.constant(a), [0.0, 2.0], nbins=4).numpy()
    assert not np.array_equal(naive, want_counts)


def test_interp_clamps_and_hits_knots_exactly(tf):
    x = np.array([-3.0, 0.0, 0.1, 0.3, 1.0, 2.0, 7.0])
    xp = np.array([0.0, 0.1, 0.3, 1.0])
    fp = np.array([1.0, 3.0, -2.0, 0.7])
    got, want, _ = _rewrite(tf, "np.interp(x, xp, fp)", x=x, xp=xp, fp=fp)
    _same(got, want)  # exact, knots included
    got, want, _ = _rewrite(tf, "np.interp(x, xp, fp, left=-9.0, right=9.0)", x=x, xp=xp, fp=fp)
    _same(got, want)
    # Naive: tf.searchsorted + lerp without clamping extrapolates outside [xp[0], xp[-1]].
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    naive = fp[j] + (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]) * (x - xp[j])
    assert not np.array_equal(naive, want)


def test_take_wraps_negative_indices(tf):
    a = np.array([10, 20, 30, 40], np.int64)
    got, want, _ = _rewrite(tf, "np.take(a, [-1, 0, -4])", a=a)
    _same(got, want)
    try:
        naive = tf.gather(tf.constant(a), tf.constant([-1, 0, -4])).numpy()
    except Exception:  # TF rejects negative indices on CPU (and gives zeros on GPU)
        naive = None
    assert naive is None or not np.array_equal(naive, want)


def test_eye_row_of_negative_label_is_last_row(tf):
    labels = np.array([0, -1, 2], np.int64)
    got, want, _ = _rewrite(tf, "np.eye(4)[a]", a=labels)
    _same(got, want)
    naive = tf.one_hot(tf.constant(labels), 4, dtype=tf.float64).numpy()
    assert not np.array_equal(naive, want)


def test_arange_float_step_length(tf):
    for expression in ("np.arange(0, 1, 0.1)", "np.arange(10.1, 3.2, -0.3)", "np.arange(5, 0)"):
        got, want, text = _rewrite(tf, expression)
        _same(got, want)
    # tf.range's own float values differ from NumPy's start + i * (dtype(start + step) - start):
    naive = tf.range(10.1, 3.2, -0.3, dtype=tf.float64).numpy()
    assert not np.array_equal(naive, np.arange(10.1, 3.2, -0.3))


def test_linspace_endpoint_false_and_single_sample(tf):
    got, want, _ = _rewrite(tf, "np.linspace(0.0, 1.0, 5, endpoint=False)")
    _same(got, want)
    naive = tf.linspace(0.0, 1.0, 5).numpy()
    assert not np.allclose(naive, want)
    got, want, _ = _rewrite(tf, "np.linspace(2.0, 3.0, 1)")
    _same(got, want)


def test_eye_with_offset(tf):
    got, want, _ = _rewrite(tf, "np.eye(3, 4, k=1)")
    _same(got, want)
    assert not np.array_equal(tf.eye(3, 4, dtype=tf.float64).numpy(), want)


def test_scalar_type_call_is_a_cast(tf):
    a = np.array([2.7, -2.7, 0.5])
    got, want, text = _rewrite(tf, "np.int64(a)", a=a)
    _same(got, want)
    assert "tf.cast" in text
    naive = tf.round(tf.constant(a)).numpy().astype(np.int64)  # rounding is not NumPy's truncation
    assert not np.array_equal(naive, want)
