"""log1p transform and clipping of raw count features in a tf.py_function that calls .numpy() (single-cell / count-data pipeline)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "py_function"

N_GENES = 2000


def log_counts(counts):
    x = counts.numpy()
    return np.clip(np.log1p(x), 0.0, 8.0)


@tf.function(input_signature=[tf.TensorSpec([None, N_GENES], tf.float32)])
def program(counts):
    """The original: TF code that leaves the graph."""
    out = tf.py_function(func=log_counts, inp=[counts], Tout=tf.float32)
    out.set_shape([None, N_GENES])
    return out


def reference(counts):
    """Hand-written native TF: the best a human would write."""
    return tf.clip_by_value(tf.math.log1p(counts), 0.0, 8.0)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple): overdispersed counts."""
    rng = np.random.default_rng(10)
    counts = rng.poisson(rng.gamma(0.3, 300.0, size=(256, N_GENES)))
    return (counts.astype(np.float32),)
