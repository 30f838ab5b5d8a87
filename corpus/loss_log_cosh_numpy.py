"""A Keras-style custom log-cosh regression loss computed in NumPy through tf.numpy_function (no gradient flows: the native version must be differentiable)."""
import numpy as np
import tensorflow as tf

EXPECTED_STATUS = "converted"
SHAPE = "loss"


def log_cosh_np(y_true, y_pred):
    d = np.abs(y_pred - y_true)
    # np.log(2.0) is a float64 NumPy scalar: NumPy 2 promotes the whole
    # expression to float64, so the mean is cast back for Tout=float32
    per_elem = d + np.log1p(np.exp(-2.0 * d)) - np.log(2.0)
    return np.float32(per_elem.mean())


def log_cosh_loss(y_true, y_pred):
    loss = tf.numpy_function(log_cosh_np, [y_true, y_pred], tf.float32)
    loss.set_shape([])
    return loss


@tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32),
                              tf.TensorSpec([None, 64], tf.float32)])
def program(y_true, y_pred):
    """The original: TF code that leaves the graph (and blocks gradients)."""
    return log_cosh_loss(y_true, y_pred)


def reference(y_true, y_pred):
    """Hand-written native TF: the best a human would write (differentiable)."""
    d = tf.abs(y_pred - y_true)
    return tf.reduce_mean(d + tf.math.softplus(-2.0 * d) - tf.math.log(2.0))


def sample_inputs():
    """Deterministic inputs for program and reference (a tuple)."""
    rng = np.random.default_rng(30)
    y_true = rng.standard_normal((4096, 64))
    y_pred = y_true + rng.standard_normal((4096, 64)) * 1.5
    return (y_true.astype(np.float32), y_pred.astype(np.float32))
