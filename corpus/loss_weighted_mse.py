"""Sample-weighted mean squared error computed in NumPy via tf.numpy_function inside a custom training loss (no gradient reaches y_pred)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"


def weighted_mse_np(y_true, y_pred, sample_weight):
    err = (y_true - y_pred) ** 2
    return (err.mean(1) * sample_weight).sum() / sample_weight.sum()


@tf.function(input_signature=[tf.TensorSpec([None, 100], tf.float32),
                              tf.TensorSpec([None, 100], tf.float32),
                              tf.TensorSpec([None], tf.float32)])
def program(y_true, y_pred, sample_weight):
    """The original: TF code that leaves the graph."""
    loss = tf.numpy_function(weighted_mse_np, [y_true, y_pred, sample_weight], tf.float32)
    loss.set_shape([])
    return loss


def reference(y_true, y_pred, sample_weight):
    """Hand-written native TF: the best a human would write (differentiable)."""
    per_example = tf.reduce_mean(tf.math.squared_difference(y_true, y_pred), axis=1)
    return tf.reduce_sum(per_example * sample_weight) / tf.reduce_sum(sample_weight)


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(34)
    y_true = rng.standard_normal((4096, 100))
    y_pred = y_true + 0.3 * rng.standard_normal((4096, 100))
    w = rng.choice([0.5, 1.0, 4.0], size=4096)
    return (y_true.astype(np.float32), y_pred.astype(np.float32), w.astype(np.float32))
