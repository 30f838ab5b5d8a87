"""Robust intensity normalisation of an MRI volume (clip to the 0.5/99.5 percentiles, rescale to [0, 1]) with a nested-def tf.numpy_function target."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

LOW_PCT, HIGH_PCT = 0.5, 99.5


@tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.float32)])
def program(volume):
    """The original: TF code that leaves the graph."""

    def clip_to_percentiles(vol):
        # a list of percentiles gives float64 bounds, so the clip runs in float64
        lo, hi = np.percentile(vol, [LOW_PCT, HIGH_PCT])
        vol = np.clip(vol, lo, hi)
        return ((vol - lo) / (hi - lo)).astype(np.float32)

    out = tf.numpy_function(clip_to_percentiles, [volume], tf.float32)
    out.set_shape(volume.shape)
    return out


def _percentile(sorted_vals, pct):
    """NumPy's default ('linear') percentile on an ascending float32 vector, in float64."""
    n = tf.shape(sorted_vals, out_type=tf.int64)[0]
    q = tf.constant(pct, tf.float64) / 100.0
    idx = tf.cast(n - 1, tf.float64) * q
    below = tf.floor(idx)
    gamma = idx - below
    i0 = tf.cast(below, tf.int64)
    i1 = tf.minimum(i0 + 1, n - 1)
    a = tf.gather(sorted_vals, i0)
    b = tf.gather(sorted_vals, i1)
    diff = tf.cast(b - a, tf.float64)          # NumPy subtracts in the input dtype
    a, b = tf.cast(a, tf.float64), tf.cast(b, tf.float64)
    return tf.where(gamma >= 0.5, b - diff * (1.0 - gamma), a + diff * gamma)


def reference(volume):
    """Hand-written native TF: the best a human would write (sort + NumPy's lerp rule)."""
    sorted_vals = tf.sort(tf.reshape(volume, [-1]))
    lo = _percentile(sorted_vals, LOW_PCT)
    hi = _percentile(sorted_vals, HIGH_PCT)
    vol = tf.clip_by_value(tf.cast(volume, tf.float64), lo, hi)
    return tf.cast((vol - lo) / (hi - lo), tf.float32)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): a 32x128x128 volume with bright outliers."""
    rng = np.random.default_rng(14)
    vol = rng.gamma(2.0, 150.0, size=(32, 128, 128))
    vol[rng.random(vol.shape) < 0.001] = 5000.0
    return (vol.astype(np.float32),)
