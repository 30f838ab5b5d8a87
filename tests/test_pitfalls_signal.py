"""Pitfalls of window functions and framing: each test runs the rewrite on inputs that expose
the pitfall, compares with NumPy, and shows that the naive TF mapping gives a different answer
there (so simplifying a pattern to it fails the test)."""
import numpy as np
import pytest

from rewriter import facts as F
from rewrite_and_run import rewrite_and_run
from rewriter.function import Refusal, convert_function


def _rewrite(tf, expression, **arrays):
    """(rewrite's result, NumPy's, TF text) as arrays."""
    got, want, text = rewrite_and_run(tf, expression, **arrays)
    return np.asarray(got), np.asarray(want), text


def _relative(got, want):
    return float(np.max(np.abs(np.asarray(got, np.float64) - want) / np.maximum(np.abs(want), 1e-300)))


@pytest.mark.parametrize("how", ["constant", "tensor"])
def test_hanning_is_float64_not_float32(tf, how):
    """tf.signal.hann_window(M, periodic=False) is float32 by default: ~7e-5 relative off
    near the edges for M=400 (more for larger M). The rewrite is float64 from NumPy's formula."""
    frames = np.zeros((2, 400))
    expression = "np.hanning(400)" if how == "constant" else "np.hanning(frames.shape[-1])"
    got, want, text = _rewrite(tf, expression, frames=frames)
    assert got.dtype == want.dtype == np.float64
    assert "hann_window" not in text
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    naive = tf.signal.hann_window(400, periodic=False).numpy()
    assert naive.dtype == np.float32
    assert _relative(naive[1:-1], want[1:-1]) > 1e-5


def test_hanning_is_symmetric_not_periodic(tf):
    """TF's windows are periodic by default (the window of M + 1 points without its last one);
    NumPy's are symmetric: the two differ everywhere but at the first point."""
    x = np.zeros(16)
    got, want, _ = _rewrite(tf, "np.hanning(x.size)", x=x)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16)
    assert want[-1] == 0.0 and want[0] == 0.0  # symmetric: zero at both ends
    naive = tf.signal.hann_window(16, dtype=tf.float64).numpy()
    assert naive[-1] > 0.03
    assert np.max(np.abs(naive - want)) > 0.01


def test_kaiser_matches_numpy_not_tf_kaiser_window(tf):
    """tf.signal.kaiser_window uses another Bessel evaluation: ~1e-8 off NumPy's kaiser."""
    x = np.zeros(7)
    got, want, _ = _rewrite(tf, "np.kaiser(x.shape[0], 8.6)", x=x)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16)
    naive = tf.signal.kaiser_window(7, 8.6, dtype=tf.float64).numpy()
    assert np.max(np.abs(naive - want)) > 1e-9


@pytest.mark.parametrize("name", ["hanning", "hamming", "blackman", "bartlett", "kaiser"])
def test_window_of_one_point_is_exactly_one(tf, name):
    """M == 1: NumPy returns exactly [1.0]. The formula divides 0 by M - 1 = 0 (NaN), and
    blackman's 0.42 + 0.5 + 0.08 rounds to 1 - 2**-53; the length here is a tensor."""
    x = np.zeros(1)
    args = "x.shape[0], 5.0" if name == "kaiser" else "x.shape[0]"
    got, want, _ = _rewrite(tf, f"np.{name}({args})", x=x)
    assert want.tolist() == [1.0]
    assert got.dtype == np.float64 and got.tolist() == [1.0]
    m = tf.constant(1.0, tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)  # NumPy's n = arange(1 - M, M, 2)
    naive = {
        "hanning": 0.5 + 0.5 * tf.cos(np.pi * n / (m - 1.0)),
        "hamming": 0.54 + 0.46 * tf.cos(np.pi * n / (m - 1.0)),
        "blackman": 0.42 + 0.5 * tf.cos(np.pi * n / tf.maximum(m - 1.0, 1.0))
                    + 0.08 * tf.cos(2.0 * np.pi * n / tf.maximum(m - 1.0, 1.0)),
        "bartlett": tf.where(n <= 0.0, 1.0 + n / (m - 1.0), 1.0 - n / (m - 1.0)),
        "kaiser": tf.math.bessel_i0(5.0 * tf.sqrt(1.0 - tf.square((tf.range(m) - (m - 1.0) / 2.0)
                                                                   / ((m - 1.0) / 2.0))))
                  / tf.math.bessel_i0(tf.constant(5.0, tf.float64)),
    }[name].numpy()
    assert naive.tolist() != [1.0]  # NaN, or 0.9999999999999999 for blackman


