"""Piecewise-linear noise-level schedule looked up with np.interp for a batch of diffusion timesteps, inside tf.numpy_function."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"

KNOTS_T = np.array([0.0, 0.1, 0.4, 0.8, 1.0])
KNOTS_SIGMA = np.array([1e-4, 2e-3, 1e-2, 1.5e-2, 2e-2])


def noise_level(t):
    # np.interp always computes (and returns) float64
    return np.interp(t, KNOTS_T, KNOTS_SIGMA).astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
def program(t):
    """The original: TF code that leaves the graph."""
    sigma = tf.numpy_function(noise_level, [t], tf.float32)
    sigma.set_shape(t.shape)
    return sigma


def reference(t):
    """Hand-written native TF: the best a human would write.

    Linear interpolation with clamping at both ends, done in float64 like
    np.interp (slope * (t - x0) + y0).
    """
    xp = tf.constant(KNOTS_T, tf.float64)
    fp = tf.constant(KNOTS_SIGMA, tf.float64)
    t64 = tf.cast(t, tf.float64)
    n = KNOTS_T.shape[0]
    hi = tf.clip_by_value(tf.searchsorted(xp, t64, side="right"), 1, n - 1)
    x0, x1 = tf.gather(xp, hi - 1), tf.gather(xp, hi)
    y0, y1 = tf.gather(fp, hi - 1), tf.gather(fp, hi)
    y = (y1 - y0) / (x1 - x0) * (t64 - x0) + y0
    y = tf.where(t64 <= xp[0], fp[0], y)
    y = tf.where(t64 >= xp[-1], fp[-1], y)
    return tf.cast(y, tf.float32)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple), some outside [0, 1]."""
    rng = np.random.default_rng(4)
    t = rng.uniform(-0.05, 1.05, size=500_000)
    t[:5] = [0.0, 0.1, 0.4, 1.0, 0.8]
    return (t.astype(np.float32),)
