"""NumPy-exact TensorFlow for NumPy calls that take more than one expression to say.

A rewrite calls these by name (`np_hanning(m)`), so its call site reads like the NumPy it
replaces. `rewriter fix` copies each helper a file uses into that file, once, in one marked
block after its imports (see `helper_source.py`); the decorator and the pattern tests define
them next to the function they compile. This module is their one source: the text users get
is the text below, and the tests run these functions against NumPy itself.

Each helper only needs `tf`: no NumPy, no import of this package.
"""
import tensorflow as tf


def np_hanning(m):
    """np.hanning(m): NumPy's symmetric Hann window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)
    return tf.where(m > 1.0, 0.5 + 0.5 * tf.cos(3.141592653589793 * n / (m - 1.0)), 1.0)


def np_hamming(m):
    """np.hamming(m): NumPy's symmetric Hamming window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)
    return tf.where(m > 1.0, 0.54 + 0.46 * tf.cos(3.141592653589793 * n / (m - 1.0)), 1.0)


def np_blackman(m):
    """np.blackman(m): NumPy's symmetric Blackman window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)
    window = (0.42 + 0.5 * tf.cos(3.141592653589793 * n / (m - 1.0))
              + 0.08 * tf.cos(6.283185307179586 * n / (m - 1.0)))
    return tf.where(m > 1.0, window, 1.0)  # M == 1: exactly 1.0, where the formula rounds


def np_bartlett(m):
    """np.bartlett(m): NumPy's symmetric Bartlett (triangular) window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    n = tf.range(m) * 2.0 + (1.0 - m)
    return tf.where(m > 1.0, tf.where(n <= 0.0, 1.0 + n / (m - 1.0), 1.0 - n / (m - 1.0)), 1.0)


def np_kaiser(m, beta):
    """np.kaiser(m, beta): NumPy's Kaiser window of m points, in float64."""
    m = tf.cast(tf.maximum(m, 0), tf.float64)
    # a Python float straight to float64: tf.cast would round it through float32 first
    beta = tf.cast(beta, tf.float64) if tf.is_tensor(beta) else tf.constant(beta, tf.float64)
    ratio = (tf.range(m) - (m - 1.0) / 2.0) / ((m - 1.0) / 2.0)
    window = tf.math.bessel_i0(beta * tf.sqrt(1.0 - tf.square(ratio))) / tf.math.bessel_i0(beta)
    return tf.where(m > 1.0, window, 1.0)