@pytest.mark.parametrize("length", [0, -3])
def test_window_of_no_points_is_empty(tf, length):
    """M < 1 gives an empty window; tf.range(M) with M < 0 raises."""
    x = np.full((), length, np.int64)
    got, want, _ = _rewrite(tf, "np.hanning(x)", x=x)
    assert got.shape == want.shape == (0,) and got.dtype == np.float64
    if length < 0:
        with pytest.raises(Exception):
            tf.range(tf.constant(length, tf.int64)).numpy()


def test_sliding_window_view_puts_window_axis_last(tf):
    """Windows along axis 0 of a 2-D array: NumPy appends the window axis, tf.signal.frame
    puts it right after the framed axis."""
    x = np.arange(12.0).reshape(4, 3)
    got, want, _ = _rewrite(tf, "np.lib.stride_tricks.sliding_window_view(x, 2, axis=0)", x=x)
    assert got.shape == want.shape == (3, 3, 2)
    np.testing.assert_array_equal(got, want)
    naive = tf.signal.frame(tf.constant(x), 2, 1, axis=0).numpy()
    assert naive.shape == (3, 2, 3)
    assert not np.array_equal(naive.reshape(-1), want.reshape(-1))


def test_sliding_window_view_imported_by_name(tf):
    """`from numpy.lib.stride_tricks import sliding_window_view` reaches the same pattern."""
    source = ("from numpy.lib.stride_tricks import sliding_window_view\n\n\n"
              "def f(x):\n    return sliding_window_view(x, 3)\n")
    converted = convert_function(source, "f", {"x": F.array("float32", 1, fresh=False)})
    namespace = {"tf": tf}
    exec(converted.text, namespace)
    x = np.arange(6, dtype=np.float32)
    got = namespace["f"](tf.constant(x)).numpy()
    np.testing.assert_array_equal(got, np.lib.stride_tricks.sliding_window_view(x, 3))


def test_strided_framing_is_refused_not_materialised(tf):
    """`sliding_window_view(x, w)[::hop]` is a view in NumPy; TF would build every step-1
    window (w times the input) and keep one in hop. Refused until the step is folded into
    tf.signal.frame(x, w, hop), which gives the same frames."""
    source = ("import numpy as np\n\n\ndef f(x):\n"
              "    return np.lib.stride_tricks.sliding_window_view(x, 4)[::3]\n")
    with pytest.raises(Refusal, match="step"):
        convert_function(source, "f", {"x": F.array("float64", 1, fresh=False)})
    x = np.arange(20.0)
    folded = tf.signal.frame(tf.constant(x), 4, 3).numpy()
    np.testing.assert_array_equal(folded, np.lib.stride_tricks.sliding_window_view(x, 4)[::3])


def test_sliding_window_view_is_a_view(tf):
    """The windows are a view of x in NumPy: an update of x after taking them shows through
    them, which a TF tensor cannot reproduce, so that update is refused; writeable=True too."""
    source = ("import numpy as np\n\n\ndef f(x):\n    x = x + 1.0\n"
              "    v = np.lib.stride_tricks.sliding_window_view(x, 2)\n    x[0] = 9.0\n    return v\n")
    x = np.zeros(4)
    namespace = {"np": np}
    exec(source, namespace)
    assert namespace["f"](x)[0, 0] == 9.0  # NumPy: the update reached the windows
    naive = tf.signal.frame(tf.constant(x + 1.0), 2, 1).numpy()
    assert naive[0, 0] == 1.0
    with pytest.raises(Refusal, match="shared"):
        convert_function(source, "f", {"x": F.array("float64", 1, fresh=False)})
    writeable = ("import numpy as np\n\n\ndef f(x):\n"
                 "    return np.lib.stride_tricks.sliding_window_view(x, 2, writeable=True)\n")
    with pytest.raises(Refusal, match="writeable"):
        convert_function(writeable, "f", {"x": F.array("float64", 1, fresh=False)})
