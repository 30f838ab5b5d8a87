"""Per-row feature standardisation (mean/std with keepdims) wrapped in tf.numpy_function, as in tabular/embedding input pipelines."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "numpy_function"


def standardize_rows(x):
    mu = x.mean(axis=1, keepdims=True)
    sd = x.std(axis=1, keepdims=True)
    return ((x - mu) / (sd + 1e-6)).astype(np.float32)


@tf.function(input_signature=[tf.TensorSpec([None, 128], tf.float32)])
def program(x):
    """The original: TF code that leaves the graph."""
    y = tf.numpy_function(standardize_rows, [x], tf.float32)
    y.set_shape([None, 128])
    return y


def reference(x):
    """Hand-written native TF: the best a human would write."""
    mu = tf.reduce_mean(x, axis=1, keepdims=True)
    sd = tf.math.reduce_std(x, axis=1, keepdims=True)
    return (x - mu) / (sd + 1e-6)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple).

    Features are quantised to multiples of 1/256 (like 8-bit fixed-point
    sensor data), so the row sums are exact in float32 whatever the
    summation order and (x - mean) agrees bit for bit between NumPy and TF.
    """
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((2048, 128)) * 256.0) / 256.0
    return (x.astype(np.float32),)
